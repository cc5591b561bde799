"""Real model tab, pure part: one forward pass of a pretrained model and its attention drawn three ways.

Every head as a thumbnail mosaic, one head as a large heatmap, and a BertViz-style head view
(Vig 2019, https://arxiv.org/abs/1906.05714). No Streamlit calls.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from app.lessons.attention.labels import WEIGHT_SCALE, ZWSP, readable, token_label
from models.attention.probes import (
    AttentionTrace,
    attention_by_offset,
    attention_for_ids,
    extract_attention,
    head_measures,
    induction_sequence,
)
from models.registry import model_kind


def real_model_attention(
    model, tokenizer, source: str, text: str, max_tokens: int, induction_length: int, **sizes
) -> dict:
    """Everything the Real model tab draws, from one forward pass.

    source "text": the text's attention (cut to max_tokens); "random": induction_length random
    tokens repeated twice. sizes: thumb (mosaic tile size) and max_offset.
    """
    if source == "random":
        ids = induction_sequence(tokenizer, induction_length, seed=0).tolist()
        trace = AttentionTrace(readable(tokenizer, ids), ids, attention_for_ids(model, ids), False)
        n_input_tokens = len(ids)
    else:
        trace = extract_attention(model, tokenizer, text, max_tokens)
        n_input_tokens = len(tokenizer(text)["input_ids"])
    weights = trace.weights  # (L, H, T, T)
    offsets, by_offset = attention_by_offset(weights, sizes.get("max_offset", 16))
    return {
        "causal": model_kind(model) == "causal",
        "tokens": trace.tokens,
        "truncated": trace.truncated,
        "n_input_tokens": n_input_tokens,
        "source": source,
        "measures": head_measures(weights),
        "offsets": offsets,
        "by_offset": by_offset,
        "thumbs": pool_attention(weights, sizes.get("thumb", 16)),
        # long texts are kept in half precision: 30 x 9 x 512 x 512 weights are 0.3 GB in float32
        "weights": weights if weights.shape[-1] <= 128 else weights.half(),
    }


def pool_attention(weights: torch.Tensor, size: int) -> np.ndarray:
    """(L, H, T, T) -> (L, H, S, S) with S = min(T, size) for thumbnails.

    Keys are summed within each block and queries averaged, so a cell is the share of a query
    block's attention that lands in a key block (1 for a head that always looks there).
    """
    w = weights.float().numpy()
    n = w.shape[-1]
    if n <= size:
        return w
    starts = np.linspace(0, n, size + 1).round().astype(int)[:-1]
    summed = np.add.reduceat(np.add.reduceat(w, starts, axis=-1), starts, axis=-2)  # (L, H, S, S)
    rows_per_block = np.diff(np.append(starts, n))
    return summed / rows_per_block[:, None]


def mosaic_figure(thumbs: np.ndarray, selected: tuple[int, int] | None, title: str) -> go.Figure:
    """All heads as one heatmap of tiles, one per (layer, head), square-ish on a wide screen.

    The longer of the two (layers or heads) runs along x: SmolLM2's 30 layers become columns.
    """
    n_layers, n_heads, size, _ = thumbs.shape
    layers_on_x = n_layers >= n_heads
    grid = thumbs.transpose(1, 0, 2, 3) if layers_on_x else thumbs  # (rows, cols, S, S)
    n_rows, n_cols = grid.shape[:2]
    row_name, col_name = ("head", "layer") if layers_on_x else ("layer", "head")
    tile = size + 1  # a gap row/column after each tile
    padded = np.full((n_rows, n_cols, tile, tile), np.nan)
    padded[:, :, :size, :size] = grid
    z = padded.transpose(0, 2, 1, 3).reshape(n_rows * tile, n_cols * tile)[:-1, :-1]
    # categorical axes: every cell of tile c shows "layer c" on hover (zero-width spaces keep them apart)
    x = [f"{col_name} {c}" + ZWSP * i for c in range(n_cols) for i in range(tile)][:-1]
    y = [f"{row_name} {r}" + ZWSP * i for r in range(n_rows) for i in range(tile)][:-1]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            colorscale=WEIGHT_SCALE,
            zmin=0,
            zmax=1,
            hoverongaps=False,
            hovertemplate="%{x}, %{y}<br>attention %{z:.2f}<extra></extra>",
            colorbar=dict(title="weight", len=0.8, thickness=12),
        )
    )
    mid = size // 2
    step = 1 if n_cols <= 16 else 2
    fig.update_xaxes(
        tickvals=[x[c * tile + mid] for c in range(0, n_cols, step)],
        ticktext=[f"{col_name[0].upper()}{c}" for c in range(0, n_cols, step)],
        showgrid=False,
    )
    fig.update_yaxes(
        tickvals=[y[r * tile + mid] for r in range(n_rows)],
        ticktext=[f"{row_name[0].upper()}{r}" for r in range(n_rows)],
        autorange="reversed",
        showgrid=False,
    )
    if selected is not None:
        layer, head = selected
        row, col = (head, layer) if layers_on_x else (layer, head)
        fig.add_shape(
            type="rect",
            x0=col * tile - 0.5,
            x1=col * tile + size - 0.5,
            y0=row * tile - 0.5,
            y1=row * tile + size - 0.5,
            line=dict(color="#e76f51", width=3),
        )
    tile_px = min(90, max(26, 1000 // n_cols))  # about square tiles on a ~1000 px wide chart
    fig.update_layout(title=title, height=int(min(1100, max(300, tile_px * n_rows + 110))))
    return fig


def head_heatmap(matrix: np.ndarray, tokens: list[str], title: str) -> go.Figure:
    """One head's (T, T) attention with token labels: row = query, column = key."""
    n = len(tokens)
    labels = [token_label(t) for t in tokens]
    trace = dict(z=matrix, x=list(range(n)), y=list(range(n)), colorscale=WEIGHT_SCALE, zmin=0)
    if n <= 160:  # hover names both tokens; for long texts the positions are enough
        trace["customdata"] = np.array([[f"{q} → {k}" for k in labels] for q in labels])
        trace["hovertemplate"] = "%{customdata}<br>weight %{z:.3f}<extra></extra>"
    else:
        trace["hovertemplate"] = "query %{y} → key %{x}<br>weight %{z:.3f}<extra></extra>"
    fig = go.Figure(go.Heatmap(**trace, colorbar=dict(title="weight")))
    # at most ~24 labels across (words are wider than tall) and ~48 down, so none overlap
    x_ticks = list(range(0, n, max(1, math.ceil(n / 24))))
    y_ticks = list(range(0, n, max(1, math.ceil(n / 48))))
    fig.update_xaxes(
        tickvals=x_ticks,
        ticktext=[labels[i] for i in x_ticks],
        tickangle=-50,
        title="key (attended to)",
    )
    fig.update_yaxes(tickvals=y_ticks, ticktext=[labels[i] for i in y_ticks], autorange="reversed", title="query")
    fig.update_layout(title=title, height=int(min(900, max(420, 15 * min(n, 50) + 170))))
    return fig


def head_frame(matrix: np.ndarray, tokens: list[str]) -> pd.DataFrame:
    """One head's weights as a long table (weights above 1e-4), for export."""
    rows, cols = np.nonzero(matrix > 1e-4)
    pieces = np.array(tokens, dtype=object)
    return pd.DataFrame(
        {
            "query_pos": rows,
            "query": pieces[rows],
            "key_pos": cols,
            "key": pieces[cols],
            "weight": matrix[rows, cols],
        }
    )


def token_lines_figure(matrix: np.ndarray, tokens: list[str], query: int, title: str) -> go.Figure:
    """BertViz's head view: queries on the left, keys on the right, a line per weight.

    All weights above 0.02 are faint grey lines; the chosen query's lines are drawn in colour with
    opacity and width growing with the weight.
    """
    n = len(tokens)
    labels = [token_label(t) for t in tokens]
    fig = go.Figure()
    for low, high in ((0.02, 0.1), (0.1, 0.3), (0.3, 0.6), (0.6, 1.01)):  # faint, by strength
        rows, cols = np.nonzero((matrix >= low) & (matrix < high))
        if len(rows) == 0:
            continue
        xs = np.tile([0.0, 1.0, np.nan], len(rows))
        ys = np.stack([-rows, -cols, np.full(len(rows), np.nan)], 1).ravel()
        fig.add_scatter(
            x=xs,
            y=ys,
            mode="lines",
            line=dict(color="#8d99ae", width=1),
            opacity=0.08 + 0.3 * low,
            hoverinfo="skip",
            showlegend=False,
        )
    row = matrix[query]
    top = max(float(row.max()), 1e-9)
    for key in np.argsort(row)[::-1]:
        weight = float(row[key])
        if weight < 0.005:
            break
        fig.add_scatter(
            x=[0, 1],
            y=[-query, -key],
            mode="lines",
            line=dict(color="#e76f51", width=1 + 7 * weight / top),
            opacity=0.25 + 0.75 * weight / top,
            hovertemplate=f"{labels[query]} → {labels[key]}: {weight:.3f}<extra></extra>",
            showlegend=False,
        )
    fig.add_scatter(
        x=[0] * n,
        y=[-i for i in range(n)],
        mode="text",
        text=labels,
        textposition="middle left",
        textfont=dict(color=["#e76f51" if i == query else "#222" for i in range(n)]),
        hoverinfo="skip",
        showlegend=False,
    )
    fig.add_scatter(
        x=[1] * n,
        y=[-i for i in range(n)],
        mode="text+markers",
        text=labels,
        textposition="middle right",
        marker=dict(size=4 + 14 * row / top, color="#e76f51", opacity=0.6),
        customdata=row,
        hovertemplate="%{text}: %{customdata:.3f}<extra></extra>",
        showlegend=False,
    )
    fig.update_xaxes(visible=False, range=[-0.6, 1.6])
    fig.update_yaxes(visible=False, range=[-n + 0.3, 0.7])
    fig.update_layout(title=title, height=max(320, 22 * n + 80))
    return fig
