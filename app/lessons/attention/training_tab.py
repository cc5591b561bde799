"""Train a tiny transformer tab: a 2-layer transformer learns a toy task live. Without positions
(and without a mask) it cannot reverse a sequence; without a causal mask a character LM learns to
read the next character instead of predicting it, which generation exposes.
"""

import streamlit as st
import torch

from app.attention_lesson import STATE, P, tiny_trainer
from app.attention_lesson.labels import token_label
from app.lecture import advanced_controls, show_chart
from app.resources import shared_corpus_text
from app.training import metric_chart, training_panel
from models.tiny_transformer import POSITIONAL_SCHEMES

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


def render(device: str) -> None:
    """Explanation, controls and the live training panel (presets are drawn by the page above)."""
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
    train_settings = controls()
    task_name, positional, causal = (train_settings[k] for k in ("task", "positional", "causal"))
    training_panel(
        P,
        lambda: tiny_trainer.build_trainer(
            train_settings, device, lambda: shared_corpus_text("wiki")
        ),
        train_settings["steps"],
        train_settings,
        render_training,
        device=device,
        label=f"{task_name} · {positional} · {'causal' if causal else 'no mask'}",
    )


def controls() -> dict:
    """The task, the model and the optimiser, as the settings dict build_trainer takes."""
    t1, t2, t3, t4 = st.columns(4)
    task_name = t1.selectbox(
        "Task", list(TASKS), format_func=TASKS.get, key=f"{P}task", bind="query-params"
    )
    positional = t2.selectbox(
        "Positional encoding",
        list(POSITIONAL_SCHEMES),
        index=1,
        format_func=POSITIONAL_TITLES.get,
        key=f"{P}pos",
        bind="query-params",
    )
    causal = t3.toggle("Causal mask", False, key=f"{P}causal", bind="query-params")
    total_steps = t4.number_input(
        "Training steps", 10, 20_000, 400, 10, key=f"{P}steps", bind="query-params"
    )
    with advanced_controls("Model and task settings"):
        a1, a2, a3, a4, a5 = st.columns(5)
        d_model = a1.select_slider(
            "d_model", [16, 32, 48, 64, 96, 128], 64, key=f"{P}dmodel", bind="query-params"
        )
        n_heads = a2.slider("Heads", 1, 8, 4, key=f"{P}nheads", bind="query-params")
        n_layers = a3.slider("Layers", 1, 4, 2, key=f"{P}nlayers", bind="query-params")
        lr = a4.select_slider(
            "Learning rate", [3e-4, 1e-3, 3e-3, 1e-2], 3e-3, key=f"{P}lr", bind="query-params"
        )
        batch = a5.slider("Batch size", 8, 128, 32, 8, key=f"{P}batch", bind="query-params")
        b1, b2, b3, b4 = st.columns(4)
        length = b1.slider("Symbols per sequence", 2, 16, 8, key=f"{P}length", bind="query-params")
        n_symbols = b2.slider("Alphabet size", 4, 26, 10, key=f"{P}nsymbols", bind="query-params")
        block = b3.slider(
            "Characters per window (char_lm)", 16, 128, 64, 16, key=f"{P}block", bind="query-params"
        )
        seed = b4.number_input("Seed", 0, 10_000, 0, key=f"{P}seed", bind="query-params")
    return {
        "task": task_name,
        "positional": positional,
        "causal": bool(causal),
        "steps": int(total_steps),
        "d_model": int(d_model),
        "n_heads": int(n_heads),
        "n_layers": int(n_layers),
        "lr": float(lr),
        "batch": int(batch),
        "length": int(length),
        "n_symbols": int(n_symbols),
        "block": int(block),
        "seed": int(seed),
    }


def render_training(run) -> None:
    """The run's curves, its attention on a fixed example and, for char_lm, the generation test."""
    trainer = run.trainer
    task = trainer.task
    left, right = st.columns(2)
    with left:
        show_chart(
            metric_chart(run, "loss", P, "Training loss (target positions)"),
            run.history_frame(),
            "tiny-transformer-loss",
            P,
        )
    with right:
        fig = metric_chart(run, "accuracy", P, "Accuracy on the target positions")
        if task.name != "char_lm":
            fig.add_hline(
                y=1 / task.n_symbols, line_dash="dot", annotation_text="chance (1 / symbols)"
            )
        show_chart(fig, None, "tiny-transformer-accuracy", P)
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
    show_chart(
        tiny_trainer.tiny_attention_figure(maps, labels, title),
        None,
        "tiny-transformer-attention",
        P,
    )
    if task.name == "char_lm":
        if run.running:
            st.caption("Pause (or let the run finish) to test the model on generation.")
        else:
            show_generation_test(run)


def show_generation_test(run) -> None:
    """Teacher-forced against autoregressive loss and a sample (cached per run and step)."""
    trainer = run.trainer
    report_key = (run.run_id, run.steps_done)
    stored = st.session_state.get(f"{STATE}report")
    if stored is None or stored[0] != report_key:
        stored = (report_key, trainer.future_peeking_report("The ", 200))
        st.session_state[f"{STATE}report"] = stored
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
            "The two losses agree: with the causal mask every prediction already used "
            "only the characters before it."
        )
    else:
        st.caption(
            "No mask, but the two losses are still close: the model has not yet learned "
            "to read ahead. Train longer and watch them part."
        )
    st.markdown("**A sample, generated one character at a time:**")
    st.code(report["sample"], language=None, wrap_lines=True)
