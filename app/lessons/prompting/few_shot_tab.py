"""Tab "Few-shot and calibration": one prompt's accuracy on the eval set, each review's probability of the right
label before and after contextual calibration, the content-free bias and the predicted-label counts."""

import numpy as np
import streamlit as st

from app.lessons.prompting import figures, work
from app.page import LessonPage

TITLE = "Few-shot and calibration"


def render(page: LessonPage) -> None:
    setup: work.Setup = page.data
    config = setup.config
    with page.settings_area():
        page.widget(
            st.slider, "seeds", "Also measure over order seeds (draws of the shots)", 1, 5, default=1,
            help="1: the order seed above only. 3: that seed and the next two, each a full evaluation.",
        )  # fmt: skip
    seeds = int(page.value("seeds", 1))
    what = f"Scoring {len(setup.eval_pairs)} inputs × {len(config.verbalizers)} label words with {setup.model_name}"
    results = page.compute("few-shot", what, work.over_seeds, page, setup, seeds if config.shots else 1)
    if not results:
        return
    result = results[0]
    words = config.verbalizers
    counts = np.bincount(result.label_probs.argmax(-1), minlength=len(words))
    top = int(counts.argmax())
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Accuracy, no calibration", f"{result.uncalibrated_accuracy:.0%}")
    c2.metric(
        "Accuracy, contextual calibration",
        f"{result.calibrated_accuracy:.0%}",
        delta=f"{100 * (result.calibrated_accuracy - result.uncalibrated_accuracy):+.0f} points",
    )
    c3.metric(
        f"Answers “{words[top]}”, no calibration",
        f"{counts[top] / counts.sum():.0%}",
        help=f"The share of the {counts.sum()} eval inputs given the label word “{words[top]}”; "
        f"{np.bincount([y for _, y in setup.eval_pairs], minlength=len(words))[top]} of them have that label.",
    )
    c4.metric(
        "Content-free p",
        " / ".join(f"{p:.2f}" for p in result.content_free_probs),
        help="p(label word | content-free input), averaged over " + ", ".join(repr(x) for x in config.content_free),
    )
    if len(results) > 1:
        gains = [100 * (r.calibrated_accuracy - r.uncalibrated_accuracy) for r in results]
        seeds_text = ", ".join(str(config.order_seed + k) for k in range(len(results)))
        a, b = st.columns(2)
        a.metric(
            f"Calibration gain, mean over order seeds {seeds_text}",
            f"{np.mean(gains):+.1f} points",
            help="Per seed: " + ", ".join(f"{g:+.0f}" for g in gains) + " points.",
        )
        b.metric("Seeds where calibration helped", f"{sum(g > 0 for g in gains)} of {len(gains)}")
    if page.stale("few-shot"):
        st.caption("⚠ Stale: the charts below are for the last prompt that worked.")
    page.chart(*figures.answer_probabilities(result, setup.eval_pairs, words), name="answers")
    page.chart(*figures.calibration_bars(result, setup.eval_pairs, words), name="calibration")
    st.caption(
        f"{len(setup.eval_pairs)} eval inputs, {config.shots} shots (order seed {config.order_seed}); "
        f"prompt prefix {result.prefix_tokens} tokens, queries {result.query_tokens} tokens; {result.seconds:.1f} s. "
        "Each label word is scored by its **full** log-probability, summed over all its tokens, then the label "
        "words' probabilities are renormalised to sum to 1. Calibration divides them by the content-free "
        "distribution, q = diag(p_cf)⁻¹ p, and renormalises (Zhao et al. 2021)."
    )
    with st.expander(f"The {config.shots} demonstrations, as the model reads them before every review"):
        st.code(result.prefix or "(zero-shot: no demonstrations; the prompt is the template alone)", language=None)
