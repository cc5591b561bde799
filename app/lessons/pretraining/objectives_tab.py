"""Tab "Three objectives": causal, masked and replaced-token objectives from one seed on one text."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.lessons.pretraining import figures
from app.lessons.pretraining.data import named_text
from app.page import LessonPage
from models.pretraining.objectives import (
    OBJECTIVES,
    ObjectiveComparison,
    ObjectiveConfig,
    attention_pattern,
    counted_fill_in,
    loss_positions,
    split_text,
)

TITLE = "Three objectives"
CONTEXTS = [("2 left", 2, 0), ("1 + 1", 1, 1), ("4 left", 4, 0), ("2 + 2", 2, 2)]  # (label, left, right)
COUNT_CHARS = 200_000  # characters counted: enough for stable shares, a few seconds once per server


def context_rows(text: str) -> list[dict]:
    """Blanks of the held-out tenth filled by counting contexts of the training part (models/pretraining)."""
    train, heldout = split_text(text[:COUNT_CHARS])
    rows = []
    for label, left, right in CONTEXTS:
        accuracy, _ = counted_fill_in(train, heldout, left, right)
        rows.append({"context": label, "side": "left only" if right == 0 else "both sides", "accuracy": accuracy})
    return rows


def named_context_rows(corpus: str) -> list[dict]:
    return context_rows(named_text(corpus))


def settings_panel(page: LessonPage) -> ObjectiveConfig | None:
    with page.settings_area():
        cols = st.columns(4)
        page.widget(
            cols[0].slider,
            "mask_rate",
            "Mask rate p",
            0.0,
            1.0,
            step=0.05,
            default=0.15,
            help="Share of the tokens chosen for MLM's loss and ELECTRA's generator (BERT: 0.15).",
        )
        page.widget(cols[0].number_input, "steps", "Training steps", 10, 5000, default=300, step=50)
        page.widget(cols[1].select_slider, "d_model", "Width d_model", [16, 32, 64, 128], default=64)
        page.widget(cols[1].slider, "n_layers", "Layers", 1, 4, default=2)
        page.widget(cols[2].select_slider, "block_size", "Window (characters)", [16, 32, 64, 128], default=32)
        page.widget(cols[2].select_slider, "batch_size", "Windows per step", [8, 16, 32, 64], default=32)
        page.widget(cols[3].number_input, "lr", "Learning rate (AdamW)", default=3e-3, step=1e-3, format="%.4f")
        return page.config(ObjectiveConfig, "The training settings")


def render(page: LessonPage) -> None:
    setup = page.data
    config = settings_panel(page)
    draw_context(page, setup)
    if config is None:
        return
    draw_masks(page, setup, config)
    st.markdown(f"**Train the three live** on the {setup.text_label}: one window stream, one seed, one model each.")
    page.train(
        lambda: ObjectiveComparison(setup.text, config, seed=0, device=page.device),
        total_steps=int(page.value("steps", 300)),
        render=lambda run: draw_run(page, run),
        chunk_seconds=1.0,
    )


def draw_context(page: LessonPage, setup) -> None:
    if setup.corpus == "user":
        rows = page.compute("context", "Counting contexts in your text", context_rows, setup.text)
    else:
        rows = page.compute("context", "Counting contexts", page.shared, named_context_rows, setup.corpus)
    if rows is None:
        return
    by = {r["context"]: r["accuracy"] for r in rows}
    cols = st.columns(2)
    cols[0].metric("4 characters on the left: blanks filled", f"{by['4 left']:.1%}")
    cols[1].metric("2 characters on each side: blanks filled", f"{by['2 + 2']:.1%}")
    page.chart(*figures.context_bars(rows), name="context")
    st.caption(
        "Before any network: 2,000 blanks of the held-out tenth, each guessed as the character most often seen "
        "between the same neighbours in the training part (shorter contexts when unseen). The same number of "
        "characters tells more when it sits on both sides: what a masked model may read, and a causal one may not."
    )


def draw_masks(page: LessonPage, setup, config: ObjectiveConfig) -> None:
    length = config.block_size
    patterns = {name: attention_pattern(name, min(length, 32)) for name in OBJECTIVES}
    page.chart(figures.attention_masks(min(length, 32), patterns), None, "attention-masks")
    window = split_text(setup.text, length)[0][:length]
    from models.pretraining.objectives import CharVocab

    ids = CharVocab(window).encode(window)
    carries = {name: loss_positions(name, ids, config.mask_rate, seed=3).tolist() for name in OBJECTIVES}
    page.chart(*figures.loss_tokens(window, carries), name="loss-tokens")
    st.caption(
        "ELECTRA's discriminator has a loss on every token (its generator, like BERT, on the chosen ones only). "
        "Causal: position t reads 0..t and predicts t+1; masked: every position reads the whole window."
    )


def draw_run(page: LessonPage, run) -> None:
    trainers = run.trainer.trainers
    history = run.history_frame()
    rows, cols = [], st.columns(len(trainers))
    for col, (name, t) in zip(cols, trainers.items()):
        share = history[f"{name}.tokens_with_signal"].iloc[-1] if f"{name}.tokens_with_signal" in history else 0
        col.metric(f"{figures.NAMES[name]}: tokens with a loss", f"{share:.0%}")
        rows.append(
            {
                "objective": OBJECTIVES[name],
                "steps": t.steps,
                "parameters": t.n_params,
                "loss (last step)": history[f"{name}.loss"].iloc[-1],
                "held-out blanks filled": history[f"{name}.fill_in"].iloc[-1],
                "tokens with a loss so far": t.signal_seen,
                "tokens per second": t.tokens_seen / max(t.seconds, 1e-9),
            }
        )
    table = pd.DataFrame(rows)
    page.table(
        table.style.format(
            {
                "parameters": "{:,}",
                "loss (last step)": "{:.3f}",
                "held-out blanks filled": "{:.1%}",
                "tokens with a loss so far": "{:,}",
                "tokens per second": "{:,.0f}",
            }
        ),
        hide_index=True,
        width="stretch",
    )
    if "electra" in trainers and trainers["electra"].steps:
        st.caption(
            f"ELECTRA's discriminator tells replaced from original on "
            f"{trainers['electra'].detection_accuracy():.1%} of held-out tokens (its loss weight λ = "
            f"{trainers['electra'].config.electra_weight:g}); ELECTRA's blanks are filled by its generator."
        )
    page.chart(figures.curves(history, "loss", "step", "Training loss", "loss (nats)"), history, "losses")
    page.chart(
        figures.curves(history, "fill_in", "step", "Held-out blanks filled, by step", "share filled"), None, "fill-step"
    )
    page.chart(
        figures.curves(
            history, "fill_in", "signal_seen", "Held-out blanks filled, by tokens that carried a loss", "share filled"
        ),
        None,
        "fill-signal",
    )
    st.caption(
        "Blanks: 15 % of the held-out tenth's characters, filled from the context each objective allows (causal: "
        "the left only). Per step the causal model learns from every token and the masked one from 15 %: counted "
        "by tokens that carried a loss, the masked model is ahead."
    )
