"""Tab "Train live": three runs of one tiny MoE LM, one seed, three balancing strategies."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.lessons.moe import figures
from app.page import LessonPage
from models.moe.model import BalanceComparison

TITLE = "Train live"
# the settings recorded with each run (page.train's `settings`), this tab's and the shared ones
TRAIN_SETTINGS = ["n_experts", "top_k", "router", "n_shared", "use_capacity", "capacity_factor"]
TRAIN_SETTINGS += ["aux_loss_coef", "bias_update_rate", "steps", "corpus", "user_text"]


def render(page: LessonPage) -> None:
    setup = page.data
    c = setup.config
    st.caption(
        f"A {c.n_layers}-layer character-level transformer (d_model {c.d_model}) whose MLPs are MoE layers "
        f"({c.n_experts} experts, top-{c.top_k}, router: {c.router}), trained on the {setup.text_label} "
        f"({len(setup.text):,} characters), batches of {c.batch_size}×{c.context} characters. The three runs "
        "share the seed, the initial weights and the batches; only the balancing differs."
    )
    settings = {name: page.value(name) for name in TRAIN_SETTINGS}
    page.train(
        lambda: BalanceComparison(setup.text, c, seed=0, device=page.device),
        total_steps=int(page.value("steps", 150)),
        render=lambda run: draw(page, run),
        settings=settings,
        chunk_seconds=1.0,  # three models per step: fewer, larger chunks leave more time to train
    )


def draw(page: LessonPage, run) -> None:
    trainers = run.trainer.trainers
    if not next(iter(trainers.values())).load_steps:
        return
    loads = {name: t.loads.numpy() for name, t in trainers.items()}
    table = figures.measures_table(trainers)
    st.dataframe(
        table.style.format(
            {
                "loss (last 10 steps)": "{:.3f}",
                "load CV (worst layer)": "{:.2f}",
                "max share": "{:.1%}",
                "dropped assignments": "{:.1%}",
            }
        ),
        hide_index=True,
        width="stretch",
    )
    losses = table["loss (last 10 steps)"].to_numpy()
    cv = table["load CV (worst layer)"].to_numpy()
    spread = float(np.ptp(losses))
    verdict = (
        "so far balancing has barely changed the loss: the collapse wastes experts more than it hurts"
        if spread < 0.05
        else "balancing changes the loss too"
    )
    st.caption(
        f"Measured now: load CV {cv[0]:.2f} without balancing against {cv[1]:.2f} (aux loss) and "
        f"{cv[2]:.2f} (bias); 0 is perfectly even. The losses differ by {spread:.3f} nats: {verdict}."
    )
    page.chart(figures.load_heatmaps(loads), None, "loads")
    fig, frame = figures.current_loads(loads)
    page.chart(fig, frame, "load-now")
    page.chart(figures.curves(run.history_frame(), trainers), run.history_frame(), "curves")
