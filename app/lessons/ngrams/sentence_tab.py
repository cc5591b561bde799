"""Tab "Score a sentence": each token's probability under the chosen model, and the longest n-gram
found for it in training; one unseen n-gram gives MLE probability 0 and infinite perplexity.
"""

import streamlit as st

from app.lessons.ngrams import figures, labels, tables
from app.page import LessonPage
from models.text import tokenize_words

TITLE = "Score a sentence"
SENTENCE = "the city of new york is the largest city in the united states"


def score_sentence(lesson, sentence: str):
    """(per-token frame, model name, is a distribution, order) for the typed sentence."""
    tokens = tokenize_words(sentence)
    if not tokens:
        if sentence.strip():  # emoji, punctuation: nothing the word tokeniser keeps
            raise ValueError(
                "The sentence has no words (only letters and digits make words): type some words to score."
            )
        raise ValueError("The sentence is empty: type some words to score.")
    scored = tables.score_frame(lesson.main.score_tokens(tokens))
    return scored, lesson.used, lesson.main.is_distribution, lesson.config.order


def render(page: LessonPage) -> None:
    main, used = page.data.main, page.data.used
    st.markdown(
        f"Each token's {'probability' if main.is_distribution else 'score'} under the chosen model "
        f"({used}), green for likely, red for unlikely; below it, log10 and the longest n-gram found in "
        "training. Dashed tokens are outside the vocabulary and scored as <unk>; ⟨end⟩, the end of the "
        "sentence, is predicted too."
    )
    page.widget(st.text_input, "sentence", "Sentence to score", default=SENTENCE, max_chars=2000)
    result = page.compute("scores", "Scoring the sentence", score_sentence, page.data, page.value("sentence"))
    if result is None:
        return
    scored, scored_with, is_distribution, scored_order = result
    word_name = "p" if is_distribution else "score"
    st.markdown(tables.token_html(scored, word_name), unsafe_allow_html=True)
    oov = scored["out of vocabulary"].iloc[:-1]  # the words, not ⟨end⟩
    if oov.all():
        st.warning(
            "Every word is outside the vocabulary: the model only sees <unk>. The smoothed models "
            "still give it a small, finite probability (the share of the uniform distribution kept "
            "for <unk>); MLE gives it 0."
        )
    log10_total = float(scored["log10 p"].sum())
    m1, m2, m3 = st.columns(3)
    m1.metric(f"log10 {word_name}(sentence)", labels.number(log10_total, 2), help=scored_with)
    if not is_distribution:
        m2.metric("Perplexity", "not defined", help="stupid backoff scores are not probabilities")
    elif log10_total > float("-inf"):
        m2.metric("Perplexity of this sentence", f"{10 ** (-log10_total / len(scored)):,.1f}")
    else:
        m2.metric("Perplexity of this sentence", "∞")
        st.warning(
            "A token has probability 0 (its n-gram was never seen and MLE keeps nothing for the "
            "unseen), so the whole sentence gets probability 0 and infinite perplexity. This is "
            "why we smooth."
        )
    m3.metric("Out-of-vocabulary words", int(oov.sum()))
    figure = figures.token_bars(scored, scored_order, word_name, scored_with)
    page.chart(figure, scored, "scores")
