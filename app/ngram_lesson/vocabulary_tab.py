"""Tab "Vocabulary cut": a harsher min_count lowers perplexity without a better model.

Perplexities are only comparable over the same vocabulary: pin models, compare them, and sweep
min_count.
"""

import streamlit as st

from app.errors import friendly_errors
from app.lecture import clear_pins, export_buttons, pin, pinned, show_chart
from app.ngram_lesson import cache, figures, labels, tables
from app.ngram_lesson.data import Lesson, pin_payload
from app.ngram_lesson.keys import STATE, P
from models.ngram import NGramConfig, same_vocabulary


def render(lesson: Lesson) -> None:
    data, config, main = lesson.data, lesson.config, lesson.main
    perplexity, unk_rate = lesson.perplexity, lesson.unk_rate
    st.markdown(
        "Words seen fewer than **min_count** times become <unk>. A harsher cut makes <unk> common and "
        "easy to predict, so perplexity drops **without the model getting better**: perplexities are "
        "only comparable over the same vocabulary. Pin a model, change min_count, and compare."
    )
    v1, v2, v3, v4 = st.columns(4)
    v1.metric("min_count", data.counts.min_count, help="Change it with the box at the top.")
    v2.metric("Vocabulary size", f"{len(data.counts.vocab):,}")
    v3.metric("Held-out <unk> rate", f"{unk_rate:.2%}")
    v4.metric("Held-out perplexity", labels.number(perplexity))
    current = pin_payload(data, config, perplexity, unk_rate)
    b1, b2, _ = st.columns([2, 1, 2])
    if b1.button("📌 Pin this model (perplexity + vocabulary)", key=f"{P}pin"):
        label = (
            f"{labels.SHORT[config.smoothing]} n={config.order}, min_count={data.counts.min_count}"
        )
        pin(P, f"{label}, {data.label}", current)
        st.rerun()  # redraw the earlier tabs with the new pin
    if b2.button("Clear pins", key=f"{P}clear"):
        clear_pins(P)
        st.rerun()
    if pinned(P):
        comparison = tables.comparison_frame(current, pinned(P), same_vocabulary)
        comparison_format = {"held-out perplexity": "{:,.1f}", "<unk> rate": "{:.2%}"}
        st.dataframe(
            comparison.style.format(comparison_format, na_rep="not defined"),
            hide_index=True,
            width="stretch",
        )
        export_buttons(comparison, "ngram-pinned-models", P)
        different = comparison.loc[~comparison["same vocabulary"], "model"].tolist()
        if different:
            st.warning(
                f"Not comparable: {', '.join(different)} used a different vocabulary from the current "
                "model, so the perplexities measure different tasks (predicting <unk> is easier than "
                "predicting the rare word it hides)."
            )
    if st.button("Sweep min_count (recounts the corpus 6 times)", key=f"{P}sweep"):
        sweep_config = config if main.is_distribution else NGramConfig(order=config.order)
        with friendly_errors("Sweeping min_count"):
            sweep = cache.vocabulary_sweep(data.key.rsplit("|", 1)[0], data, sweep_config)
            about = f"{labels.TITLES[sweep_config.smoothing]}, order {sweep_config.order}"
            st.session_state[f"{STATE}sweep"] = (sweep, about)
    if st.session_state.get(f"{STATE}sweep"):
        sweep, about = st.session_state[f"{STATE}sweep"]
        figure = figures.vocabulary_sweep_figure(sweep)
        show_chart(figure, sweep, "ngram-vocabulary-sweep", P, key=f"{P}chart-sweep")
        st.caption(
            f"{about}. Every point has its own vocabulary: the falling perplexity is the easier task, "
            "not a better model."
        )
