"""Tab "Neural MT": a tiny encoder-decoder with attention trained live on the corpus; its attention on a held-out
sentence beside IBM Model 1's alignment of the same pair, and held-out BLEU against the training step."""

import streamlit as st

from app.lessons.translation import figures
from app.page import LessonPage, metric_chart
from models.translation.seq2seq import Seq2SeqConfig, Seq2SeqTrainer

TITLE = "Neural MT"


def render(page: LessonPage) -> None:
    config, result = page.data
    st.markdown(
        "A tiny encoder-decoder (a bidirectional GRU reads the foreign sentence, a GRU writes the English one) "
        "learns to translate from the same pairs. At each English word it **attends** to the foreign words: a "
        "softmax over them, a *soft* alignment learnt only to translate better. Train it and compare its attention "
        "with IBM Model 1's alignment of the same pair; BLEU is measured on pairs it never trains on."
    )
    with page.settings_area():
        a, b, c, d = st.columns(4)
        page.widget(a.select_slider, "d_model", "Hidden size", [16, 32, 48, 64, 96], default=48)
        page.widget(b.select_slider, "lr", "Learning rate", [0.001, 0.003, 0.01, 0.03], default=0.01)
        page.widget(c.slider, "batch_size", "Batch size", 8, 128, step=8, default=32)
        page.widget(d.number_input, "steps", "Training steps", 20, 5000, step=20, default=300)
    s2s = page.config(Seq2SeqConfig, "The tiny model's settings")
    if s2s is None:
        return
    pairs = result.pairs
    if len(pairs) < s2s.heldout + 10:
        st.info(
            f"This corpus has {len(pairs)} pairs; the tiny model needs at least {s2s.heldout + 10} (it keeps "
            f"{s2s.heldout} aside for BLEU). Pick the toy corpus, or paste more pairs."
        )
        return
    settings = page.settings() | {"corpus": config.corpus, "toy_pairs": config.toy_pairs, "seed": config.seed}
    page.train(
        lambda: Seq2SeqTrainer(pairs, s2s),
        int(page.value("steps", 300)),
        lambda run: render_run(page, run, result),
        settings=settings,
        label=f"{config.corpus} · d={s2s.d_model}",
    )


def render_run(page: LessonPage, run, result) -> None:
    trainer = run.trainer
    left, right = st.columns(2)
    with left:
        page.chart(metric_chart(run, "loss", page.slug, "Training loss (cross-entropy per word)"), None, "s2s-loss")
    with right:
        page.chart(metric_chart(run, "heldout_bleu", page.slug, "BLEU on held-out pairs (greedy)"), None, "s2s-bleu")
    page.widget(st.number_input, "example", "Held-out pair to look at", 1, 1000, default=1)
    k = min(int(page.value("example", 1)), len(trainer.heldout)) - 1
    foreign, english = trainer.heldout[k]
    attention = trainer.attention(foreign, english).numpy()  # (l + 1, m)
    translated = " ".join(trainer.greedy([foreign])[0])
    st.markdown(f"“{' '.join(foreign)}” → reference “{' '.join(english)}”, the model (greedy): “{translated}”")
    fig, frame = figures.attention_beside_ibm(attention, result.ibm.posterior(foreign, english), foreign, english)
    page.chart(fig, frame, "attention")
    st.caption(
        "Left: the attention while writing the reference (teacher-forced). Right: IBM Model 1's posterior "
        "alignment (NULL left out). Words with no counterpart (articles, “ga”, “o”) are where they differ most."
    )
