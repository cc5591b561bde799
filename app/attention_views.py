"""Data preparation and plotly figures for the Attention lesson (pages/attention.py). No Streamlit calls.

- Real model: every head as a thumbnail mosaic, one head as a large heatmap, a BertViz-style head view
  (Vig 2019, https://arxiv.org/abs/1906.05714) and the per-head measures as layer-by-head maps.
- One head step by step: the real q, k, v of one head of a transformers model (Llama-style with RoPE,
  or BERT-style), every intermediate of attention, and softmax saturation against the head dimension.
- Positional encodings: sinusoidal table, RoPE rotations and decay, ALiBi biases.
- Tiny transformer: attention maps of a toy model and its prediction on one example.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from models.attention import attention_steps
from models.attention_probes import (
    AttentionTrace,
    attention_by_offset,
    attention_for_ids,
    extract_attention,
    head_measures,
    induction_sequence,
)
from models.positional import (
    alibi_bias,
    alibi_slopes,
    apply_rope,
    position_similarity,
    rope_cos_sin,
    rope_score_against_distance,
    similarity_against_distance,
    sinusoidal_positions,
)
from models.registry import model_kind
from models.tiny_transformer import TinyTrainer, TinyTransformerConfig, make_task

ZWSP = "\u200b"  # zero-width space: makes category labels unique without changing what is shown
WEIGHT_SCALE = "Viridis"


def token_label(piece: str) -> str:
    """A token as an axis label: spaces shown as · so that ' the' and 'the' differ."""
    return piece.replace(" ", "·").replace("\n", "↵") or "∅"


def _unique(labels: list[str]) -> list[str]:
    """Make labels unique for a categorical axis by appending zero-width spaces."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        n = seen.get(label, 0)
        seen[label] = n + 1
        out.append(label + ZWSP * n)
    return out


# ----------------------------------------------------------------------------- every head at a glance


def readable(tokenizer, ids) -> list[str]:
    """One label per token id (the decoded piece)."""
    return [tokenizer.decode([i]).replace("\n", "\\n") or str(i) for i in ids]


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
    every = max(1, math.ceil(n / 50))
    ticks = list(range(0, n, every))
    fig.update_xaxes(tickvals=ticks, ticktext=[labels[i] for i in ticks], title="key (attended to)")
    fig.update_yaxes(
        tickvals=ticks, ticktext=[labels[i] for i in ticks], autorange="reversed", title="query"
    )
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


# ----------------------------------------------------------------------------- per-head measures

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
        horizontal_spacing=0.1,
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
                x=x_domain[1] + 0.01,
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
    fig.update_layout(height=int(min(1000, max(420, 2 * rows_px + 260))))
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
        heads = ", ".join(
            f"L{r.layer} H{r.head} ({getattr(r, name):.2f})" for r in best.itertuples()
        )
        lines.append(f"**{MEASURE_TITLES[name]}**: {heads}")
    return lines


def offset_frame(offsets: np.ndarray, means: np.ndarray) -> pd.DataFrame:
    """(H, K) means by offset -> a table with one column per head."""
    return pd.DataFrame(means.T, columns=[f"H{h}" for h in range(len(means))]).assign(
        offset=offsets
    )


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


# ----------------------------------------------------------------------------- one head, step by step


def _decoder_layers(model):
    """(layers, kind): Llama-style decoder layers ('llama') or BERT-style encoder layers ('bert')."""
    body = getattr(model, "base_model", model)
    layers = getattr(body, "layers", None)
    if layers is not None and hasattr(layers[0], "self_attn") and hasattr(body, "rotary_emb"):
        return body, layers, "llama"
    encoder = getattr(body, "encoder", None)
    layers = getattr(encoder, "layer", None)
    if layers is not None and hasattr(layers[0].attention, "self"):
        return body, layers, "bert"
    raise ValueError(
        f"The step-through reads q, k, v from Llama-style or BERT-style models; "
        f"{type(model).__name__} is neither. Pick SmolLM2 or MiniLM."
    )


@torch.inference_mode()
def real_head_qkv(model, ids: list[int], layer: int, head: int) -> dict:
    """The real q, k, v (T, D) of one head, after RoPE, plus the model's own weights for that head."""
    body, layers, kind = _decoder_layers(model)
    device = next(model.parameters()).device
    input_ids = torch.tensor([ids], device=device)  # (1, T)
    was_training = model.training
    model.eval()
    try:
        outputs = body(input_ids=input_ids, output_hidden_states=True, output_attentions=True)
    finally:
        model.train(was_training)
    hidden = outputs.hidden_states[layer]  # (1, T, C): the input of this layer
    if kind == "llama":
        block = layers[layer]
        attn = block.self_attn
        x = block.input_layernorm(hidden)
        head_dim = attn.head_dim
        q = attn.q_proj(x).view(1, len(ids), -1, head_dim).transpose(1, 2)  # (1, H, T, D)
        k = attn.k_proj(x).view(1, len(ids), -1, head_dim).transpose(1, 2)  # (1, Hkv, T, D)
        v = attn.v_proj(x).view(1, len(ids), -1, head_dim).transpose(1, 2)  # (1, Hkv, T, D)
        if hasattr(attn, "q_norm"):  # Qwen3-style per-head norms
            q, k = attn.q_norm(q), attn.k_norm(k)
        positions = torch.arange(len(ids), device=device)[None]  # (1, T)
        cos, sin = body.rotary_emb(x, positions)  # (1, T, D), as the model computes them
        q, k = apply_rope(q, k, cos, sin)
        kv_head = head // (q.shape[1] // k.shape[1])
        q, k, v = q[0, head], k[0, kv_head], v[0, kv_head]
    else:
        attn = layers[layer].attention.self
        head_dim = attn.attention_head_size
        span = slice(head * head_dim, (head + 1) * head_dim)
        q, k, v = (proj(hidden)[0, :, span] for proj in (attn.query, attn.key, attn.value))
    return {
        "q": q.float().cpu(),
        "k": k.float().cpu(),
        "v": v.float().cpu(),
        "scale": float(getattr(attn, "scaling", head_dim**-0.5)),
        "rope": kind == "llama",
        "model_causal": kind == "llama",
        "model_weights": outputs.attentions[layer][0, head].float().cpu(),  # (T, T)
    }


def run_steps(qkv: dict, causal: bool, scaled: bool, temperature: float) -> dict:
    """attention_steps on a head's q, k, v with the page's toggles."""
    scale = qkv["scale"] if scaled else 1.0
    return attention_steps(
        qkv["q"], qkv["k"], qkv["v"], causal=causal, scale=scale, temperature=temperature
    )


def step_panels(steps: dict, factor: float) -> list[tuple[str, np.ndarray, int]]:
    """The four (T, T) stages of attention_steps, titled, with the digits to print."""
    return [
        ("1. scores Q·Kᵀ", steps["scores"].numpy(), 1),
        (f"2. × {factor:.4g} (scale ÷ temperature)", steps["scaled_scores"].numpy(), 2),
        ("3. + mask (−∞ = may not look)", steps["masked_scores"].numpy(), 2),
        ("4. softmax of each row = weights", steps["weights"].numpy(), 2),
    ]


def worked_row(steps: dict, tokens: list[str], row: int) -> pd.DataFrame:
    """One query's row through every stage."""
    return pd.DataFrame(
        {
            "key": [token_label(t) for t in tokens],
            "q·k": steps["scores"][row].numpy(),
            "scaled": steps["scaled_scores"][row].numpy(),
            "masked": steps["masked_scores"][row].numpy(),
            "weight": steps["weights"][row].numpy(),
        }
    )


def _number_text(matrix: np.ndarray, digits: int) -> list[list[str]]:
    return [["−∞" if np.isneginf(v) else f"{v:.{digits}f}" for v in row] for row in matrix]


def matrix_figure(
    panels: list[tuple[str, np.ndarray, int]], tokens: list[str], columns: int = 2
) -> go.Figure:
    """(T, T) matrices with their numbers written in: (title, matrix, digits) per panel."""
    labels = _unique([token_label(t) for t in tokens])
    rows = math.ceil(len(panels) / columns)
    fig = make_subplots(rows, columns, subplot_titles=[p[0] for p in panels], vertical_spacing=0.12)
    for i, (_, matrix, digits) in enumerate(panels):
        shown = np.where(np.isneginf(matrix), np.nan, matrix)
        finite = shown[np.isfinite(shown)]
        fig.add_heatmap(
            z=shown,
            x=labels,
            y=labels,
            text=_number_text(matrix, digits),
            texttemplate="%{text}",
            textfont=dict(size=10),
            colorscale="RdBu_r" if finite.min(initial=0) < 0 else WEIGHT_SCALE,
            zmid=0 if finite.min(initial=0) < 0 else None,
            showscale=False,
            hovertemplate="query %{y} → key %{x}<br>%{text}<extra></extra>",
            row=i // columns + 1,
            col=i % columns + 1,
        )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=rows * max(260, 34 * len(tokens) + 90))
    return fig


def qkv_figure(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, output: np.ndarray, tokens: list[str]
) -> go.Figure:
    """Q, K, V and the output (T, D) side by side; each row is one token's vector."""
    labels = _unique([token_label(t) for t in tokens])
    titles = ["Q (queries)", "K (keys)", "V (values)", "output = weights · V"]
    fig = make_subplots(1, 4, subplot_titles=titles, horizontal_spacing=0.04, shared_yaxes=True)
    for i, matrix in enumerate((q, k, v, output)):
        limit = float(np.percentile(np.abs(matrix), 98)) or 1.0  # a few outliers would wash it out
        fig.add_heatmap(
            z=matrix,
            y=labels,
            colorscale="RdBu_r",
            zmin=-limit,
            zmax=limit,
            showscale=False,
            hovertemplate="%{y}, dim %{x}<br>%{z:.3f}<extra></extra>",
            row=1,
            col=i + 1,
        )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="dimension")
    fig.update_layout(height=max(240, 28 * len(tokens) + 110))
    return fig


def row_entropy(weights: torch.Tensor) -> float:
    """Mean entropy (nats) of the rows of a (T, T) weights matrix."""
    return float(-(weights * weights.clamp_min(1e-30).log()).sum(-1).mean())


def entropy_against_dim(
    dims: list[int], n_keys: int = 32, n_samples: int = 16, seed: int = 0
) -> pd.DataFrame:
    """Mean softmax entropy of q·k scores for random unit-variance q, k, with and without 1/√d.

    Without the scaling the score variance grows like d, the softmax saturates to one key and its
    entropy collapses; with it the scores keep unit variance at every d.
    """
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for d in dims:
        q = torch.randn(n_samples, n_keys, d, generator=generator, dtype=torch.float64)
        k = torch.randn(n_samples, n_keys, d, generator=generator, dtype=torch.float64)
        for scaled in (True, False):
            scale = 1 / math.sqrt(d) if scaled else 1.0
            weights = attention_steps(q, k, k, scale=scale)["weights"]
            entropy = float(-(weights * weights.clamp_min(1e-300).log()).sum(-1).mean())
            rows.append(
                {
                    "d": d,
                    "scaling": "÷√d" if scaled else "none",
                    "entropy": entropy,
                    "max_weight": float(weights.amax(-1).mean()),
                }
            )
    return pd.DataFrame(rows)


def entropy_dim_figure(frame: pd.DataFrame, n_keys: int, head_dim: int | None) -> go.Figure:
    fig = make_subplots(
        1, 2, subplot_titles=["mean entropy of a row (nats)", "mean largest weight in a row"]
    )
    for scaling, part in frame.groupby("scaling", sort=False):
        for col, metric in ((1, "entropy"), (2, "max_weight")):
            fig.add_scatter(
                x=part["d"],
                y=part[metric],
                mode="lines+markers",
                name=f"scores {scaling}" if scaling == "none" else "scores ÷ √d",
                legendgroup=scaling,
                showlegend=col == 1,
                row=1,
                col=col,
            )
    fig.add_hline(
        y=math.log(n_keys),
        line_dash="dot",
        annotation_text=f"uniform over {n_keys} keys",
        row=1,
        col=1,
    )
    if head_dim:
        for col in (1, 2):
            fig.add_vline(x=head_dim, line_dash="dash", line_color="#999", row=1, col=col)
    fig.update_xaxes(type="log", title_text="head dimension d")
    fig.update_layout(height=340, legend=dict(orientation="h", y=-0.25))
    return fig


# ----------------------------------------------------------------------------- positional encodings


def sinusoidal_figure(table: np.ndarray) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=table,
            colorscale="RdBu_r",
            zmid=0,
            hovertemplate="position %{y}, dim %{x}<br>%{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Sinusoidal table PE[position, dimension]",
        xaxis_title="dimension (sin, cos pairs; slower to the right)",
        yaxis_title="position",
        yaxis=dict(autorange="reversed"),
        height=420,
    )
    return fig


def similarity_figure(similarity: np.ndarray, distances, means) -> go.Figure:
    fig = make_subplots(
        1,
        2,
        subplot_titles=["cosine similarity", "mean by distance"],
        column_widths=[0.45, 0.55],
    )
    fig.add_heatmap(
        z=similarity,
        colorscale="RdBu_r",
        zmid=0,
        showscale=False,
        hovertemplate="positions %{y} and %{x}<br>%{z:.3f}<extra></extra>",
        row=1,
        col=1,
    )
    fig.add_scatter(x=distances, y=means, mode="lines", name="mean cosine", row=1, col=2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_xaxes(title_text="distance |i − j|", row=1, col=2)
    fig.update_layout(height=420, showlegend=False)
    return fig


def rope_rotation_frame(n_positions: int, head_dim: int, pairs: list[int], base: float):
    """Where RoPE moves a query (1, 0) in the plane of each frequency pair, position by position."""
    cos, sin = rope_cos_sin(n_positions, head_dim, base, dtype=torch.float64)  # (T, D)
    rows = []
    half = head_dim // 2
    for pair in pairs:
        q = torch.zeros(1, 1, n_positions, head_dim, dtype=torch.float64)
        q[..., pair] = 1.0  # the vector (1, 0) in the plane of dimensions (pair, pair + D/2)
        rotated, _ = apply_rope(q, q, cos, sin)
        for position in range(n_positions):
            rows.append(
                {
                    "pair": pair,
                    "position": position,
                    "x": float(rotated[0, 0, position, pair]),
                    "y": float(rotated[0, 0, position, pair + half]),
                    "angle_per_position": base ** (-2 * pair / head_dim),
                }
            )
    return pd.DataFrame(rows)


def rope_rotation_figure(frame: pd.DataFrame) -> go.Figure:
    pairs = list(dict.fromkeys(frame["pair"]))
    titles = [
        f"pair {p}: {frame[frame.pair == p].angle_per_position.iloc[0]:.3g} rad/step" for p in pairs
    ]
    fig = make_subplots(1, len(pairs), subplot_titles=titles)
    angle = np.linspace(0, 2 * np.pi, 100)
    for i, pair in enumerate(pairs):
        part = frame[frame.pair == pair]
        fig.add_scatter(
            x=np.cos(angle),
            y=np.sin(angle),
            mode="lines",
            line=dict(color="#ddd"),
            hoverinfo="skip",
            row=1,
            col=i + 1,
        )
        fig.add_scatter(
            x=part["x"],
            y=part["y"],
            mode="markers+text",
            text=[str(p) if p < 12 else "" for p in part["position"]],
            textposition="top center",
            marker=dict(color=part["position"], colorscale="Plasma", size=8),
            customdata=part["position"],
            hovertemplate="position %{customdata}<br>(%{x:.2f}, %{y:.2f})<extra></extra>",
            row=1,
            col=i + 1,
        )
        fig.update_xaxes(range=[-1.3, 1.3], row=1, col=i + 1)
        fig.update_yaxes(range=[-1.3, 1.3], scaleanchor=f"x{i + 1 if i else ''}", row=1, col=i + 1)
    fig.update_layout(height=380, showlegend=False)
    return fig


def rope_decay_figure(distances: np.ndarray, scores: np.ndarray, head_dim: int) -> go.Figure:
    fig = go.Figure(go.Scatter(x=distances, y=scores, mode="lines", name="q·k after RoPE"))
    fig.update_layout(
        title=f"RoPE long-term decay (d = {head_dim})",
        xaxis_title="distance m − n",
        yaxis_title="q·k (q = k = ones)",
        height=380,
    )
    return fig


def alibi_figure(bias: np.ndarray, slopes: np.ndarray) -> go.Figure:
    n_heads = bias.shape[0]
    columns = min(n_heads, 4)
    rows = math.ceil(n_heads / columns)
    fig = make_subplots(
        rows,
        columns,
        subplot_titles=[f"H{h}: {s:.3g}" for h, s in enumerate(slopes)],
        vertical_spacing=0.12,
    )
    for h in range(n_heads):
        fig.add_heatmap(
            z=bias[h],
            colorscale="Blues_r",
            zmin=float(bias.min()),  # one scale for all heads: gentle slopes stay pale
            zmax=0,
            showscale=h == 0,
            hovertemplate="query %{y}, key %{x}<br>bias %{z:.2f}<extra></extra>",
            row=h // columns + 1,
            col=h % columns + 1,
        )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=260 * rows + 60)
    return fig


def positional_charts(
    n_positions: int, dim: int, base: float, alibi_heads: int, alibi_size: int = 24
) -> dict[str, tuple[go.Figure, pd.DataFrame | None]]:
    """Every chart of the Positional encodings tab: {name: (figure, data to export)}."""
    table = sinusoidal_positions(n_positions, dim, base)  # (T, C)
    distances, means = similarity_against_distance(table)
    similarity = position_similarity(table).numpy()
    pairs = sorted({0, dim // 8, dim // 2 - 1})  # fastest, one in between, slowest
    rotation = rope_rotation_frame(min(n_positions, 48), dim, pairs, base)
    decay = rope_score_against_distance(dim, 512, base).numpy()
    bias = alibi_bias(alibi_heads, min(n_positions, alibi_size)).numpy()
    slopes = alibi_slopes(alibi_heads).numpy()
    slopes_fig = go.Figure(go.Bar(x=[f"H{h}" for h in range(alibi_heads)], y=slopes))
    slopes_fig.update_layout(title="Slope per head", height=360)
    return {
        "positional-sinusoidal": (
            sinusoidal_figure(table.numpy()),
            pd.DataFrame(table.numpy()).rename_axis("position").reset_index(),
        ),
        "positional-similarity": (
            similarity_figure(similarity, distances.numpy(), means.numpy()),
            pd.DataFrame({"distance": distances.numpy(), "mean_cosine": means.numpy()}),
        ),
        "positional-rope-rotation": (rope_rotation_figure(rotation), rotation),
        "positional-rope-decay": (
            rope_decay_figure(np.arange(len(decay)), decay, dim),
            pd.DataFrame({"distance": np.arange(len(decay)), "score": decay}),
        ),
        "positional-alibi": (
            alibi_figure(bias, slopes),
            pd.DataFrame({"head": range(alibi_heads), "slope": slopes}),
        ),
        "positional-alibi-slopes": (slopes_fig, None),
    }


# ----------------------------------------------------------------------------- tiny transformer


def build_trainer(settings: dict, device: str, wiki_text) -> TinyTrainer:
    """The training kit's factory; ValueErrors carry a message for the page. wiki_text() -> str."""
    d_model, n_heads = settings["d_model"], settings["n_heads"]
    if d_model % n_heads:
        raise ValueError(f"d_model {d_model} must be divisible by the {n_heads} heads.")
    if settings["positional"] == "rope" and (d_model // n_heads) % 2:
        raise ValueError("RoPE rotates pairs of dimensions: d_model / heads must be even.")
    if settings["task"] != "char_lm" and settings["length"] > settings["n_symbols"]:
        raise ValueError(
            f"The {settings['length']} symbols of a sequence are distinct, so they need an "
            f"alphabet of at least {settings['length']} (it has {settings['n_symbols']})."
        )
    text = wiki_text() if settings["task"] == "char_lm" else None
    task = make_task(
        settings["task"], settings["length"], settings["n_symbols"], text, settings["block"]
    )
    config = TinyTransformerConfig(
        d_model=d_model,
        n_heads=n_heads,
        n_layers=settings["n_layers"],
        positional=settings["positional"],
        causal=settings["causal"],
        lr=settings["lr"],
        batch_size=settings["batch"],
    )
    return TinyTrainer(config, task, device=device, seed=settings["seed"])


def tiny_attention_figure(maps: np.ndarray, labels: list[str], title: str) -> go.Figure:
    """A grid of (T, T) maps: rows = layers, columns = heads."""
    n_layers, n_heads = maps.shape[:2]
    fig = make_subplots(
        n_layers,
        n_heads,
        subplot_titles=[
            f"layer {layer} head {h}" for layer in range(n_layers) for h in range(n_heads)
        ],
        horizontal_spacing=0.03,
        vertical_spacing=0.08,
    )
    n = len(labels)
    every = max(1, math.ceil(n / 20))
    ticks = list(range(0, n, every))
    for layer in range(n_layers):
        for h in range(n_heads):
            fig.add_heatmap(
                z=maps[layer, h],
                colorscale=WEIGHT_SCALE,
                zmin=0,
                zmax=1,
                showscale=layer == 0 and h == 0,
                hovertemplate="query %{y} → key %{x}<br>%{z:.2f}<extra></extra>",
                row=layer + 1,
                col=h + 1,
            )
    fig.update_xaxes(tickvals=ticks, ticktext=[labels[i] for i in ticks], tickangle=0)
    fig.update_yaxes(tickvals=ticks, ticktext=[labels[i] for i in ticks], autorange="reversed")
    fig.update_layout(title=title, height=int(300 * n_layers + 60))
    return fig


@torch.no_grad()
def tiny_example(trainer) -> tuple[list[int], np.ndarray, list[int]]:
    """One fixed example of the task: its ids, the attention maps (L, H, T, T), and the predictions."""
    example = trainer.task.get_batch(1, torch.Generator().manual_seed(trainer.seed))[0][0]
    maps = trainer.attention_maps(example).numpy()
    trainer.model.eval()
    logits, _ = trainer.model(example[None].to(trainer.device))
    trainer.model.train()
    return example.tolist(), maps, logits[0].argmax(-1).cpu().tolist()
