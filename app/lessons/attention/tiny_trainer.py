"""Train a tiny transformer tab, pure part: the trainer factory (with its messages for bad settings),
the toy model's attention maps and its prediction on one fixed example. No Streamlit calls.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from app.attention_lesson.labels import WEIGHT_SCALE
from models.tiny_transformer import TinyTrainer, TinyTransformerConfig, make_task


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
