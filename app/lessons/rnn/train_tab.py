"""Tab "Train live": a vanilla RNN, an LSTM and a GRU from one seed on one text; how far back their gradients reach."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app.lessons.rnn import figures
from app.lessons.rnn.data import named_text
from app.page import LessonPage
from models.rnn.cells import CELLS
from models.rnn.experiments import gradient_profile
from models.rnn.model import CellComparison, RNNConfig

TITLE = "Train live"
FAR = 63  # the distance the presets quote: the far end of the default chunk
TRAIN_SETTINGS = ["hidden", "bptt", "lr", "clip", "forget_bias", "steps", "corpus", "user_text"]


def cell_configs(config: RNNConfig) -> dict[str, RNNConfig]:
    return {cell: RNNConfig(**{**config.__dict__, "cell": cell}) for cell in CELLS}


def untrained_profiles(corpus: str, config: RNNConfig) -> dict[str, np.ndarray]:
    """Per cell, and the LSTM at forget bias 0 too when the setting is not 0: ‖∂L_last/∂h‖ before training."""
    text = named_text(corpus)
    profiles = gradient_profile(text, config)
    if config.forget_bias != 0:
        zero = RNNConfig(**{**config.__dict__, "forget_bias": 0.0})
        profiles["LSTM, forget bias 0"] = gradient_profile(text, zero, cells=("lstm",))["lstm"]
    return profiles


def far_ratio(profile: np.ndarray, distance: int = FAR) -> float:
    """‖∂L/∂h‖ at `distance` back over the norm at the last position (the last distance if the chunk is shorter)."""
    return float(profile[min(distance, len(profile) - 1)] / profile[0])


def render(page: LessonPage) -> None:
    setup = page.data
    c = setup.config
    st.caption(
        f"Character-level language models on the {setup.text_label} ({len(setup.text):,} characters): "
        f"embedding {c.embed} → one recurrent layer of {c.hidden} units → softmax over the characters; "
        f"{c.batch_size} streams × {c.bptt} characters per step, Adam at {c.lr:g}, clipping at {c.clip:g} "
        "(0 = off). Same seed, same batches; only the cell differs."
    )
    settings = {name: page.value(name) for name in TRAIN_SETTINGS}
    page.train(
        lambda: CellComparison(setup.text, cell_configs(c), seed=0, device=page.device),
        total_steps=int(page.value("steps", 300)),
        render=lambda run: draw(page, run),
        settings=settings,
        chunk_seconds=1.0,
    )
    if page.run() is None or not page.run().history:
        draw_untrained(page, c)


def draw_untrained(page: LessonPage, c: RNNConfig) -> None:
    corpus = page.value("corpus", "wiki")
    if corpus == "user":
        st.caption(
            "The chart before training is drawn on the Wikipedia sample (your text trains when you press Start)."
        )
        corpus = "wiki"
    profiles = page.compute("profiles", "Measuring the untrained gradients", page.shared, untrained_profiles, corpus, c)
    if profiles is None:
        return
    d = min(FAR, c.bptt - 1)
    ratios = {name: far_ratio(p, d) for name, p in profiles.items()}
    cols = st.columns(len(ratios))
    for col, (name, ratio) in zip(cols, ratios.items()):
        label = figures.name_of(name) + (f" (forget bias {c.forget_bias:g})" if name == "lstm" else "")
        col.metric(f"{label}: ‖∂L/∂h‖ {d} back ÷ at the last", f"{ratio:.1e}")
    fig, frame = figures.gradient_profile(profiles, "Before training: how much gradient reaches each character back")
    page.chart(fig, frame, "untrained-gradients")
    st.caption(
        "One chunk of the text through untrained models (seed 0). Each step back multiplies by a Jacobian: the "
        "vanilla RNN's and the GRU's shrink it every step; the LSTM's cell path multiplies by f = σ(forget bias) "
        "only, so its bias decides how far the gradient carries before training."
    )


def draw(page: LessonPage, run) -> None:
    trainers = run.trainer.trainers
    history = run.history_frame()
    rows = []
    for name, t in trainers.items():
        rows.append(
            {
                "cell": figures.name_of(name),
                "parameters": t.n_params,
                "loss (last 10 steps)": float(np.mean(t.losses[-10:])),
                "held-out loss": t.heldout_loss(),
                "characters per second": t.chars_seen / max(t.seconds, 1e-9),
            }
        )
    table = pd.DataFrame(rows)
    page.table(
        table.style.format(
            {
                "parameters": "{:,}",
                "loss (last 10 steps)": "{:.3f}",
                "held-out loss": "{:.3f}",
                "characters per second": "{:,.0f}",
            }
        ),
        hide_index=True,
        width="stretch",
    )
    page.chart(figures.loss_curves(history, trainers), history, "losses")
    grids = {name: t.grad_by_distance for name, t in trainers.items()}
    page.chart(figures.distance_heatmaps(grids), None, "gradient-heatmaps")
    last = {name: float(np.log10(max(g[-1, -1] / g[-1, 0], 1e-30))) for name, g in grids.items()}
    st.caption(
        "Now, at the far end of the chunk: "
        + ", ".join(f"{figures.name_of(n)} 10^{v:.1f}" for n, v in last.items())
        + " of the gradient at the last position."
    )
    st.markdown("**Samples** (temperature 0.8, prompt “The ”):")
    for name, t in trainers.items():
        st.text(f"{figures.name_of(name):>11} · step {t.steps}: {t.sample('The ', 120, 0.8, seed=0)!r}")
