"""Tab "Vocabulary cut": a harsher min_count lowers perplexity without a better model.

Perplexities are only comparable over the same vocabulary: pin models, compare them, and sweep
min_count.
"""

import streamlit as st

from app.lecture import clear_pins, export_buttons, pin, pinned
from app.lessons.ngrams import cache, figures, labels, tables
from app.lessons.ngrams.data import pin_payload
from app.page import LessonPage
from models.ngrams.model import NGramConfig, same_vocabulary

TITLE = "Vocabulary cut"


def sweep(data, config: NGramConfig):
    """Perplexity and vocabulary for each min_count (stupid backoff: swept with Kneser-Ney instead)."""
    sweep_config = config if config.smoothing != "stupid_backoff" else NGramConfig(order=config.order)
    frame = cache.vocabulary_sweep(data.key.rsplit("|", 1)[0], data, sweep_config)
    return frame, f"{labels.TITLES[sweep_config.smoothing]}, order {sweep_config.order}"


def render(page: LessonPage) -> None:
    lesson = page.data
    data, config = lesson.data, lesson.config
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
    label = f"{labels.SHORT[config.smoothing]} n={config.order}, min_count={data.counts.min_count}"
    b1, b2, _ = st.columns([2, 1, 2])
    b1.button(
        "📌 Pin this model (perplexity + vocabulary)",
        key=page.state_key("pin"),
        on_click=pin,  # before the rerun, so the earlier tabs already draw the new pin
        args=(page.slug, f"{label}, {data.label}", current),
    )
    b2.button("Clear pins", key=page.state_key("clear"), on_click=clear_pins, args=(page.slug,))
    if pinned(page.slug):
        comparison = tables.comparison_frame(current, pinned(page.slug), same_vocabulary)
        comparison_format = {"held-out perplexity": "{:,.1f}", "<unk> rate": "{:.2%}"}
        page.table(
            comparison.style.format(comparison_format, na_rep="not defined"),
            hide_index=True,
            width="stretch",
        )
        export_buttons(comparison, "ngrams-pinned-models", page.slug)
        different = comparison.loc[~comparison["same vocabulary"], "model"].tolist()
        if different:
            st.warning(
                f"Not comparable: {', '.join(different)} used a different vocabulary from the current "
                "model, so the perplexities measure different tasks (predicting <unk> is easier than "
                "predicting the rare word it hides)."
            )
    if st.button("Sweep min_count (recounts the corpus 6 times)", key=page.state_key("sweep-button")):
        page.compute("sweep", "Sweeping min_count", sweep, data, config)
    if page.result("sweep"):
        frame, about = page.result("sweep")
        page.chart(figures.vocabulary_sweep_figure(frame, about), frame, "sweep")
        st.caption(
            f"{about}. Every point has its own vocabulary: the falling perplexity is the easier task, "
            "not a better model."
        )
