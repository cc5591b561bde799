"""Train a tiny transformer tab, pure part: the trainer factory (the model's config and the task
validate the settings), the toy model's attention maps and its prediction on one fixed example.
No Streamlit calls.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from app.lessons.attention.labels import WEIGHT_SCALE
from models.attention.tiny_transformer import TinyTrainer, TinyTransformerConfig, make_task

TASK_FIELDS = ("task", "length", "n_symbols", "block_size")  # the task's settings
CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(TinyTransformerConfig))


def build_trainer(settings: dict, device: str, wiki_text) -> TinyTrainer:
    """The training kit's factory: settings are named like the config's fields and make_task's
    arguments; the config and the task validate them. wiki_text() -> str (read only for char_lm)."""
    config = TinyTransformerConfig(**{k: settings[k] for k in CONFIG_FIELDS if k in settings})
    text = wiki_text() if settings["task"] == "char_lm" else None
    task = make_task(settings["task"], settings["length"], settings["n_symbols"], text, settings["block_size"])
    return TinyTrainer(config, task, device=device, seed=settings["seed"])


def tiny_attention_figure(maps: np.ndarray, labels: list[str], title: str) -> go.Figure:
    """A grid of (T, T) maps: rows = layers, columns = heads."""
    n_layers, n_heads = maps.shape[:2]
    fig = make_subplots(
        n_layers,
        n_heads,
        subplot_titles=[f"layer {layer} head {h}" for layer in range(n_layers) for h in range(n_heads)],
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
