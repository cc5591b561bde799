"""Tab "One token through the router": logits, softmax or sigmoid, the bias, top-k, renormalised weights."""

from __future__ import annotations

import streamlit as st

from app.lessons.moe import figures
from app.page import LessonPage
from models.moe.model import MoETrainer

TITLE = "One token through the router"


def trace(trainer, text: str, position: int, layer: int):
    kept, routings = trainer.route(text)
    position = min(position, len(kept) - 1)
    r = routings[layer]
    bias = trainer.model.blocks[layer].moe.bias.cpu().numpy()
    return (
        kept,
        position,
        (
            r.logits[position].cpu().numpy(),
            r.probs[position].cpu().numpy(),
            bias,
            r.topk_idx[position].cpu().numpy(),
            r.topk_weights[position].cpu().numpy(),
        ),
    )


def render(page: LessonPage) -> None:
    setup = page.data
    c = setup.config
    run = page.run()
    cols = st.columns(3)
    with cols[0]:
        page.widget(
            st.selectbox,
            "router_run",
            "Run",
            list(figures.RUN_NAMES),
            default="bias",
            format_func=figures.RUN_NAMES.get,
        )
    with cols[1]:
        page.widget(st.slider, "router_layer", "Layer", 1, c.n_layers, default=c.n_layers)
    with cols[2]:
        page.widget(st.number_input, "position", "Character position in the text", 0, 500, default=4)
    text = page.value("routing.probe_text") or "The history of the city"
    trained = run is not None and run.trainer.trainers["none"].load_steps
    if trained:
        trainer = run.trainer.trainers[page.value("router_run", "bias")]
        st.caption(f"The {figures.RUN_NAMES[page.value('router_run', 'bias')]} run after {trainer.steps} steps.")
    else:
        trainer = page.compute("fresh", "Building an untrained model", MoETrainer, setup.text, c, 0, page.device)
        if trainer is None:
            return
        st.caption("An untrained model (train in “Train live” to see a learned router and a moved bias).")
    layer = min(int(page.value("router_layer", c.n_layers)), c.n_layers) - 1
    result = page.compute("trace", "Routing one character", trace, trainer, text, int(page.value("position", 4)), layer)
    if result is None:
        return
    kept, position, (logits, scores, bias, chosen, weights) = result
    before, ch, after = (
        kept[max(0, position - 20) : position],
        kept[position],
        kept[position + 1 : position + 21],
    )
    st.markdown(
        f"Character **{ch!r}** at position {position} of “{before}**{ch}**{after}” (text of the "
        "“Which expert” tab), layer " + str(layer + 1)
    )
    fig, frame = figures.router_steps(logits, scores, bias, chosen, weights, trainer.config.router)
    page.chart(fig, frame, "router")
    norm = "softmax over all E" if trainer.config.router != "sigmoid" else "sigmoid of each logit"
    picked = ", ".join(f"{int(e)} ({scores[int(e)]:.3f})" for e in chosen)
    mixed = " + ".join(f"{w:.3f}·expert {int(e)}" for e, w in zip(chosen, weights))
    st.markdown(
        f"1. The router multiplies the hidden state by its weight matrix: {len(logits)} logits.\n"
        f"2. Scores: {norm}. The **bias** (max |b| = {abs(bias).max():.3f}) is added for the *choice only*.\n"
        f"3. Top-{len(chosen)} of score + bias: experts {picked}.\n"
        f"4. Their scores renormalised to sum to 1 (the bias left out): output = {mixed}."
    )
    if trainer.config.router in ("hash", "expert_choice"):
        st.info(
            "Hash routing ignores the scores (the expert is a hash of the character); with expert choice, "
            "experts pick tokens, so the weights above are what the experts chose."
        )
    st.dataframe(frame.style.format(precision=3), hide_index=True, width="stretch")
