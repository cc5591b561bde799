"""Tab "Perplexity curves": held-out perplexity of every smoothing against order, k and D.

Higher orders see more context but more of it is unseen: add-k collapses while the interpolated
smoothings keep improving. Also the EM interpolation weights and modified Kneser-Ney's discounts.
"""

import pandas as pd
import streamlit as st

from app.lecture import pinned
from app.lessons.ngrams import cache, figures, tables
from app.page import LessonPage

TITLE = "Perplexity curves"


def render(page: LessonPage) -> None:
    lesson = page.data
    data, config, models, curves = lesson.data, lesson.config, lesson.models, lesson.curves
    st.markdown(
        "Held-out perplexity of every smoothing as the order grows (log scale; lower is better). Higher "
        "orders see more context but more of it is unseen: add-k collapses, the interpolated smoothings "
        "keep improving slowly. MLE is infinite at every order (some held-out n-gram has count 0) and "
        "stupid backoff has no perplexity, so neither is drawn. 📌 marks pinned models."
    )
    page.widget(st.toggle, "zoom", "Zoom in on the interpolated smoothings (hide add-k)", default=False)
    pins = [{**p["payload"], "label": p["label"]} for p in pinned(page.slug)]
    pins = [p for p in pins if p["perplexity"] is not None]
    figure = figures.order_curves_figure(curves, pins, hide=("add_k",) if page.value("zoom") else ())
    page.chart(figure, tables.order_curve_frame(curves), "order")
    hyper = cache.hyper_curves(data.key, data, config.order)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**add-k against k** (order {config.order}): a smaller k moves less mass.")
        figure = figures.sweep_figure(
            hyper["k"]["k"],
            [hyper["k"]["perplexity"]],
            "k (log scale)",
            config.k,
            True,
            ["add_k"],
            f"add-k: held-out perplexity against k (order {config.order})",
        )
        page.chart(figure, pd.DataFrame(hyper["k"]), "k")
    with right:
        st.markdown(f"**Discount D** (order {config.order}): one D, two ways to fill the lower orders.")
        names = ["kneser_ney", "absolute_discounting"]
        figure = figures.sweep_figure(
            hyper["discount"],
            [hyper[n] for n in names],
            "discount D",
            config.discount,
            False,
            names,
            f"Held-out perplexity against the discount D (order {config.order})",
        )
        frame = pd.DataFrame({n: hyper[n] for n in ["discount", *names]})
        page.chart(figure, frame, "discount")
    st.markdown(
        "**Interpolation weights**, fitted by EM on the held-out text (which flatters interpolation a "
        "little): how much each order's estimate counts when its context was seen."
    )
    weights = tables.lambda_frame(curves["lambdas"])
    page.chart(figures.lambda_bars(weights), weights, "lambdas")
    d = models["modified_kneser_ney"].discounts
    st.caption(
        "Modified Kneser-Ney estimates its own discounts (D1, D2, D3+) per order from count-of-counts: "
        + "; ".join(f"order {n}: " + ", ".join(f"{x:.2f}" for x in d[n]) for n in sorted(d))
    )
