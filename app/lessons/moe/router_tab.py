"""Tab "One token through the router": logits, softmax or sigmoid, the bias, top-k, renormalised weights.

It shows the student's run once there is one; before that, a short run of the chosen balancing (SHORT_RUN_STEPS
steps, computed once per server for a named corpus and these settings), so that the router on screen has learned
something and the bias has moved.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import streamlit as st

from app.lessons.moe import data, figures
from app.lessons.moe.routing_tab import DEFAULT_TEXT
from app.page import LessonPage
from models.moe.model import choices_changed_by_bias

TITLE = "One token through the router"
BIASED_ROUTERS = ("softmax", "sigmoid", "noisy")  # the routers whose choice the bias enters


def trace(trainer, text: str, position: int, layer: int):
    kept, routings = trainer.route(text)
    position = min(position, len(kept) - 1)
    r = routings[layer]
    bias = trainer.model.blocks[layer].moe.bias.cpu().numpy()
    changed = int(choices_changed_by_bias(r.probs, r.topk_idx).sum())  # characters whose experts the bias moved
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
        changed,
    )


def the_trainer(page: LessonPage, setup, balance: str):
    """(trainer, caption): the student's run of `balance` once trained, else the short run of it."""
    run = page.run()
    if run is not None and run.trainer.trainers["none"].load_steps:
        trainer = run.trainer.trainers[balance]
        built_with = replace(trainer.config, vocab_size=setup.config.vocab_size, balance=setup.config.balance)
        if built_with == setup.config:  # else a preset or the student changed the settings since: show those
            return trainer, f"Your {figures.RUN_NAMES[balance]} run after {trainer.steps} steps."
    what = f"Training the {figures.RUN_NAMES[balance]} run for {data.SHORT_RUN_STEPS} steps (once per server)"
    caption = (
        f"No run of yours with these settings yet: the {figures.RUN_NAMES[balance]} run after its first {data.SHORT_RUN_STEPS} steps "
        f"(seed {data.SEED}: the run “Train live” would make with these settings), trained once for these "
        "settings. Train in “Train live” to see your own."
    )
    with st.spinner(what + "…"):
        if page.value("corpus", "wiki") == "user":  # a student's own text is never shared with other sessions
            key = (hashlib.sha1(setup.text.encode("utf-8")).hexdigest(), data.config_key(setup.config), balance)
            own = page.result("short-run-own")
            if own is not None and own[0] == key:
                return own[1], caption
            trainer = page.compute("short-run", what, data.short_run, setup.text, setup.config, balance)
            page.keep("short-run-own", (key, trainer))
        else:
            corpus, settings = page.value("corpus", "wiki"), data.config_key(setup.config)
            args = (data.shared_short_run, corpus, settings, balance)
            trainer = page.compute("short-run", what, page.shared, *args, read_only=True)
    return trainer, caption


def render(page: LessonPage) -> None:
    setup = page.data
    c = setup.config
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
    text = page.value("routing.probe_text") or DEFAULT_TEXT
    trainer, caption = the_trainer(page, setup, page.value("router_run", "bias"))
    if trainer is None:
        return
    st.caption(caption)
    layer = min(int(page.value("router_layer", c.n_layers)), c.n_layers) - 1
    result = page.compute("trace", "Routing one character", trace, trainer, text, int(page.value("position", 4)), layer)
    if result is None:
        return
    kept, position, (logits, scores, bias, chosen, weights), changed = result
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
    if trainer.config.router in BIASED_ROUTERS:
        st.caption(
            f"In this layer the bias changed the chosen experts of {changed} of the {len(kept)} characters of the "
            "text (top-k of score + bias against top-k of the score alone); their weights are the scores either way."
        )
    else:
        st.info(
            "Hash routing ignores the scores (the expert is a hash of the character); with expert choice, "
            "experts pick tokens, so the weights above are what the experts chose."
        )
    page.table(frame.style.format(precision=3), hide_index=True, width="stretch")
