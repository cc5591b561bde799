"""Tab "EM alignment": IBM Model 1's t(f | e) changing per EM iteration, the likelihood and the alignment error
rate per iteration, and one sentence's alignment matrix against its gold links."""

import streamlit as st

from app.lessons.translation import figures
from app.page import LessonPage
from models.text import tokenize_words
from models.translation.corpora import MAX_PAIRS

TITLE = "EM alignment"


def watched_pair(ibm, text: str) -> tuple[str, str]:
    """The pair "f e" typed, or (empty) the most confident link of the trained table."""
    words = tokenize_words(text or "")
    if not words:
        best = max(range(len(ibm.t)), key=lambda k: (ibm.pair_e[k] != 0, ibm.t[k]))
        return ibm.foreign_vocab[ibm.pair_f[best]], ibm.english_vocab[ibm.pair_e[best]]
    if len(words) != 2:
        raise ValueError("Type two words to watch: a foreign word, then an English word (e.g. “das the”).")
    f, e = words
    missing = [w for w, vocab in ((f, ibm.f_index), (e, ibm.e_index)) if w not in vocab]
    if missing:
        raise ValueError(f"Not in this corpus: {', '.join(missing)}. Type a foreign word, then an English word.")
    return f, e


def render(page: LessonPage) -> None:
    config, result = page.data
    ibm, pairs = result.ibm, result.pairs
    st.markdown(
        "EM starts from a **uniform** t(f | e): every foreign word equally likely from every English word. The E step "
        "spreads each foreign word over the English words of its own sentence (in proportion to t); the M step "
        "re-estimates t from those fractional counts. Words that keep appearing together pull each other up: press "
        "**▶ EM** on the chart, or drag its slider."
    )
    with page.settings_area():
        a, b = st.columns([2, 3])
        page.widget(a.slider, "words", "Words per side in the table", 3, 25, default=10)
        page.widget(b.text_input, "watch", "Watch t(f | e) for: a foreign word, then an English word", default="")
    watched = page.compute("watch", "Reading the word pair", watched_pair, ibm, page.value("watch"))
    n = page.value("words", 10)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Sentence pairs", f"{len(pairs):,}")
    c2.metric("Words (foreign / English)", f"{len(ibm.foreign_vocab):,} / {len(ibm.english_vocab) - 1:,}")
    if watched is not None:
        f, e = watched
        before = ibm.prob(f, e, 0)
        c3.metric(
            f"t({f} | {e})",
            f"{ibm.prob(f, e):.3f}",
            delta=f"{ibm.prob(f, e) - before:+.3f} since the uniform start",
            help=f"After {ibm.iterations} EM iterations; the uniform start is {before:.3f}.",
        )
    if result.aer is not None:
        c4.metric(
            "Alignment error rate",
            f"{result.aer[-1]:.3f}",
            delta=f"{result.aer[-1] - result.aer[0]:+.3f} since the uniform start",
            delta_color="inverse",
            help="AER against the gold links (NULL links left out): 1 − 2|A ∩ G| / (|A| + |G|).",
        )
    foreign = figures.frequent_words(pairs, 0, n)
    english = figures.frequent_words(pairs, 1, n)
    if watched is not None:
        foreign = list(dict.fromkeys([watched[0], *foreign]))[:n]
        english = list(dict.fromkeys([watched[1], *english]))[:n]
    if config.corpus == "user":  # a student's own text: never in the server-wide cache
        fig, frame = figures.t_table_animation(ibm, foreign, english)
    else:
        settings = (config.corpus, config.iterations, config.toy_pairs, config.seed)
        fig, frame = page.shared_figure(figures.shared_t_table, settings, tuple(foreign), tuple(english), _ibm=ibm)
    page.chart(fig, frame, "t-table")
    left, right = st.columns(2)
    with left:
        page.chart(*figures.em_curves(ibm.log_likelihoods, result.aer), name="em-curves")
        if result.aer is not None:
            st.caption(
                "Model 1 cannot tell “ga” and “o” (case particles, no English word) from the articles they always "
                "meet: it aligns them to “the” or “a” rather than to NULL, the AER's floor here."
            )
    with right:
        page.widget(st.number_input, "sentence", f"Sentence pair to align (1 to {len(pairs)})", 1, MAX_PAIRS, default=1)
        k = int(page.value("sentence", 1)) - 1
        if k >= len(pairs):
            st.info(f"This corpus has {len(pairs)} pairs: showing the last one.")
            k = len(pairs) - 1
        f_words, e_words = pairs[k]
        gold = result.gold[k] if result.gold is not None else None
        fig, frame = figures.alignment_matrix(
            ibm.posterior(f_words, e_words),
            f_words,
            e_words,
            ibm.align(f_words, e_words),
            gold,
            title=f"“{' '.join(f_words)}” ↔ “{' '.join(e_words)}”",
        )
        page.chart(fig, frame, "alignment")
