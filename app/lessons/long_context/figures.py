"""Figures and tables of the long-context lesson (no Streamlit): each returns (figure, frame)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.long_context.extrapolation import NAMES, smooth
from models.long_context.patterns import attention_pattern, cost, layers_to_reach_start, reach_by_layer, xl_visible
from models.long_context.rope_scaling import rope_inv_freq, scaling_table
from models.long_context.smollm2_scaling import bucketed

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def rope_frequencies(head_dim: int, base: float, train_len: int, factor: float) -> tuple[go.Figure, pd.DataFrame]:
    """Each pair's wavelength (positions per full turn) under each scaling, against the training length."""
    eval_len = int(round(factor * train_len))
    rows = []
    for name, scaling in scaling_table(head_dim, base, train_len, factor).items():
        inv_freq, scale = rope_inv_freq(head_dim, base, scaling, seq_len=eval_len)
        for pair, theta in enumerate(inv_freq.tolist()):
            rows.append(
                {
                    "scaling": name,
                    "pair": pair,
                    "inv_freq": theta,
                    "wavelength": 2 * math.pi / theta,
                    "turns within L": train_len * theta / (2 * math.pi),
                    "angle at the longest position ÷ largest angle trained": (eval_len - 1)
                    * theta
                    / ((train_len - 1) * float(rope_inv_freq(head_dim, base)[0][pair])),
                    "attention scale": scale,
                }
            )
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for i, (name, part) in enumerate(frame.groupby("scaling", sort=False)):
        fig.add_scatter(x=part["pair"], y=part["wavelength"], mode="lines+markers", name=name, line_color=color(i))
    fig.add_hline(y=train_len, line_dash="dot", annotation_text=f"training length L = {train_len}")
    fig.add_hline(y=eval_len, line_dash="dash", annotation_text=f"s·L = {eval_len}")
    fig.update_layout(
        title=f"RoPE wavelength per pair of dimensions (head dim {head_dim}, base {base:g}, s = {factor:g})",
        xaxis_title="pair i (fast → slow)",
        yaxis_title="wavelength 2π/θᵢ (positions, log)",
        yaxis_type="log",
        height=420,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig, frame


def unseen_pairs(frame: pd.DataFrame, scaling: str = "none (extrapolate)") -> int:
    """Pairs whose angle at s·L goes past the largest they trained on without having turned fully within L."""
    part = frame[frame["scaling"] == scaling]
    return int(
        ((part["turns within L"] < 1) & (part["angle at the longest position ÷ largest angle trained"] > 1)).sum()
    )


def loss_by_length(table: dict[str, dict[int, float]], train_len: int) -> tuple[go.Figure, pd.DataFrame]:
    rows = [{"scheme": s, "length": T, "loss": v} for s, by in table.items() for T, v in by.items()]
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for i, (name, part) in enumerate(frame.groupby("scheme", sort=False)):
        fig.add_scatter(x=part["length"], y=part["loss"], mode="lines+markers", name=NAMES.get(name, name),
                        line_color=color(i))  # fmt: skip
    fig.add_vline(x=train_len, line_dash="dot", annotation_text="trained at")
    fig.update_layout(title="Held-out loss against evaluation length", xaxis_title="evaluation length (characters, log)",
                      xaxis_type="log", yaxis_title="loss (nats per character)", height=380,
                      legend=dict(orientation="h", y=-0.3))  # fmt: skip
    return fig, frame


def loss_by_position(curves: dict[str, np.ndarray], train_len: int, title: str) -> tuple[go.Figure, pd.DataFrame]:
    """One smoothed curve per model: held-out loss at each position of a long input."""
    width = max(4, train_len // 4)
    frame = pd.DataFrame({name: values for name, values in curves.items()})
    frame.index.name = "position"
    fig = go.Figure()
    for i, (name, values) in enumerate(curves.items()):
        fig.add_scatter(y=smooth(values, width), mode="lines", name=NAMES.get(name, name), line_color=color(i))
    fig.add_vline(x=train_len, line_dash="dot", annotation_text=f"L = {train_len}")
    fig.update_layout(title=title, xaxis_title="position in the input", yaxis_title=f"loss (moving average of {width})",
                      height=380, legend=dict(orientation="h", y=-0.3))  # fmt: skip
    return fig, frame.reset_index()


def needle_heatmaps(grids: dict[str, np.ndarray], lengths, percents) -> tuple[go.Figure, pd.DataFrame]:
    names = list(grids)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[NAMES.get(n, n) for n in names], shared_yaxes=True)
    rows = []
    for c, name in enumerate(names, start=1):
        grid = grids[name]
        fig.add_heatmap(z=grid, x=[f"{p}%" for p in percents], y=[str(T) for T in lengths], zmin=0, zmax=1,
                        colorscale="RdYlGn", showscale=c == len(names), col=c, row=1,
                        text=np.round(grid * 100).astype(int), texttemplate="%{text}")  # fmt: skip
        rows += [
            {"scheme": name, "length": T, "depth %": p, "accuracy": grid[a, b]}
            for a, T in enumerate(lengths)
            for b, p in enumerate(percents)
        ]
    fig.update_layout(title="Needle found (%) by sequence length (rows) and needle depth (columns)", height=360)
    fig.update_yaxes(title_text="length", col=1)
    return fig, pd.DataFrame(rows)


PATTERN_TITLES = {
    "causal": "causal (full)",
    "window": "sliding window",
    "dilated": "dilated window",
    "strided": "strided (Sparse Transformer)",
    "longformer": "Longformer (window + global)",
    "bigbird": "BigBird (+ random)",
    "xl": "Transformer-XL segments",
}


def pattern_gallery(length: int, window: int, dilation: int, stride: int, segment: int, head_dim: int, layers: int):
    """Mask pictures of every pattern and a table of their cost and reach."""
    kinds = list(PATTERN_TITLES)
    fig = make_subplots(rows=2, cols=4, subplot_titles=[PATTERN_TITLES[k] for k in kinds], horizontal_spacing=0.04,
                        vertical_spacing=0.1)  # fmt: skip
    rows = []
    for n, kind in enumerate(kinds):
        mask = attention_pattern(kind, length, window=window, dilation=dilation, stride=stride,
                                 global_tokens=(0,), segment=segment)  # fmt: skip
        fig.add_heatmap(z=mask.int().numpy(), showscale=False, colorscale=[[0, "white"], [1, "#1f77b4"]],
                        row=n // 4 + 1, col=n % 4 + 1)  # fmt: skip
        numbers = cost(mask, head_dim)
        needed = layers_to_reach_start(mask)
        rows.append(
            {
                "pattern": PATTERN_TITLES[kind],
                "kind": kind,
                "keys per query (mean)": numbers["scores"] / length,
                "density": numbers["density"],
                "attention FLOPs": numbers["flops"],
                "score memory (KB)": numbers["score_bytes"] / 1024,
                f"reach of the last token after {layers} layers": reach_by_layer(mask, layers)[-1],
                "layers until the last token sees token 0": str(needed) if needed is not None else "never",
            }
        )
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(title=f"Which keys (columns) each query (rows) may attend to, {length} tokens", height=520)
    return fig, pd.DataFrame(rows)


def xl_reach(length: int, segment: int, layers: int) -> tuple[go.Figure, pd.DataFrame]:
    """What the last segment's first token can draw on, by layer: isolated segments against XL memory."""
    query = (length // segment - 1) * segment  # the first token of the last full segment
    fig = make_subplots(rows=1, cols=2, subplot_titles=["segments alone (truncated context)", "Transformer-XL memory"])
    rows = []
    for c, memory in enumerate((False, True), start=1):
        fewest = np.full(length, np.nan)  # per key: the fewest layers that bring it to the query
        for L in range(1, layers + 1):
            seen = xl_visible(length, segment, L, memory)[query].numpy()
            fewest[np.isnan(fewest) & seen] = L
            rows.append({"memory": memory, "layers": L, "reach back": query - int(seen.nonzero()[0].min())})
        fig.add_heatmap(z=fewest[None, :], showscale=c == 2, colorscale="Viridis_r", zmin=1, zmax=layers,
                        colorbar_title="layers", row=1, col=c)  # fmt: skip
    fig.update_yaxes(showticklabels=False)
    fig.update_xaxes(title_text="key position")
    fig.update_layout(title=f"Token {query} (a segment's first): the fewest layers that bring each earlier token in",
                      height=260)  # fmt: skip
    return fig, pd.DataFrame(rows)


def smollm2_scaling(curves: dict[str, np.ndarray], bucket: int, trained_len: int) -> tuple[go.Figure, pd.DataFrame]:
    """SmolLM2's mean loss per bucket of positions under each scaling (one line each)."""
    rows = []
    fig = go.Figure()
    for i, (name, losses) in enumerate(curves.items()):
        starts, means = bucketed(losses, bucket)
        rows += [{"scaling": name, "positions from": int(s), "loss": float(m), "perplexity": math.exp(m)}
                 for s, m in zip(starts, means)]  # fmt: skip
        dash = "dot" if i and np.array_equal(losses, curves[next(iter(curves))]) else "solid"  # the same as none
        fig.add_scatter(x=starts + bucket / 2, y=means, mode="lines+markers", name=name, line_color=color(i),
                        line_dash=dash)  # fmt: skip
    length = len(next(iter(curves.values()))) + 1
    if trained_len <= length:
        fig.add_vline(x=trained_len, line_dash="dot", annotation_text=f"L = {trained_len:,}")
    fig.update_layout(title=f"SmolLM2-135M's loss by position over {length:,} tokens of Wikipedia",
                      xaxis_title=f"position in the text (mean of each {bucket} positions)",
                      yaxis_title="loss (nats per token)", height=400, legend=dict(orientation="h", y=-0.25))  # fmt: skip
    return fig, pd.DataFrame(rows)


def middle_by_depth(table: dict[int, dict[str, float]], length: int) -> tuple[go.Figure, pd.DataFrame]:
    """Share of needles found and the answer's mean probability against the needle's depth."""
    frame = pd.DataFrame([{"depth %": d, **row} for d, row in table.items()])
    fig = go.Figure()
    fig.add_bar(x=frame["depth %"], y=frame["found"], name="found (greedy)", marker_color=color(0), width=6)
    fig.add_scatter(x=frame["depth %"], y=frame["answer probability"], name="probability of the answer",
                    mode="lines+markers", line_color=color(1))  # fmt: skip
    fig.update_layout(title=f"SmolLM2: the needle by its depth in {length:,} tokens", height=380,
                      xaxis=dict(title="needle depth (% of the text before it)", range=[-8, 108]),
                      yaxis=dict(title="share found / probability", range=[0, 1.05]),
                      legend=dict(orientation="h", y=-0.25))  # fmt: skip
    return fig, frame


def middle_empty(depths: tuple, length: int, runs: int) -> tuple[go.Figure, pd.DataFrame]:
    """Before ▶ Start: the axes the run will fill, and what it will do."""
    fig = go.Figure()
    fig.add_bar(x=list(depths), y=[0] * len(depths), marker_color=color(0), name="found (greedy)", width=6)
    fig.add_annotation(x=50, y=0.5, showarrow=False, font_size=15,
                       text=f"Press ▶ Start: {runs} needles in {length:,} tokens, one full read each")  # fmt: skip
    fig.update_layout(title=f"SmolLM2: the needle by its depth in {length:,} tokens (not run yet)", height=380,
                      xaxis=dict(title="needle depth (% of the text before it)", range=[-8, 108]),
                      yaxis=dict(title="share found / probability", range=[0, 1.05]))  # fmt: skip
    return fig, pd.DataFrame({"depth %": list(depths)})
