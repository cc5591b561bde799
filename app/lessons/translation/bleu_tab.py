"""Tab "BLEU, opened up": n-gram precisions, the brevity penalty, corpus against sentence BLEU, chrF beside it."""

import streamlit as st

from app.lessons.translation import figures
from app.page import LessonPage
from models.translation.bleu import bleu_report, check_lines

TITLE = "BLEU, opened up"
HYPOTHESES = "the house is small\nthe dog sleeps on the sofa\na man reads book"
REFERENCES = "the house is small\nthe dog is sleeping on the sofa\nthe man reads a book"


def report(hypothesis_text: str, reference_text: str) -> dict:
    return bleu_report(*check_lines(hypothesis_text, reference_text))


def render(page: LessonPage) -> None:
    st.markdown(
        "BLEU counts the hypothesis's **n-grams that appear in the reference** (each clipped to its count there), "
        "for n = 1..4, over the whole corpus; their geometric mean times a **brevity penalty** min(1, e^(1 − r/c)) "
        "is the score. Precision alone would reward saying little; the penalty stops that. chrF scores character "
        "n-grams instead (kinder to morphology). All numbers come from sacrebleu."
    )
    with page.settings_area():
        a, b = st.columns(2)
        page.widget(a.text_area, "hypotheses", "Hypotheses (one sentence a line)", default=HYPOTHESES, max_chars=20_000)
        page.widget(b.text_area, "references", "References (same lines)", default=REFERENCES, max_chars=20_000)
    result = page.compute(
        "bleu", "Scoring", report, page.value("hypotheses", HYPOTHESES), page.value("references", REFERENCES)
    )
    if result is None:
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Corpus BLEU", f"{result['bleu']:.1f}", help=f"BP × exp(mean log p_n) = {result['recomputed']:.1f}")
    c2.metric(
        "Brevity penalty",
        f"{result['bp']:.3f}",
        help=f"hypothesis {result['hypothesis_length']} words, reference {result['reference_length']}",
    )
    c3.metric("Mean sentence BLEU", f"{result['mean_sentence_bleu']:.1f}")
    c4.metric("chrF", f"{result['chrf']:.1f}")
    page.chart(*figures.precision_bars(result), name="precisions")
    st.dataframe(
        {
            "sentence BLEU": [round(s, 1) for s in result["sentence_bleu"]],
            "sentence chrF": [round(s, 1) for s in result["sentence_chrf"]],
        },
        width="stretch",
    )
