"""Tab "Shots, order, label words": a grid of prompts evaluated one per step (Start / Step), one dot per prompt:
accuracy against shots over many draws, the same shots in every order, other label words."""

import streamlit as st

from app.lessons.prompting import figures, work
from app.page import LessonPage
from models.prompting.sweep import LABEL_WORD_PAIRS, SHOTS, FewShotSweep, label_word_points, order_points, shot_points

TITLE = "Shots, order, label words"
KINDS = {
    "shots": "Accuracy against shots (0, 1, 2, 4, 8), one dot per draw of the examples",
    "order": "The same shots in every order (the shots setting above, 1 to 4)",
    "label words": "Label-word pairs: " + ", ".join(" / ".join(p) for p in LABEL_WORD_PAIRS),
}


def points(kind: str, draws: int, shots: int) -> list[dict]:
    if kind == "shots":
        return shot_points(draws)
    if kind == "order":
        return order_points(shots)
    return label_word_points(draws)


def render(page: LessonPage) -> None:
    setup: work.Setup = page.data
    with page.settings_area():
        a, b, c = st.columns([3, 2, 2])
        page.widget(a.radio, "kind", "Sweep", list(KINDS), default="shots", format_func=str.capitalize)
        page.widget(b.slider, "draws", "Draws (order seeds) per point", 1, 20, default=10)
        page.widget(c.toggle, "calibrated", "Show calibrated accuracy", default=False)
    kind, draws = page.value("kind", "shots"), int(page.value("draws", 10))
    st.caption(KINDS[kind])
    if kind == "label words" and setup.labels != work.REVIEW_LABEL_NAMES:
        st.info("The label-word pairs are for the two review labels; pick the movie reviews to run this sweep.")
        return
    grid = page.compute("sweep-points", "Building the sweep", points, kind, draws, setup.config.shots)
    if grid is None:
        return
    per_eval = len(setup.eval_pairs)
    st.markdown(
        f"**{len(grid)} prompts**, each scored on {per_eval} eval inputs (about {len(grid) * per_eval:,} queries: "
        "minutes on a CPU). Zero-shot prompts do not depend on the draw: they are scored once and the others reuse "
        f"the cached scores. The shots column runs {', '.join(map(str, SHOTS))}."
    )

    def factory():
        return FewShotSweep(setup.model, setup.tokenizer, setup.train_pairs, setup.eval_pairs, setup.config, grid,
                            cache=work.score_cache(page, setup))  # fmt: skip

    def draw(run) -> None:
        rows = run.trainer.rows
        if not rows:
            st.info("Press ▶ Start: the dots appear as each prompt is scored.")
            return
        page.chart(*figures.sweep_strip(rows, kind, bool(page.value("calibrated", False))), name="sweep")
        accuracies = [r["calibrated_accuracy" if page.value("calibrated") else "accuracy"] for r in rows]
        st.caption(
            f"{len(rows)} of {len(grid)} prompts scored; accuracy from {min(accuracies):.0%} to {max(accuracies):.0%} "
            "across them. Same model, same eval set: only the prompt changed."
        )

    page.train(factory, total_steps=len(grid), render=draw, run="sweep", label=f"sweep: {kind}")
