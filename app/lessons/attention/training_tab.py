"""Train a tiny transformer tab: a 2-layer transformer learns a toy task live. Without positions
(and without a mask) it cannot reverse a sequence; without a causal mask a character LM learns to
read the next character instead of predicting it, which generation exposes.
"""

import streamlit as st
import torch

from app.lecture import advanced_controls
from app.lessons.attention import tiny_trainer
from app.lessons.attention.labels import token_label
from app.page import LessonPage, metric_chart
from app.resources import shared_corpus_text
from models.attention.tiny_transformer import POSITIONAL_SCHEMES, TinyTransformerConfig

TITLE = "Train a tiny transformer"

TASKS = {
    "reverse": "reverse: A C B | _ _ _ → B C A",
    "copy": "copy: A C B | _ _ _ → A C B",
    "char_lm": "char_lm: next character of Wikipedia",
}
POSITIONAL_TITLES = {
    "none": "none",
    "sinusoidal": "sinusoidal (added)",
    "learned": "learned (added)",
    "rope": "RoPE (rotates q, k)",
    "alibi": "ALiBi (bias on the scores)",
}


def render(page: LessonPage) -> None:
    """Explanation, controls and the live training panel."""
    st.markdown(
        "A 2-layer transformer learns a toy task live. **Positions:** with no positional encoding "
        "and no mask, the blanks of *reverse* all look alike, so it stays near chance; any real "
        "position signal fixes that. A **causal mask leaks order** by itself (a token can count "
        "how many came before it), so a causal model without positions learns part of the task: "
        "try it. **ALiBi** is only a recency bias, the same on both sides without a mask, so it "
        "cannot find the mirror position. **Causality:** without the mask a character LM simply "
        "reads the next character; its training loss dives, but when it must generate, the future "
        "is not there. Pin a run, change one setting, and compare."
    )
    settings = controls(page)
    page.config(TinyTransformerConfig, "The model settings")  # its message as soon as it is bad
    task_name, positional, causal = (settings[k] for k in ("task", "positional", "causal"))
    page.train(
        lambda: tiny_trainer.build_trainer(settings, page.device, lambda: shared_corpus_text("wiki")),
        settings["steps"],
        lambda run: render_training(page, run),
        settings=settings,
        label=f"{task_name} · {positional} · {'causal' if causal else 'no mask'}",
    )


def controls(page: LessonPage) -> dict:
    """The task, the model and the optimiser: {setting: value}, named like the config's fields."""
    t1, t2, t3, t4 = st.columns(4)
    page.widget(t1.selectbox, "task", "Task", list(TASKS), default="reverse", format_func=TASKS.get)
    page.widget(
        t2.selectbox,
        "positional",
        "Positional encoding",
        list(POSITIONAL_SCHEMES),
        default="sinusoidal",
        format_func=POSITIONAL_TITLES.get,
    )
    page.widget(t3.toggle, "causal", "Causal mask", default=False)
    page.widget(t4.number_input, "steps", "Training steps", 10, 20_000, step=10, default=400)
    with advanced_controls("Model and task settings"):
        a1, a2, a3, a4, a5 = st.columns(5)
        page.widget(a1.select_slider, "d_model", "d_model", [16, 32, 48, 64, 96, 128], default=64)
        page.widget(a2.slider, "n_heads", "Heads", 1, 8, default=4)
        page.widget(a3.slider, "n_layers", "Layers", 1, 4, default=2)
        page.widget(a4.select_slider, "lr", "Learning rate", [3e-4, 1e-3, 3e-3, 1e-2], default=3e-3)
        page.widget(a5.slider, "batch_size", "Batch size", 8, 128, step=8, default=32)
        b1, b2, b3, b4 = st.columns(4)
        page.widget(b1.slider, "length", "Symbols per sequence", 2, 16, default=8)
        page.widget(b2.slider, "n_symbols", "Alphabet size", 4, 26, default=10)
        page.widget(b3.slider, "block_size", "Characters per window (char_lm)", 16, 128, step=16, default=64)
        page.widget(b4.number_input, "seed", "Seed", 0, 10_000, default=0)
    names = ["task", "positional", "causal", "steps", "d_model", "n_heads", "n_layers", "lr"]
    names += ["batch_size", "length", "n_symbols", "block_size", "seed"]
    return {name: page.value(name) for name in names}


def render_training(page: LessonPage, run) -> None:
    """The run's curves, its attention on a fixed example and, for char_lm, the generation test."""
    trainer = run.trainer
    task = trainer.task
    left, right = st.columns(2)
    with left:
        page.chart(
            metric_chart(run, "loss", page.slug, "Training loss (target positions)"),
            run.history_frame(),
            "tiny-transformer-loss",
        )
    with right:
        fig = metric_chart(run, "accuracy", page.slug, "Accuracy on the target positions")
        if task.name != "char_lm":
            fig.add_hline(y=1 / task.n_symbols, line_dash="dot", annotation_text="chance (1 / symbols)")
        page.chart(fig, None, "tiny-transformer-accuracy")
    ids, maps, predicted = tiny_trainer.tiny_example(trainer)
    labels = [token_label(task.itos[i]) for i in ids]
    if task.name == "char_lm":
        title = "Attention on a fixed window of Wikipedia (row = query character)"
    else:
        target = task.get_batch(1, torch.Generator().manual_seed(trainer.seed))[1][0]
        blanks = slice(task.length + 1, None)
        right_count = sum(p == t for p, t in zip(predicted[blanks], target[blanks].tolist()))
        st.markdown(
            f"Example: `{task.decode(ids[: task.length + 1])}` → target "
            f"`{task.decode(target[blanks])}`, model `{task.decode(predicted[blanks])}` "
            f"({right_count}/{task.length} right)"
        )
        title = "Attention on this example (row = query; the blanks _ must fetch their symbol)"
    page.chart(
        tiny_trainer.tiny_attention_figure(maps, labels, title),
        None,
        "tiny-transformer-attention",
    )
    if task.name == "char_lm":
        if run.running:
            st.caption("Pause (or let the run finish) to test the model on generation.")
        else:
            show_generation_test(page, run)


def show_generation_test(page: LessonPage, run) -> None:
    """Teacher-forced against autoregressive loss and a sample (cached per run and step)."""
    trainer = run.trainer
    report_key = (run.run_id, run.steps_done)
    stored = page.result("report")
    if stored is None or stored[0] != report_key:
        with st.spinner("Testing the model on generation: 200 characters, one at a time…"):
            stored = (report_key, trainer.future_peeking_report("The ", 200))
        page.keep("report", stored)
    report = stored[1]
    c1, c2, c3 = st.columns(3)
    c1.metric("Teacher-forced loss", f"{report['teacher_forced_loss']:.3f}")
    c2.metric(
        "Autoregressive loss",
        f"{report['autoregressive_loss']:.3f}",
        help="Each position sees only the characters before it, as in generation",
    )
    c3.metric("Uniform guess", f"{report['uniform_loss']:.3f}")
    forced, honest = report["teacher_forced_loss"], report["autoregressive_loss"]
    if honest > 1.1 * forced:
        st.warning(
            f"When it may only see the past, the loss rises from {forced:.2f} to "
            f"{honest:.2f}: the model learned to read the next character instead of "
            "predicting it, and its samples show it."
        )
    elif trainer.config.causal:
        st.caption(
            "The two losses agree: with the causal mask every prediction already used only the characters before it."
        )
    else:
        st.caption(
            "No mask, but the two losses are still close: the model has not yet learned "
            "to read ahead. Train longer and watch them part."
        )
    st.markdown("**A sample, generated one character at a time:**")
    st.code(report["sample"], language=None, wrap_lines=True)
