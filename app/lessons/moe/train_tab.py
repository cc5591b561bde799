"""Tab "Train live": three runs of one tiny MoE LM, one seed, three balancing strategies.

Before any run, the untrained router's loads (step 0, where all three runs start) are drawn at once: computed once
per server for a named corpus and these settings, so a class's first views cost a cache look-up.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.lecture import presenter_fold, presenter_mode
from app.lessons.moe import data, figures
from app.page import LessonPage
from models.moe.model import BalanceComparison

TITLE = "Train live"
# the settings recorded with each run (page.train's `settings`), this tab's and the shared ones
TRAIN_SETTINGS = ["n_experts", "top_k", "router", "n_shared", "d_expert", "use_capacity", "capacity_factor"]
TRAIN_SETTINGS += ["aux_loss_coef", "bias_update_rate", "steps", "corpus", "user_text"]


def render(page: LessonPage) -> None:
    setup = page.data
    c = setup.config
    with presenter_fold("The model and its data"):
        st.caption(
            f"A {c.n_layers}-layer character-level transformer (d_model {c.d_model}) whose MLPs are MoE layers "
            f"({c.n_experts} experts of width {c.d_expert}, top-{c.top_k}"
            + (f", {c.n_shared} shared" if c.n_shared else "")
            + f", router: {c.router}), trained on the {setup.text_label} "
            f"({len(setup.text):,} characters), batches of {c.batch_size}×{c.context} characters. The three runs "
            f"share the seed ({data.SEED}), the initial weights and the batches; only the balancing differs."
        )
    settings = {name: page.value(name) for name in TRAIN_SETTINGS}
    run = page.train(
        lambda: BalanceComparison(setup.text, c, seed=data.SEED, device=page.device),
        total_steps=int(page.value("steps", 150)),
        render=lambda run: draw(page, run),
        settings=settings,
        chunk_seconds=1.0,  # three models per step: fewer, larger chunks leave more time to train
    )
    if run is None or not run.trainer.trainers["none"].load_steps:
        first_view(page, setup)


def first_view(page: LessonPage, setup) -> None:
    """Step 0, no click: the untrained router's loads on 4 training batches, per layer."""
    c = setup.config
    if page.value("corpus", "wiki") == "user":  # a student's own text is never shared with other sessions
        loads = page.compute("step0", "Routing the text through the untrained model", data.step0_loads, setup.text, c)
        view = None if loads is None else figures.initial_loads(loads)
    else:
        corpus = page.value("corpus", "wiki")
        view = page.compute(
            "step0",
            "Routing the text through the untrained model",
            page.shared_figure,
            data.step0_view,
            corpus,
            data.config_key(c),
        )
    if view is None:
        return
    fig, frame = view
    shares = frame.pivot(index="layer", columns="expert", values="share").to_numpy()  # (layers, E)
    cv = shares.std(-1) / shares.mean(-1)
    st.markdown(figures.title(f"Step 0: where the untrained router sends {4 * c.batch_size * c.context:,} characters"))
    page.chart(fig, frame, "step0")
    st.caption(
        f"Before any training (the start of all three runs): the busiest expert takes {shares.max():.1%} of the "
        f"assignments (ideal 1/E = {1 / c.n_experts:.1%}, dashed), load CV {cv.max():.2f} in the worst layer. "
        "Nothing holds the loads near the line once training starts: press ▶ Start and watch them drift apart."
    )


def draw(page: LessonPage, run) -> None:
    trainers = run.trainer.trainers
    if not next(iter(trainers.values())).load_steps:
        return
    loads = {name: t.loads.numpy() for name, t in trainers.items()}
    if not presenter_mode():  # on a projector the first chart comes first, above the fold, and the numbers below
        draw_measures(page, trainers)
    n_experts = loads["none"].shape[-1]
    st.markdown(
        figures.title(f"Share of routed assignments per expert over the steps (ideal 1/E = {1 / n_experts:.3f})")
    )
    page.chart(figures.load_heatmaps(loads), None, "loads")
    if presenter_mode():
        draw_measures(page, trainers)
    st.markdown(figures.title("Load now (mean of the last 10 steps); dashed: the ideal 1/E"))
    fig, frame = figures.current_loads(loads)
    page.chart(fig, frame, "load-now")
    st.markdown(figures.title("Training loss and load balance over the steps"))
    page.chart(figures.curves(run.history_frame(), trainers), run.history_frame(), "curves")


def draw_measures(page: LessonPage, trainers: dict) -> None:
    """The balance measures of the three runs now, and what they say."""
    table = figures.measures_table(trainers)
    steps = next(iter(trainers.values())).steps
    st.markdown(figures.title(f"After step {steps}: balance of the mean load of the last 10 steps (worst layer)"))
    page.table(
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
