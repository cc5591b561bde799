"""Pure plotly figures and tables of the RNN lesson (no Streamlit): testable alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

CELL_NAMES = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def name_of(run: str) -> str:
    return CELL_NAMES.get(run, run)


def gradient_profile(profiles: dict[str, np.ndarray], title: str) -> tuple[go.Figure, pd.DataFrame]:
    """{name: (T,)} ‖∂L_last/∂h_{T−1−d}‖ -> lines over the distance d, log scale."""
    rows = [
        {"run": n, "distance": d, "grad_norm": float(v)} for n, vals in profiles.items() for d, v in enumerate(vals)
    ]
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for i, (n, vals) in enumerate(profiles.items()):
        fig.add_scatter(x=np.arange(len(vals)), y=vals, mode="lines", name=name_of(n), line_color=color(i))
    fig.update_yaxes(type="log", exponentformat="power", title="‖∂L_last / ∂h‖ (log scale)")
    fig.update_xaxes(title="distance d: characters back from the last position")
    fig.update_layout(title=title, height=380, legend=dict(orientation="h", y=-0.25))
    return fig, frame


def distance_heatmaps(grids: dict[str, np.ndarray]) -> go.Figure:
    """{cell: (steps, T)} -> one heatmap per cell: log10 ‖∂L_last/∂h‖ over distance (x) and training step (y)."""
    names = list(grids)
    fig = make_subplots(
        1, len(names), shared_yaxes=True, horizontal_spacing=0.04, subplot_titles=[name_of(n) for n in names]
    )
    logs = {n: np.log10(np.maximum(g, 1e-30)) for n, g in grids.items()}
    lo = min(float(v.min()) for v in logs.values())
    hi = max(float(v.max()) for v in logs.values())
    for col, n in enumerate(names, start=1):
        fig.add_heatmap(
            z=logs[n],
            x=np.arange(logs[n].shape[1]),
            y=np.arange(1, logs[n].shape[0] + 1),
            zmin=lo,
            zmax=hi,
            colorscale="Viridis",
            showscale=col == 1,
            colorbar=dict(title="log₁₀ ‖∂L/∂h‖"),
            hovertemplate="distance %{x}<br>step %{y}<br>log₁₀ norm %{z:.1f}<extra></extra>",
            row=1,
            col=col,
        )
    fig.update_xaxes(title_text="distance d")
    fig.update_yaxes(title_text="training step", col=1)
    fig.update_layout(title="How far back the gradient reaches, as training goes (bright = large)", height=420)
    return fig


def loss_curves(history: pd.DataFrame, runs, x: str = "step", title: str = "training loss (nats per character)"):
    """One loss line per run from the kit's history ("<run>.loss")."""
    fig = go.Figure()
    for i, run in enumerate(runs):
        key = f"{run}.loss"
        if key in history:
            xs = history[f"{run}.{x}"] if f"{run}.{x}" in history else history[x]
            fig.add_scatter(x=xs, y=history[key], mode="lines+markers", name=name_of(run), line_color=color(i))
    fig.update_layout(title=title, xaxis_title=x.replace("_", " "), yaxis_title="loss", height=340)
    fig.update_layout(legend=dict(orientation="h", y=-0.3))
    return fig


def per_step(
    series: dict[str, list[float]], field: str, title: str, log: bool = False
) -> tuple[go.Figure, pd.DataFrame]:
    """{run: one value per step} (losses, gradient norms) as lines."""
    rows = [{"run": n, "step": s + 1, field: v} for n, values in series.items() for s, v in enumerate(values)]
    fig = go.Figure()
    for i, (n, values) in enumerate(series.items()):
        fig.add_scatter(x=np.arange(1, len(values) + 1), y=values, mode="lines", name=name_of(n), line_color=color(i))
    if log:
        fig.update_yaxes(type="log", exponentformat="power")
    fig.update_layout(title=title, xaxis_title="step", height=320, legend=dict(orientation="h", y=-0.3))
    return fig, pd.DataFrame(rows)


def recall_figure(accuracy: dict[tuple[str, int], float], symbols: int, steps: int) -> tuple[go.Figure, pd.DataFrame]:
    frame = pd.DataFrame([{"cell": c, "distance": d, "accuracy": a} for (c, d), a in accuracy.items()])
    fig = go.Figure()
    for i, (cell, part) in enumerate(frame.groupby("cell", sort=False)):
        fig.add_scatter(x=part.distance, y=part.accuracy, mode="lines+markers", name=name_of(cell), line_color=color(i))
    fig.add_hline(y=1 / symbols, line_dash="dash", annotation_text=f"chance 1/{symbols}")
    fig.update_xaxes(type="log", title="distance D between the symbol and the question (log scale)")
    fig.update_yaxes(range=[0, 1.05], title="recall accuracy (512 held-out sequences)")
    fig.update_layout(title=f"Recall after {steps} training steps", height=380, legend=dict(orientation="h", y=-0.25))
    return fig, frame


def gate_heatmap(text: str, values: np.ndarray, gate: str, units: int = 32) -> go.Figure:
    """values (T, H) of one gate over the text's characters; the first `units` units."""
    shown = [{" ": "␣", "\n": "⏎"}.get(ch, ch) for ch in text]
    fig = go.Figure(
        go.Heatmap(
            z=values[:, :units].T,
            x=[f"{i}:{ch}" for i, ch in enumerate(shown)],
            zmin=0 if "g" != gate[-1] and "n" != gate[-1] else -1,
            zmax=1,
            colorscale="RdBu",
            colorbar=dict(title=gate),
            hovertemplate="%{x}<br>unit %{y}<br>%{z:.2f}<extra></extra>",
        )
    )
    fig.update_xaxes(tickvals=list(range(len(shown))), ticktext=shown, title="character")
    fig.update_yaxes(title="unit")
    fig.update_layout(title=f"{gate} over the sentence (first {min(units, values.shape[1])} units)", height=420)
    return fig


def nll_grid(nll: np.ndarray, mask: np.ndarray) -> go.Figure:
    """(B, T) per-position loss; padded positions hatched out (shown as blank)."""
    shown = np.where(mask, nll, np.nan)
    fig = go.Figure(go.Heatmap(z=shown, colorscale="Reds", colorbar=dict(title="−log p")))
    fig.add_heatmap(z=np.where(mask, np.nan, 1.0), colorscale=[[0, "#dddddd"], [1, "#dddddd"]], showscale=False)
    fig.update_yaxes(title="sentence", autorange="reversed")
    fig.update_xaxes(title="position (grey: padding, masked out)")
    fig.update_layout(title="Loss per position in a padded batch", height=300)
    return fig


def schedule_figure(curves: dict[str, list[float]], steps) -> go.Figure:
    fig = go.Figure()
    for i, (name, values) in enumerate(curves.items()):
        fig.add_scatter(x=list(steps), y=values, mode="lines", name=name, line_color=color(i))
    fig.update_yaxes(range=[0, 1.05], title="ε: probability of feeding the true character")
    fig.update_layout(title="Scheduled sampling: ε over training", xaxis_title="training step", height=320)
    fig.update_layout(legend=dict(orientation="h", y=-0.3))
    return fig


def exposure_figure(losses: dict[str, dict[float, float]]) -> tuple[go.Figure, pd.DataFrame]:
    """{run: {share of own samples: held-out loss}}."""
    frame = pd.DataFrame([{"run": r, "own_share": p, "loss": v} for r, vals in losses.items() for p, v in vals.items()])
    fig = go.Figure()
    for i, (run, part) in enumerate(frame.groupby("run", sort=False)):
        fig.add_scatter(x=part.own_share, y=part.loss, mode="lines+markers", name=run, line_color=color(i))
    fig.update_xaxes(title="share of inputs that are the model's own samples (0 = teacher forcing)")
    fig.update_yaxes(title="held-out loss (nats per character)")
    fig.update_layout(title="Teacher-forced loss and what happens when the model reads its own output", height=360)
    fig.update_layout(legend=dict(orientation="h", y=-0.3))
    return fig, frame
