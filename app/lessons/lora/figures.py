"""Pure figure builders for the LoRA lesson (plotly and pandas, no Streamlit): testable alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def _run_order(name: str) -> tuple:
    """r=1 < r=2 < ... < full < QLoRA: a stable legend order."""
    if name.startswith("r="):
        return (0, int(name[2:]))
    return (1, 0) if name == "full" else (2, 0)


def curves_frame(history: list[dict], prefix: str) -> pd.DataFrame:
    """Long frame (step, run, value) of every history column named '<prefix> <run>'."""
    rows = []
    for row in history:
        for key, value in row.items():
            if key.startswith(prefix + " "):
                rows.append(dict(step=row["step"], run=key[len(prefix) + 1 :], value=value))
    return pd.DataFrame(rows, columns=["step", "run", "value"])


def curves_figure(frame: pd.DataFrame, title: str, yaxis: str, log_y: bool = True) -> go.Figure:
    fig = go.Figure()
    for run in sorted(frame["run"].unique(), key=_run_order):
        part = frame[frame["run"] == run]
        dash = "dash" if run == "full" else ("dot" if run.startswith("QLoRA") else None)
        fig.add_scatter(x=part["step"], y=part["value"], mode="lines", name=run, line=dict(dash=dash))
    fig.update_layout(title=title, xaxis_title="step", yaxis_title=yaxis, height=360)
    if log_y:
        fig.update_yaxes(type="log")
    return fig


FLOOR_NAME = "Eckart–Young floor: the least error of any rank-r ΔW, Σ_{i>r} σᵢ² / Σ σᵢ² of ΔW*"


def rank_figure(summary: pd.DataFrame, floors: dict[int, float], true_rank: int) -> go.Figure:
    """Final held-out and training error against r, the Eckart–Young floor as a line, full FT as a level.

    The floor is drawn only where it is above 0 (r < k): from r = k on it is exactly 0, which a log axis cannot
    show, so the legend says so instead of drawing it at an arbitrary small number that runs may pass below."""
    lora = summary[summary["run"] != "full"].sort_values("rank")
    full = summary[summary["run"] == "full"]
    ranks = sorted(floors)
    positive = [r for r in ranks if floors[r] > 0]  # r < k
    zero_from = next((r for r in ranks if floors[r] == 0), None)
    fig = go.Figure()
    name = FLOOR_NAME + (f" (0 for r ≥ {zero_from}: not drawn on a log axis)" if zero_from else "")
    fig.add_scatter(
        x=positive, y=[floors[r] for r in positive], mode="lines", name=name, line=dict(color="grey", width=3)
    )
    fig.add_scatter(x=lora["rank"], y=lora["heldout_error"], mode="lines+markers", name="LoRA: held-out error")
    fig.add_scatter(
        x=lora["rank"],
        y=lora["train_error"],
        mode="lines+markers",
        name="LoRA: training error (noise included)",
        line=dict(dash="dot"),
    )
    shown = [*summary["heldout_error"], *summary["train_error"], *(floors[r] for r in positive)]
    shown = [v for v in shown if v > 0]
    bottom, top = min(shown, default=1.0) / 2, max([1.0, *shown])
    if len(full):
        level = float(full["heldout_error"].iloc[0])
        fig.add_scatter(
            x=[ranks[0], ranks[-1]],
            y=[level, level],
            mode="lines",
            name="full fine-tuning (held-out)",
            line=dict(dash="dash", color="black"),
        )
    fig.add_scatter(
        x=[true_rank, true_rank],
        y=[bottom, top],
        mode="lines",
        name=f"true rank k={true_rank}",
        line=dict(dash="dot", color="purple"),
    )
    fig.update_layout(
        title="Final error against the rank r (relative to ||ΔW*||²)",
        xaxis_title="rank r (log)",
        yaxis_title="relative error (log)",
        height=400,
        legend=dict(orientation="h", y=-0.25),
    )
    ticks = sorted({*lora["rank"].astype(int), true_rank})  # the ranks trained, not every log tick
    fig.update_xaxes(type="log", range=[np.log10(0.8), np.log10(ranks[-1] * 1.25)], tickvals=ticks)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def finetune_curves_figure(history: dict[str, list[tuple[int, float]]]) -> go.Figure:
    fig = go.Figure()
    for run in sorted(history, key=_run_order):
        steps, losses = zip(*history[run]) if history[run] else ((), ())
        dash = "dash" if run == "full" else ("dot" if run.startswith("QLoRA") else None)
        fig.add_scatter(x=steps, y=losses, mode="lines+markers", name=run, line=dict(dash=dash))
    fig.update_layout(
        title="Held-out loss (nats per token) during training",
        xaxis_title="step",
        yaxis_title="held-out loss",
        height=360,
    )
    return fig


def final_loss_figure(summary: pd.DataFrame, start_loss: float) -> go.Figure:
    """Final held-out loss against trained parameters (log), one point per run, the base as a line."""
    fig = go.Figure()
    fig.add_scatter(
        x=summary["trained_parameters"],
        y=summary["heldout_loss"],
        mode="markers+text",
        text=summary["run"],
        textposition="top center",
        marker=dict(size=12),
        name="after training",
    )
    fig.add_hline(y=start_loss, line_dash="dot", annotation_text="base model (before)")
    fig.update_layout(
        title="Final held-out loss against trained parameters",
        xaxis_title="trained parameters (log)",
        yaxis_title="held-out loss",
        height=360,
        showlegend=False,
    )
    fig.update_xaxes(type="log")
    return fig


def singular_values_figure(spectra: dict[str, np.ndarray], top: int = 40) -> go.Figure:
    fig = go.Figure()
    for run in sorted(spectra, key=_run_order):
        s = spectra[run][:top]
        fig.add_scatter(
            x=np.arange(1, len(s) + 1),
            y=s,
            mode="lines+markers",
            name=run,
            line=dict(dash="dash" if run == "full" else None),
        )
    fig.update_layout(
        title=f"Singular values of ΔW (top {top})",
        xaxis_title="index i",
        yaxis_title="σ_i",
        height=360,
    )
    fig.update_yaxes(type="log")
    return fig


def energy_figure(full_spectrum: np.ndarray, ranks: list[int]) -> go.Figure:
    energy = np.cumsum(full_spectrum**2) / np.sum(full_spectrum**2)
    x = np.arange(1, len(energy) + 1)
    fig = go.Figure()
    fig.add_scatter(x=x, y=energy, mode="lines", name="full fine-tuning ΔW")
    for r in ranks:
        fig.add_scatter(
            x=[r],
            y=[energy[r - 1]],
            mode="markers+text",
            text=[f"r={r}: {energy[r - 1]:.0%}"],
            textposition="bottom right",
            marker=dict(size=10),
            showlegend=False,
        )
    fig.update_layout(
        title="Share of the full update's energy in its top r directions",
        xaxis_title="r (log)",
        yaxis_title="energy share",
        height=360,
    )
    fig.update_xaxes(type="log")
    return fig


def similarity_figure(phi: np.ndarray, r1: int, r2: int) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=phi,
            x=np.arange(1, phi.shape[1] + 1),
            y=np.arange(1, phi.shape[0] + 1),
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            colorbar=dict(title="φ"),
        )
    )
    fig.update_layout(
        title=f"Subspace similarity φ(i, j) between A at r={r1} and r={r2}",
        xaxis_title=f"j (top directions of r={r2})",
        yaxis_title=f"i (top directions of r={r1})",
        height=360,
    )
    return fig


def quant_error_figure(frame: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for kind in frame["kind"].unique():
        part = frame[frame["kind"] == kind]
        fig.add_scatter(x=part["block_size"], y=part["mse"], mode="lines+markers", name=kind)
    fig.update_layout(
        title="Round-trip error against block size",
        xaxis_title="block size (log)",
        yaxis_title="mean squared error",
        height=360,
        legend=dict(orientation="h", y=-0.25),
    )
    fig.update_xaxes(type="log", tickvals=sorted(frame["block_size"].unique()))
    fig.update_yaxes(exponentformat="power")
    return fig


def histogram_figure(normed: np.ndarray, levels: dict[str, np.ndarray], bins: int = 200) -> go.Figure:
    """Weights divided by their block's absmax (binned here: 200 bars, not every weight sent), with the 4-bit
    levels drawn over the histogram as one legend entry per kind."""
    counts, edges = np.histogram(normed, bins=bins, range=(-1.0, 1.0))
    fig = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=counts,
            width=edges[1] - edges[0],
            name="weights / block absmax",
            marker_color="lightsteelblue",
        )
    )
    styles = {"nf4": ("crimson", "solid"), "int4": ("seagreen", "dot")}
    for kind, values in levels.items():
        xs = [x for v in values for x in (float(v), float(v), None)]
        ys = [y for _ in values for y in (0.0, 1.0, None)]
        color, dash = styles.get(kind, ("black", "solid"))
        fig.add_scatter(
            x=xs,
            y=ys,
            yaxis="y2",
            mode="lines",
            name=f"{kind.upper() if kind == 'nf4' else kind}: {len(values)} levels",
            line=dict(color=color, width=1, dash=dash),
        )
    fig.update_layout(
        title="Weights ÷ their block's absmax, and the 4-bit levels",
        xaxis_title="w / absmax(block of 64)",
        yaxis_title="count",
        yaxis2=dict(overlaying="y", range=[0, 1], visible=False),
        bargap=0,
        height=360,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def alpha_rank_figure(curves: dict[str, pd.DataFrame]) -> go.Figure:
    """Two panels: LoRA (alpha/r) and rsLoRA (alpha/sqrt r), held-out error per rank against step."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=list(curves), shared_yaxes=True)
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    for col, frame in enumerate(curves.values(), start=1):
        runs = sorted((r for r in frame["run"].unique() if r != "full"), key=_run_order)
        for i, run in enumerate(runs):
            part = frame[frame["run"] == run]
            fig.add_scatter(
                x=part["step"],
                y=part["value"],
                mode="lines",
                name=run,
                line=dict(color=palette[i % len(palette)]),
                showlegend=col == 1,
                row=1,
                col=col,
            )
    fig.update_yaxes(type="log", exponentformat="power", dtick=1)  # both panels (they share the axis): decades
    fig.update_yaxes(title_text="held-out error (same α, same learning rate)", col=1)
    fig.update_xaxes(title_text="step")
    fig.update_layout(height=380)  # no title over the panels' own: on a projector they would overlap
    return fig


FAMILY_COLOURS = {
    "lora": "#1f77b4",
    "ia3": "#2ca02c",
    "prompt": "#ff7f0e",
    "prefix": "#d62728",
    "ln": "#9467bd",
    "full": "#7f7f7f",
}


def families_figure(summary: pd.DataFrame, base_loss: float | None) -> go.Figure:
    """Held-out loss against trained parameters (log x): one point per run, the sizes of a family joined."""
    fig = go.Figure()
    for family, part in summary.groupby("family", sort=False):
        part = part.sort_values("trained_parameters")
        fig.add_scatter(
            x=part["trained_parameters"],
            y=part["heldout_loss"],
            mode="lines+markers+text",
            text=part["run"],
            textposition="top center",
            marker=dict(size=12, color=FAMILY_COLOURS.get(family)),
            line=dict(color=FAMILY_COLOURS.get(family), dash="dot"),
            name=family,
        )
    if base_loss is not None:
        fig.add_hline(y=base_loss, line_dash="dot", annotation_text="SmolLM2 before training")
    fig.update_layout(
        title="Held-out loss against the number of trained parameters",
        xaxis_title="trained parameters (log)",
        yaxis_title="held-out loss (nats per token)",
        height=420,
        legend=dict(orientation="h", y=-0.2),
    )
    fig.update_xaxes(type="log")
    return fig
