"""One head step by step, pure part: the real q, k, v of one head of a transformers model (Llama-style
with RoPE, or BERT-style), every intermediate of attention, and softmax saturation against the head
dimension (why scores are divided by sqrt(d), Vaswani et al. 2017). No Streamlit calls.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from app.lessons.attention.labels import WEIGHT_SCALE, token_label, unique_labels
from models.attention.mechanism import attention_steps
from models.attention.positional import apply_rope


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
    return attention_steps(qkv["q"], qkv["k"], qkv["v"], causal=causal, scale=scale, temperature=temperature)


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


def matrix_figure(panels: list[tuple[str, np.ndarray, int]], tokens: list[str], columns: int = 2) -> go.Figure:
    """(T, T) matrices with their numbers written in: (title, matrix, digits) per panel."""
    labels = unique_labels([token_label(t) for t in tokens])
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
    fig.update_layout(
        title="Attention of this head, step by step (row = query, column = key)",
        height=rows * max(260, 34 * len(tokens) + 90) + 40,
    )
    return fig


def qkv_figure(q: np.ndarray, k: np.ndarray, v: np.ndarray, output: np.ndarray, tokens: list[str]) -> go.Figure:
    """Q, K, V and the output (T, D) side by side; each row is one token's vector."""
    labels = unique_labels([token_label(t) for t in tokens])
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
    fig.update_layout(
        title="This head's vectors: one row per token (red > 0, blue < 0)",
        height=max(240, 28 * len(tokens) + 110) + 40,
    )
    return fig


def row_entropy(weights: torch.Tensor) -> float:
    """Mean entropy (nats) of the rows of a (T, T) weights matrix."""
    return float(-(weights * weights.clamp_min(1e-30).log()).sum(-1).mean())


def entropy_against_dim(dims: list[int], n_keys: int = 32, n_samples: int = 16, seed: int = 0) -> pd.DataFrame:
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


SCALING_COLORS = {"none": "#d62728", "÷√d": "#1f77b4"}  # one colour per scaling, in both panels


def entropy_dim_figure(frame: pd.DataFrame, n_keys: int, head_dim: int | None) -> go.Figure:
    fig = make_subplots(1, 2, subplot_titles=["mean entropy of a row (nats)", "mean largest weight in a row"])
    for scaling, part in frame.groupby("scaling", sort=False):
        for col, metric in ((1, "entropy"), (2, "max_weight")):
            fig.add_scatter(
                x=part["d"],
                y=part[metric],
                mode="lines+markers",
                name="scores unscaled" if scaling == "none" else "scores ÷ √d",
                line=dict(color=SCALING_COLORS.get(scaling)),
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
    dims = sorted(frame["d"].unique())
    fig.update_xaxes(type="log", title_text="head dimension d", tickvals=dims, ticktext=dims)
    fig.update_layout(
        title=f"Why divide by √d: random q, k, {n_keys} keys",
        height=360,
        legend=dict(orientation="h", y=-0.3),
    )
    return fig
