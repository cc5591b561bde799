"""Pure plotly figures and tables of the MoE lesson (no Streamlit): testable alone."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

RUN_NAMES = {"none": "no balancing", "aux": "auxiliary loss", "bias": "bias (aux-loss-free)"}
RUN_COLORS = {"none": "#d62728", "aux": "#1f77b4", "bias": "#2ca02c"}
EXPERT_COLORS = qualitative.Set3 + qualitative.Pastel1  # light: the characters stay readable


def expert_color(e: int) -> str:
    return EXPERT_COLORS[e % len(EXPERT_COLORS)]


def load_heatmaps(loads: dict[str, np.ndarray]) -> go.Figure:
    """loads {run: (steps, layers, E)} -> a grid: one row per layer, one column per run; colour = share.

    No layout title: the house style's 40 px top margin holds the subplot titles, and a title there would overlap
    them; the tab writes the title above the chart (`title`)."""
    runs = list(loads)
    n_layers = next(iter(loads.values())).shape[1]
    fig = make_subplots(
        n_layers,
        len(runs),
        shared_xaxes=True,
        shared_yaxes=True,
        horizontal_spacing=0.03,
        vertical_spacing=0.08,
        subplot_titles=[f"{RUN_NAMES[r]} · layer {layer + 1}" for layer in range(n_layers) for r in runs],
    )
    zmax = max(0.5, max(float(v.max()) for v in loads.values()))
    for col, run in enumerate(runs, start=1):
        steps, _, n_experts = loads[run].shape
        for layer in range(n_layers):
            fig.add_heatmap(
                z=loads[run][:, layer, :].T,
                x=np.arange(1, steps + 1),
                y=np.arange(n_experts),
                zmin=0,
                zmax=zmax,
                colorscale="Viridis",
                showscale=col == 1 and layer == 0,
                colorbar=dict(title="share", len=0.8),
                hovertemplate="step %{x}<br>expert %{y}<br>share %{z:.3f}<extra></extra>",
                row=layer + 1,
                col=col,
            )
            fig.update_yaxes(title_text="expert" if col == 1 else None, row=layer + 1, col=col)
    fig.update_xaxes(title_text="step", row=n_layers)
    fig.update_layout(height=120 + 190 * n_layers)  # its title is written above it (see TITLES)
    return fig


def current_loads(loads: dict[str, np.ndarray], window: int = 10) -> tuple[go.Figure, pd.DataFrame]:
    """Mean load of the last `window` steps per run and layer, as bars against the ideal 1/E line."""
    runs = list(loads)
    n_layers, n_experts = next(iter(loads.values())).shape[1:]
    fig = make_subplots(
        n_layers,
        len(runs),
        shared_yaxes=True,
        horizontal_spacing=0.03,
        vertical_spacing=0.12,
        subplot_titles=[f"{RUN_NAMES[r]} · layer {layer + 1}" for layer in range(n_layers) for r in runs],
    )
    rows = []
    for col, run in enumerate(runs, start=1):
        recent = loads[run][-window:].mean(0)  # (layers, E)
        for layer in range(n_layers):
            fig.add_bar(
                x=np.arange(n_experts),
                y=recent[layer],
                marker_color=RUN_COLORS[run],
                showlegend=False,
                hovertemplate="expert %{x}: %{y:.3f}<extra></extra>",
                row=layer + 1,
                col=col,
            )
            fig.add_hline(y=1 / n_experts, line_dash="dash", line_color="black", row=layer + 1, col=col)
            rows += [
                {"run": run, "layer": layer + 1, "expert": e, "share": float(recent[layer, e])}
                for e in range(n_experts)
            ]
    fig.update_xaxes(title_text="expert", row=n_layers, dtick=1)
    fig.update_yaxes(title_text="share", col=1)
    fig.update_layout(height=100 + 170 * n_layers)  # its title is written above it (see `title`)
    return fig, pd.DataFrame(rows)


def initial_loads(loads: np.ndarray) -> tuple[go.Figure, pd.DataFrame]:
    """Step 0: loads (layers, E) of the untrained router, one panel per layer, against the ideal 1/E."""
    n_layers, n_experts = loads.shape
    fig = make_subplots(
        1,
        n_layers,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=[f"layer {i + 1}" for i in range(n_layers)],
    )
    for layer in range(n_layers):
        fig.add_bar(
            x=np.arange(n_experts),
            y=loads[layer],
            marker_color=[expert_color(e) for e in range(n_experts)],
            marker_line=dict(width=1, color="#555555"),
            showlegend=False,
            hovertemplate="expert %{x}: %{y:.3f}<extra></extra>",
            row=1,
            col=layer + 1,
        )
        fig.add_hline(y=1 / n_experts, line_dash="dash", line_color="black", row=1, col=layer + 1)
    fig.update_xaxes(title_text="expert", dtick=1)
    fig.update_yaxes(title_text="share of assignments", col=1, rangemode="tozero")
    fig.update_layout(height=320)
    rows = [
        {"layer": layer + 1, "expert": e, "share": float(loads[layer, e])}
        for layer in range(n_layers)
        for e in range(n_experts)
    ]
    return fig, pd.DataFrame(rows)


def title(text: str) -> str:
    """A chart's title, written above it in the page (markdown), where it cannot overlap subplot titles."""
    return f"**{text}**"


def curves(history: pd.DataFrame, runs) -> go.Figure:
    """Loss and worst-layer load CV over the steps, one line per run."""
    fig = make_subplots(
        1, 2, subplot_titles=["training loss (nats per character)", "load coefficient of variation (worst layer)"]
    )
    for run in runs:
        for col, metric in ((1, "loss"), (2, "load_cv")):
            key = f"{run}.{metric}"
            if key in history:
                fig.add_scatter(
                    x=history["step"],
                    y=history[key],
                    mode="lines",
                    name=RUN_NAMES[run],
                    line_color=RUN_COLORS[run],
                    showlegend=col == 1,
                    row=1,
                    col=col,
                )
    fig.update_xaxes(title_text="step")
    fig.update_layout(height=340, legend=dict(orientation="h", y=-0.25))
    return fig


def measures_table(trainers: dict, window: int = 10) -> pd.DataFrame:
    """Balance measures per run on the mean load of the last `window` steps (worst layer): MoETrainer's own
    `recent_measures`, which the presets' numbers were measured with."""
    rows = []
    for run, trainer in trainers.items():
        m = trainer.recent_measures(window)
        rows.append(
            {
                "run": RUN_NAMES[run],
                "loss (last 10 steps)": m["loss"],
                "load CV (worst layer)": m["load_cv"],
                "max share": m["max_share"],
                "dead experts (< 1/10 of fair share)": int(m["dead_experts"]),
                "dropped assignments": m["dropped"],
            }
        )
    return pd.DataFrame(rows)


def coloured_text(text: str, topk_idx: np.ndarray, topk_weights: np.ndarray) -> str:
    """HTML: each character on the background colour of its first expert; hover shows all k with weights."""
    spans = []
    for ch, experts, weights in zip(text, topk_idx, topk_weights):
        shown = {" ": "␣", "\n": "⏎"}.get(ch, ch)
        tip = ", ".join(f"expert {int(e)}: {w:.2f}" for e, w in zip(experts, weights))
        spans.append(
            f'<span title="{html.escape(tip)}" style="background:{expert_color(int(experts[0]))};'
            f'padding:2px 1px;margin:0 1px;border-radius:3px;font-family:monospace;font-size:1.15em">'
            f"{html.escape(shown)}</span>"
        )
    return "".join(spans)


def legend_html(n_experts: int) -> str:
    return " ".join(
        f'<span style="background:{expert_color(e)};padding:2px 6px;border-radius:3px;'
        f'font-family:monospace">expert {e}</span>'
        for e in range(n_experts)
    )


def specialisation(chars: list[str], first_expert: np.ndarray, n_experts: int, top: int = 8) -> pd.DataFrame:
    """For each expert: its share of the characters and the characters it receives most (share of each)."""
    frame = pd.DataFrame({"char": chars, "expert": first_expert})
    per_char = frame.groupby("char").size()
    rows = []
    for e in range(n_experts):
        mine = frame[frame.expert == e].groupby("char").size().sort_values(ascending=False)
        shown = [f"{ {' ': '␣', chr(10): '⏎'}.get(c, c) } ({n / per_char[c]:.0%})" for c, n in mine.head(top).items()]
        rows.append(
            {
                "expert": e,
                "share of characters": len(frame[frame.expert == e]) / len(frame),
                "receives most (share of that character sent here)": "  ".join(shown),
            }
        )
    return pd.DataFrame(rows)


def router_steps(logits, scores, bias, chosen, weights, router: str) -> tuple[go.Figure, pd.DataFrame]:
    """One token through the router: logits, scores (+ bias for the selection), the chosen k and their weights."""
    n_experts = len(logits)
    weight_of = dict(zip(chosen.tolist(), weights.tolist()))
    frame = pd.DataFrame(
        {
            "expert": np.arange(n_experts),
            "logit": logits,
            "score (" + ("sigmoid" if router == "sigmoid" else "softmax") + ")": scores,
            "bias": bias,
            "score + bias (selection)": scores + bias,
            "chosen": [e in weight_of for e in range(n_experts)],
            "weight": [weight_of.get(e, 0.0) for e in range(n_experts)],
        }
    )
    fig = make_subplots(
        1,
        3,
        subplot_titles=[
            "1 · router logits",
            "2 · scores (+ bias: what is compared)",
            "3 · weights of the chosen experts",
        ],
    )
    colors = [expert_color(e) for e in range(n_experts)]
    fig.add_bar(x=frame.expert, y=logits, marker_color=colors, showlegend=False, row=1, col=1)
    fig.add_bar(x=frame.expert, y=scores, marker_color=colors, name="score", showlegend=False, row=1, col=2)
    if np.abs(bias).max() > 0:
        fig.add_scatter(
            x=frame.expert,
            y=scores + bias,
            mode="markers",
            name="score + bias",
            marker=dict(symbol="diamond", size=11, color="black"),
            row=1,
            col=2,
        )
    fig.add_bar(
        x=frame.expert,
        y=frame.weight,
        marker_color=colors,
        marker_line=dict(width=[3 if c else 0 for c in frame.chosen], color="black"),
        showlegend=False,
        row=1,
        col=3,
    )
    fig.update_xaxes(title_text="expert", dtick=1)
    fig.update_layout(height=340, legend=dict(orientation="h", y=-0.3))
    return fig, frame


def cost_figure(costs: dict[str, dict]) -> go.Figure:
    """Active against total parameters, and FLOPs per token against a dense model with the total size.

    Four legend entries, none alike: each panel's pair under its own group title, the "everything" bar of the
    right panel hatched so that it cannot be mistaken for the left panel's grey."""
    names = list(costs)
    fig = make_subplots(1, 2, subplot_titles=["parameters (billions, log scale)", "GFLOPs per token (log scale)"])
    bars = [
        (1, "total_params", "total (stored)", "#bbbbbb", "", "parameters"),
        (1, "active_params", "active (per token)", "#1f77b4", "", "parameters"),
        (2, "dense_same_total_flops", "dense model of the same total size", "#bbbbbb", "/", "GFLOPs per token"),
        (2, "flops_per_token", "this MoE (= dense of the same active size)", "#ff7f0e", "", "GFLOPs per token"),
    ]
    for col, metric, name, color, pattern, group in bars:
        fig.add_bar(
            x=names,
            y=[costs[n][metric] / 1e9 for n in names],
            name=name,
            marker=dict(color=color, pattern_shape=pattern, line=dict(width=1, color="#555555")),
            legendgroup=group,
            legendgrouptitle_text=group,
            row=1,
            col=col,
        )
    # DeepSeek-V3 is 50x Qwen-MoE: a log axis keeps every bar visible; one labelled tick per decade (1, 10, 100,
    # 1,000) instead of plotly's 2-and-5 minor labels between them
    fig.update_yaxes(type="log", dtick=1, exponentformat="none", separatethousands=True)
    fig.update_layout(barmode="group", height=400, legend=dict(orientation="h", y=-0.25, groupclick="toggleitem"))
    return fig
