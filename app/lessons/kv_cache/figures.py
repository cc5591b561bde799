"""Figures and tables of the KV-cache lesson: pure plotly / pandas, no Streamlit (testable alone)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from models.kv_cache.cache import BudgetResult

SINK_COLOUR, KEPT_COLOUR, DROPPED_COLOUR = "#d62728", "#1f77b4", "#f2f2f2"


def kept_frame(result: BudgetResult, layer: int, head: int, sinks: int) -> pd.DataFrame:
    """(steps × positions) of one layer and KV head: 0 dropped or not yet read, 1 kept, 2 a kept sink."""
    kept = result.kept[:, layer, head].numpy().astype(int)  # (steps, T)
    if sinks:
        kept[:, :sinks] *= 2
    return pd.DataFrame(kept, index=result.kept_steps)


def kept_heatmap(result: BudgetResult, layer: int, head: int, sinks: int) -> go.Figure:
    frame = kept_frame(result, layer, head, sinks)
    scale = [
        [0, DROPPED_COLOUR],
        [0.33, DROPPED_COLOUR],
        [0.34, KEPT_COLOUR],
        [0.66, KEPT_COLOUR],
        [0.67, SINK_COLOUR],
        [1, SINK_COLOUR],
    ]
    fig = go.Figure(
        go.Heatmap(
            z=frame.values,
            x=list(frame.columns),
            y=list(frame.index),
            zmin=0,
            zmax=2,
            colorscale=scale,
            showscale=False,
            hovertemplate="position %{x}<br>step ending at %{y}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{result.policy}: what layer {layer}, KV head {head} keeps (red: sink tokens)",
        xaxis_title="token position in the text",
        yaxis_title="decode step (last position read)",
        yaxis=dict(autorange="reversed"),
        height=420,
    )
    return fig


def survival(result: BudgetResult, layer: int, head: int) -> pd.DataFrame:
    """How many tokens after its arrival each position was still cached (at the recorded steps)."""
    kept = result.kept[:, layer, head].numpy()  # (steps, T)
    steps = np.asarray(result.kept_steps)
    length = kept.shape[1]
    last_seen = np.where(kept, steps[:, None], -1).max(axis=0)  # last step position that held it
    ends_run = last_seen >= steps[-1]  # still cached at the end of the text
    tokens = np.maximum(last_seen - np.arange(length), 0)
    return pd.DataFrame({"position": np.arange(length), "survived": tokens, "to the end": ends_run})


def survival_figure(frames: dict[str, pd.DataFrame]) -> go.Figure:
    fig = go.Figure()
    for name, frame in frames.items():
        fig.add_scatter(x=frame["position"], y=frame["survived"], mode="lines", name=name)
    fig.update_layout(
        title="How long each token stayed in the cache (tokens after it arrived)",
        xaxis_title="token position",
        yaxis_title="tokens survived",
        height=320,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def layer_budget_frame(budgets: dict[str, list[int]]) -> pd.DataFrame:
    """Layer budgets as a table: one column per PyramidKV run, one row per layer."""
    return pd.DataFrame(budgets).rename_axis("layer")


def layer_budget_figure(frame: pd.DataFrame, budget: int, title: str) -> go.Figure:
    """PyramidKV's budgets as bars; the equal split (SnapKV and every other policy) as one line, not 30 bars."""
    fig = go.Figure()
    for name in frame.columns:
        fig.add_bar(x=list(frame.index), y=frame[name], name=name, text=frame[name], textposition="outside")
    fig.add_hline(y=budget, line_dash="dash", annotation_text=f"every other policy: {budget} in each layer")
    fig.update_layout(
        title=title,
        xaxis_title="layer",
        yaxis_title="tokens kept per KV head",
        barmode="group",
        height=340,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def tail_perplexity(result: BudgetResult, start: int) -> float:
    """Perplexity of the tokens after position `start` (the decoded part of a prompt compressed at prefill)."""
    return float(np.exp(result.loss_per_position[start - 1 :].mean()))


def summary_table(results: dict[str, BudgetResult]) -> pd.DataFrame:
    """One row per run; with a prompt compressed at prefill, a column for the tokens decoded after it (the
    like-with-like comparison: there every run holds its cache to the budget, or the budget plus what it appended)."""
    full = next((r for name, r in results.items() if name == "Full cache"), None)
    prompt = max((r.prompt for r in results.values()), default=0)
    rows = []
    for name, r in results.items():
        row = {
            "run": name,
            "way": "at prefill" if r.prompt else ("none" if name == "Full cache" else "during decoding"),
            "perplexity": round(r.perplexity, 2),
            "× full cache": round(r.perplexity / full.perplexity, 3) if full else None,
        }
        if prompt:
            row[f"perplexity after token {prompt}"] = round(tail_perplexity(r, prompt), 2)
        row |= {
            "cache MB, peak": round(r.cache_bytes / 1e6, 3),
            "cache MB, end": round(r.final_cache_bytes / 1e6, 3),
            "decode tokens/s": round(r.tokens_per_second, 1),
            "note": r.note,
        }
        rows.append(row)
    return pd.DataFrame(rows)


def perplexity_bars(frame: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Bar(x=frame["run"], y=frame["perplexity"], text=frame["perplexity"], name="whole text"))
    tail = [c for c in frame.columns if c.startswith("perplexity after")]
    for column in tail:
        fig.add_bar(x=frame["run"], y=frame[column], text=frame[column], name=column.replace("perplexity ", ""))
    fig.update_layout(
        title="Perplexity of the text with the cache held to the budget (lower is better)",
        yaxis_title="perplexity",
        barmode="group",
        showlegend=bool(tail),
        height=340,
    )
    return fig


def rolling_frame(losses: dict[str, np.ndarray], width: int) -> pd.DataFrame:
    return pd.DataFrame(losses).rolling(width, min_periods=1).mean()


def first_view_figure(frame: pd.DataFrame, budget: int, width: int) -> go.Figure:
    """The full cache's loss along the text, before any budgeted run: where a budget starts to bite."""
    fig = go.Figure()
    for name in frame.columns:
        fig.add_scatter(x=frame.index, y=frame[name], mode="lines", name=name)
    if budget < len(frame) + 1:
        fig.add_vline(x=budget, line_dash="dot", annotation_text=f"budget {budget}: eviction starts")
    fig.update_layout(
        title=f"Full cache: loss along the text (mean over {width} tokens); press Start to compare policies",
        xaxis_title="position in the text",
        yaxis_title="next-token loss (nats)",
        height=340,
    )
    return fig


def rolling_loss(results: dict[str, BudgetResult], names: list[str], width: int) -> pd.DataFrame:
    frame = pd.DataFrame({name: results[name].loss_per_position for name in names if name in results})
    return frame.rolling(width, min_periods=1).mean()


def loss_by_position(frame: pd.DataFrame, budget: int, width: int) -> go.Figure:
    fig = go.Figure()
    for name in frame.columns:
        fig.add_scatter(x=frame.index, y=frame[name], mode="lines", name=name)
    fig.add_vline(x=budget, line_dash="dot", annotation_text="cache full: the first token leaves")
    fig.update_layout(
        title=f"Loss against position (mean over {width} tokens)",
        xaxis_title="position in the text",
        yaxis_title="next-token loss (nats)",
        height=360,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def sweep_frame(results: dict[str, BudgetResult]) -> pd.DataFrame:
    rows = [
        {"policy": name.split(" @ ")[0], "budget": r.budget, "perplexity": r.perplexity}
        for name, r in results.items()
        if name != "Full cache"
    ]
    return pd.DataFrame(rows, columns=["policy", "budget", "perplexity"])


def sweep_figure(frame: pd.DataFrame, full: float | None) -> go.Figure:
    fig = go.Figure()
    for policy, rows in frame.groupby("policy", sort=False):
        rows = rows.sort_values("budget")
        fig.add_scatter(x=rows["budget"], y=rows["perplexity"], mode="lines+markers", name=policy)
    if full is not None:
        fig.add_hline(y=full, line_dash="dash", annotation_text=f"full cache {full:.2f}")
    fig.update_layout(
        title="Perplexity against cache budget (the StreamingLLM figure)",
        xaxis_title="budget (tokens per layer and KV head)",
        yaxis_title="perplexity",
        yaxis_type="log",
        xaxis_type="log",
        height=380,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


# ---------------------------------------------------------------------- the memory calculator
# (num_hidden_layers, num_key_value_heads, head_dim) from each model's published config.json
KNOWN_CONFIGS = {
    "Llama-3.2-1B": (16, 8, 64),
    "Llama-3.2-3B": (28, 8, 128),
    "Llama-3.1-8B": (32, 8, 128),
    "Llama-3.1-70B": (80, 8, 128),
    "Mistral-7B-v0.1": (32, 8, 128),
    "Qwen2.5-7B": (28, 4, 128),
    "SmolLM2-1.7B": (24, 32, 64),
}
DTYPE_BYTES = {"float32": 4.0, "bfloat16 / float16": 2.0, "int8": 1.0, "int4": 0.5}
BASELINE_BYTES = 2.0  # the usual cache dtype (bfloat16 / float16): ratios are stated against it


def config_dims(config: dict) -> tuple[int, int, int]:
    """(layers, kv_heads, head_dim) from a transformers config.json; a clear error when a field is missing."""
    try:
        layers = int(config["num_hidden_layers"])
        heads = int(config["num_attention_heads"])
        kv_heads = int(config.get("num_key_value_heads") or heads)
        head_dim = int(config.get("head_dim") or int(config["hidden_size"]) // heads)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            "This config.json lacks num_hidden_layers, num_attention_heads or hidden_size: "
            "is it a decoder-only causal LM's config?"
        ) from exc
    return layers, kv_heads, head_dim


def memory_curve(dims: dict[str, tuple[int, int, int]], bytes_per: float) -> go.Figure:
    from models.kv_cache.cache import cache_bytes_formula

    tokens = np.logspace(3, 6, 31)
    fig = go.Figure()
    for name, (layers, kv_heads, head_dim) in dims.items():
        gb = [cache_bytes_formula(layers, kv_heads, head_dim, t, bytes_per) / 1e9 for t in tokens]
        fig.add_scatter(x=tokens, y=gb, mode="lines", name=name)
    fig.update_layout(
        title="KV-cache size = 2 × layers × kv_heads × head_dim × tokens × bytes (batch 1)",
        xaxis_title="tokens in context",
        yaxis_title="GB",
        xaxis_type="log",
        yaxis_type="log",
        height=380,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


# ---------------------------------------------------------------------- needle in a haystack
def needle_frame(rows: list[dict]) -> pd.DataFrame:
    """One row per policy × length × depth: share found, mean answer log-probability, needle in cache."""
    columns = ["policy", "length", "depth", "found", "answer logprob", "needle in cache", "runs"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(["policy", "length", "depth"], sort=False)
    out = grouped.agg(
        found=("found", "mean"),
        logprob=("answer logprob", "mean"),
        held=("needle in cache", "mean"),
        runs=("found", "size"),
    ).reset_index()
    return out.rename(columns={"logprob": "answer logprob", "held": "needle in cache"})[columns]


def needle_grid(frame: pd.DataFrame) -> go.Figure:
    """A depth × length heatmap per policy (panels side by side), green = found."""
    from plotly.subplots import make_subplots

    policies = list(dict.fromkeys(frame["policy"]))
    lengths = sorted(frame["length"].unique())
    depths = sorted(frame["depth"].unique())
    fig = make_subplots(rows=1, cols=len(policies), subplot_titles=policies, shared_yaxes=True)
    for col, policy in enumerate(policies, start=1):
        rows = frame[frame["policy"] == policy].set_index(["depth", "length"])
        z, text, custom = [], [], []
        for depth in depths:
            cells = [rows.loc[(depth, n)] if (depth, n) in rows.index else None for n in lengths]
            z.append([None if c is None else c["found"] for c in cells])
            text.append(["" if c is None else f"{c['found']:.0%}" for c in cells])
            custom.append([[None, None] if c is None else [c["answer logprob"], c["needle in cache"]] for c in cells])
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=[str(n) for n in lengths],
                y=[f"{d} %" for d in depths],
                text=text,
                texttemplate="%{text}",
                customdata=custom,
                zmin=0,
                zmax=1,
                colorscale=[[0, "#d62728"], [0.5, "#ffdd57"], [1, "#2ca02c"]],
                showscale=col == len(policies),
                colorbar=dict(title="found", tickformat=".0%"),
                hovertemplate="length %{x}, depth %{y}<br>found %{z:.0%}<br>answer log-prob "
                "%{customdata[0]:.2f}<br>needle in cache %{customdata[1]:.0%}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text="tokens", type="category", row=1, col=col)
    fig.update_yaxes(title_text="needle depth", type="category", autorange="reversed", row=1, col=1)
    fig.update_layout(title="Needle found? (depth × context length, one panel per policy)", height=360)
    return fig


def needle_summary(rows: list[dict]) -> pd.DataFrame:
    """Per policy: needles found of those run, and the range of the share of caches that held the digits (%)."""
    columns = ["policy", "found", "needles", "digits held, min %", "digits held, max %"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    out = frame.groupby("policy", sort=False).agg(
        found=("found", "sum"),
        needles=("found", "size"),
        low=("needle in cache", "min"),
        high=("needle in cache", "max"),
    )
    out["low"], out["high"] = (out["low"] * 100).round().astype(int), (out["high"] * 100).round().astype(int)
    out["found"] = out["found"].astype(int)
    return out.reset_index().rename(columns={"low": columns[3], "high": columns[4]})[columns]
