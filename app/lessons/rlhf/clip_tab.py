"""Tab "Clipping": min(r·A, clip(r, 1−ε, 1+ε)·A) against r, and over ratio × advantage."""

import streamlit as st

from app.lessons.rlhf import figures
from app.page import LessonPage

TITLE = "Clipping"


def _check(eps: float) -> float:
    if not 0 < eps < 1:
        raise ValueError(f"The clipping range ε must lie in (0, 1) (got {eps:g}); 0.1–0.3 is usual.")
    return eps


def render(page: LessonPage) -> None:
    st.markdown(
        "PPO maximises **min(r·A, clip(r, 1−ε, 1+ε)·A)** where r = π_new(a)/π_old(a). For a good action "
        "(A > 0) raising r pays only up to 1+ε; for a bad one (A < 0) lowering r pays only down to 1−ε. "
        "In the shaded regions the objective is flat: **the gradient is zero**, so nothing pushes the ratio "
        "further, but nothing pulls it back either: clipping removes the incentive, it does not bound r."
    )
    page.widget(
        st.number_input,
        "eps",
        "Clipping range ε",
        default=0.2,
        step=0.05,
        format="%.2f",
        help="Usual values 0.1–0.3; must lie in (0, 1).",
    )
    eps = page.compute("eps", "The clipping range", _check, float(page.value("eps", 0.2)))
    if eps is None:
        return
    left, right = st.columns([3, 1])
    with left:
        fig, frame = page.shared_figure(figures.clipped_curves, eps)  # once per server and ε
        page.chart(fig, frame, "clipped-curves")
    with right:
        st.metric("Flat for A > 0 when r >", f"{1 + eps:.2f}")
        st.metric("Flat for A < 0 when r <", f"{1 - eps:.2f}")
        st.caption("Between the two the objective is r·A, exactly the unclipped surrogate.")
    fig, frame = page.shared_figure(figures.clipped_heatmap, eps)
    page.chart(fig, frame, "clipped-heatmap")
