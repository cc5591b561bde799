"""Tab "Which expert": a text coloured by expert, per layer, and what each expert receives most."""

from __future__ import annotations

import streamlit as st
import torch

from app.lessons.moe import figures
from app.page import LessonPage

TITLE = "Which expert"
DEFAULT_TEXT = "The history of the city began in 1850, when the first railway reached the river."


def route(trainer, text: str):
    kept, routings = trainer.route(text)
    return kept, [(r.topk_idx.cpu().numpy(), r.topk_weights.cpu().numpy()) for r in routings]


@torch.no_grad()
def sample_specialisation(trainer, layer: int, windows: int = 48):
    """Route `windows` training windows and count which expert each character goes to first."""
    g = torch.Generator().manual_seed(1)
    c = trainer.config
    start = torch.randint(0, len(trainer.data) - c.context, (windows,), generator=g)
    ids = trainer.data[(start[:, None] + torch.arange(c.context)).to(trainer.data.device)]
    was_training = trainer.model.training
    trainer.model.eval()
    _, routings = trainer.model(ids)
    trainer.model.train(was_training)
    chars = [trainer.chars[i] for i in ids.reshape(-1).tolist()]
    return figures.specialisation(chars, routings[layer].topk_idx[:, 0].cpu().numpy(), c.n_experts)


def render(page: LessonPage) -> None:
    run = page.run()
    cols = st.columns([1, 3])
    with cols[0]:
        page.widget(
            st.selectbox, "view_run", "Run", list(figures.RUN_NAMES), default="none", format_func=figures.RUN_NAMES.get
        )
    with cols[1]:
        page.widget(st.text_input, "probe_text", "Text to route", default=DEFAULT_TEXT)
    if run is None or not run.trainer.trainers["none"].load_steps:
        st.info("Train first (tab “Train live”: ▶ Start or ⏭ Step); then each character here shows its expert.")
        return
    trainer = run.trainer.trainers[page.value("view_run", "none")]
    routed = page.compute("routed", "Routing the text", route, trainer, page.value("probe_text", ""))
    if routed is None:
        return
    kept, layers = routed
    st.caption(f"The first {trainer.config.context} characters the model knows (its training window).")
    st.markdown(figures.legend_html(trainer.config.n_experts), unsafe_allow_html=True)
    for layer, (idx, weights) in enumerate(layers):
        st.markdown(f"**Layer {layer + 1}** (colour: first-choice expert; hover a character for all k)")
        st.markdown(figures.coloured_text(kept, idx, weights), unsafe_allow_html=True)
    st.subheader("What each expert receives most")
    layer = len(layers) - 1
    table = sample_specialisation(trainer, layer)
    st.caption(
        f"Layer {layer + 1}, {48 * trainer.config.context:,} characters of the training text, first choices. "
        "In brackets: the share of that character's occurrences sent to this expert. "
        f"Run: {figures.RUN_NAMES[page.value('view_run', 'none')]} after {trainer.steps} steps."
    )
    page.table(table.style.format({"share of characters": "{:.1%}"}), hide_index=True, width="stretch")
