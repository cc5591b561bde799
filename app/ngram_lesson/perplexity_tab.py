"""Tab "Perplexity curves": held-out perplexity of every smoothing against order, k and D.

Higher orders see more context but more of it is unseen: add-k collapses while the interpolated
smoothings keep improving. Also the EM interpolation weights and modified Kneser-Ney's discounts.
"""

import pandas as pd
import streamlit as st

from app.lecture import pinned, show_chart
from app.ngram_lesson import cache, figures, tables
from app.ngram_lesson.data import Lesson
from app.ngram_lesson.keys import URL, P


def render(lesson: Lesson) -> None:
    data, config, models, curves = lesson.data, lesson.config, lesson.models, lesson.curves
    st.markdown(
        "Held-out perplexity of every smoothing as the order grows (log scale; lower is better). Higher "
        "orders see more context but more of it is unseen: add-k collapses, the interpolated smoothings "
        "keep improving slowly. MLE is infinite at every order (some held-out n-gram has count 0) and "
        "stupid backoff has no perplexity, so neither is drawn. 📌 marks pinned models."
    )
    zoom = st.toggle("Zoom in on the interpolated smoothings (hide add-k)", key=f"{P}zoom", **URL)
    pins = [{**p["payload"], "label": p["label"]} for p in pinned(P)]
    pins = [p for p in pins if p["perplexity"] is not None]
    figure = figures.order_curves_figure(curves, pins, hide=("add_k",) if zoom else ())
    frame = tables.order_curve_frame(curves)
    show_chart(figure, frame, "ngram-perplexity-by-order", P, key=f"{P}chart-order")
    hyper = cache.hyper_curves(data.key, data, config.order)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**add-k against k** (order {config.order}): a smaller k moves less mass.")
        figure = figures.sweep_figure(
            hyper["k"]["k"], [hyper["k"]["perplexity"]], "k (log scale)", config.k, True, ["add_k"]
        )
        frame = pd.DataFrame(hyper["k"])
        show_chart(figure, frame, "ngram-perplexity-by-k", P, key=f"{P}chart-k")
    with right:
        st.markdown(
            f"**Discount D** (order {config.order}): one D, two ways to fill the lower orders."
        )
        names = ["kneser_ney", "absolute_discounting"]
        figure = figures.sweep_figure(
            hyper["discount"],
            [hyper[n] for n in names],
            "discount D",
            config.discount,
            False,
            names,
        )
        frame = pd.DataFrame({n: hyper[n] for n in ["discount", *names]})
        show_chart(figure, frame, "ngram-perplexity-by-discount", P, key=f"{P}chart-discount")
    st.markdown(
        "**Interpolation weights**, fitted by EM on the held-out text (which flatters interpolation a "
        "little): how much each order's estimate counts when its context was seen."
    )
    weights = tables.lambda_frame(curves["lambdas"])
    show_chart(figures.lambda_bars(weights), weights, "ngram-lambdas", P, key=f"{P}chart-lambdas")
    d = models["modified_kneser_ney"].discounts
    st.caption(
        "Modified Kneser-Ney estimates its own discounts (D1, D2, D3+) per order from count-of-counts: "
        + "; ".join(f"order {n}: " + ", ".join(f"{x:.2f}" for x in d[n]) for n in sorted(d))
    )
