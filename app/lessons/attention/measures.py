"""Real model tab, pure part: one number per head (entropy, sink share, previous-token and induction
scores) as layer-by-head maps and tables, and attention by relative offset. No Streamlit calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.lessons.attention.labels import WEIGHT_SCALE

MEASURE_TITLES = {
    "entropy": "entropy (nats)",
    "sink_share": "share on the first token",
    "previous_token": "previous-token score",
    "induction": "induction score (random tokens ×2)",
}


def head_maps_figure(measures: dict[str, np.ndarray], selected: tuple[int, int]) -> go.Figure:
    """One layer-by-head heatmap per measure in a 2 x 2 grid, the selected head outlined.

    As in the mosaic, the longer of layers and heads runs along x.
    """
    names = [name for name in MEASURE_TITLES if name in measures]
    n_layers, n_heads = measures[names[0]].shape
    layers_on_x = n_layers >= n_heads
    fig = make_subplots(
        2,
        2,
        subplot_titles=[MEASURE_TITLES[n] for n in names],
        horizontal_spacing=0.2,  # room for the left panel's colour bar and the right one's axis title
        vertical_spacing=0.16,
    )
    layer, head = selected
    for i, name in enumerate(names):
        row, col = i // 2 + 1, i % 2 + 1
        values = measures[name]
        x_domain = fig.layout[f"xaxis{i + 1 if i else ''}"].domain
        y_domain = fig.layout[f"yaxis{i + 1 if i else ''}"].domain
        fig.add_heatmap(
            z=values.T if layers_on_x else values,
            colorscale="Magma_r" if name == "entropy" else WEIGHT_SCALE,  # bright = focused
            zmin=0,
            zmax=None if name == "entropy" else 1,
            hovertemplate=(
                f"layer %{{{'x' if layers_on_x else 'y'}}}, head %{{{'y' if layers_on_x else 'x'}}}"
                f"<br>{name} %{{z:.3f}}<extra></extra>"
            ),
            colorbar=dict(
                x=x_domain[1] + 0.005,
                y=sum(y_domain) / 2,
                len=(y_domain[1] - y_domain[0]) * 1.05,
                thickness=10,
            ),
            row=row,
            col=col,
        )
        x, y = (layer, head) if layers_on_x else (head, layer)
        fig.add_shape(
            type="rect",
            x0=x - 0.5,
            x1=x + 0.5,
            y0=y - 0.5,
            y1=y + 0.5,
            line=dict(color="#e76f51", width=2),
            row=row,
            col=col,
        )
    fig.update_yaxes(autorange="reversed", title_text="head" if layers_on_x else "layer")
    fig.update_xaxes(title_text="layer" if layers_on_x else "head")
    rows_px = 22 * min(n_layers, n_heads)
    fig.update_layout(
        title="What each head does: one value per head (outlined: the head shown above)",
        height=int(min(1000, max(420, 2 * rows_px + 260))),
    )
    return fig


def measures_frame(measures: dict[str, np.ndarray]) -> pd.DataFrame:
    """Long table: one row per (layer, head) with every measure."""
    n_layers, n_heads = next(iter(measures.values())).shape
    layer, head = np.meshgrid(range(n_layers), range(n_heads), indexing="ij")
    frame = pd.DataFrame({"layer": layer.ravel(), "head": head.ravel()})
    for name, values in measures.items():
        frame[name] = np.round(values.ravel(), 4)
    return frame


def top_heads(frame: pd.DataFrame, n: int = 3) -> list[str]:
    """The heads that stand out for each measure (lowest entropy, highest otherwise), as lines."""
    lines = []
    for name in MEASURE_TITLES:
        if name not in frame:
            continue
        best = frame.nsmallest(n, name) if name == "entropy" else frame.nlargest(n, name)
        heads = ", ".join(f"L{r.layer} H{r.head} ({getattr(r, name):.2f})" for r in best.itertuples())
        lines.append(f"**{MEASURE_TITLES[name]}**: {heads}")
    return lines


def offset_frame(offsets: np.ndarray, means: np.ndarray) -> pd.DataFrame:
    """(H, K) means by offset -> a table with one column per head."""
    return pd.DataFrame(means.T, columns=[f"H{h}" for h in range(len(means))]).assign(offset=offsets)


def offset_figure(offsets: np.ndarray, means: np.ndarray, layer: int, head: int) -> go.Figure:
    """Mean attention at each relative offset (key - query) for every head of one layer."""
    fig = go.Figure()
    for h, row in enumerate(means):
        chosen = h == head
        fig.add_scatter(
            x=offsets,
            y=row,
            mode="lines+markers" if chosen else "lines",
            name=f"H{h}",
            line=dict(width=4 if chosen else 1.2),
            opacity=1 if chosen else 0.55,
        )
    fig.update_layout(
        title=f"Layer {layer}: attention by offset",
        xaxis_title="offset key − query (−1 = previous token)",
        yaxis_title="mean weight",
        height=360,
    )
    return fig
