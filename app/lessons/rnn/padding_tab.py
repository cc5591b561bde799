"""Tab "Padding and masking": a padded minibatch, its loss with and without the mask; what bucketing saves."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.lessons.rnn import figures
from app.lessons.rnn.data import named_text
from app.page import LessonPage
from models.rnn.experiments import bucket_padding, padding_report
from models.text import split_sentences

TITLE = "Padding and masking"
EXAMPLE = "The cat sat.\nA dog barked at the old postman on the corner.\nRain.\nShe opened the window and listened."


def sentence_lengths(text: str) -> list[int]:
    return [len(s) for s in split_sentences(text) if s.strip()]


def corpus_lengths(corpus: str) -> list[int]:
    return sentence_lengths(named_text(corpus))


def bucket_figure(shares: dict[str, float], batch: int) -> tuple[go.Figure, pd.DataFrame]:
    frame = pd.DataFrame({"batching": list(shares), "padding share": list(shares.values())})
    fig = go.Figure(go.Bar(x=frame["batching"], y=frame["padding share"], marker_color=["#d62728", "#2ca02c"]))
    fig.update_yaxes(range=[0, 1], tickformat=".0%", title="share of the batch that is padding")
    fig.update_layout(title=f"Batches of {batch} sentences of the text: random against sorted by length", height=320)
    return fig, frame


def render(page: LessonPage) -> None:
    setup = page.data
    with page.settings_area():
        page.widget(st.text_area, "pad_text", "Sentences, one a line", default=EXAMPLE, height=120, max_chars=2000)
        page.widget(st.number_input, "pad_batch", "Batch size for bucketing", 1, 512, default=32)
    run = page.run()
    if run is not None and run.history:
        trainer = run.trainer.trainers["lstm"]
    else:
        from app.lessons.rnn.gates_tab import untrained

        trainer = page.compute("untrained-lstm", "Building the LSTM", untrained, setup.text, setup.config)
        if trainer is None:
            return
    sentences = [line for line in page.value("pad_text", EXAMPLE).splitlines() if line.strip()]
    report = page.compute("padding", "Padding the batch", padding_report, trainer.model, trainer.stoi, sentences)
    if report is not None:
        cols = st.columns(4)
        cols[0].metric("real targets / padded", f"{report['real']} / {report['padded']}")
        cols[1].metric("masked: Σ real ÷ # real", f"{report['masked']:.3f}")
        cols[2].metric("unmasked mean (padding counted)", f"{report['unmasked']:.3f}")
        cols[3].metric("mean of sentence means", f"{report['mean_of_sentence_means']:.3f}")
        page.chart(figures.nll_grid(report["nll"], report["mask"].numpy()), pd.DataFrame(report["nll"]), "padded-loss")
        st.caption(
            f"The {'trained' if run is not None and run.history else 'untrained'} LSTM of “Train live” reads each "
            "sentence; the batch is padded to the longest with character 0. Counting padding would teach the model "
            "to predict padding and shrink the loss of short sentences' batches; the masked loss is exactly "
            "cross_entropy(ignore_index=pad) (a test checks). The mean of sentence means weighs a short sentence "
            "like a long one: another average, not the per-character loss."
        )
    corpus = page.value("corpus", "wiki")
    if corpus == "user":
        lengths = sentence_lengths(setup.text)
    else:
        lengths = page.compute("lengths", "Splitting the text into sentences", page.shared, corpus_lengths, corpus)
    batch = int(page.value("pad_batch", 32))
    shares = page.compute("buckets", "Bucketing", bucket_padding, lengths or [], batch)
    if shares is not None:
        st.metric(
            "padding: random batches → bucketed",
            f"{shares['random']:.0%} → {shares['bucketed']:.0%}",
            help=f"{len(lengths):,} sentences of the {setup.text_label}",
        )
        page.chart(*bucket_figure(shares, batch), name="buckets")
