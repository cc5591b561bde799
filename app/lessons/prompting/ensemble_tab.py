"""Tab "Prompt ensembling": several templates scored one per step; their label probabilities averaged uniformly
and weighted by each template's accuracy on a dev split of the training pool."""

import streamlit as st

from app.lessons.prompting import figures, work
from app.page import LessonPage
from models.prompting.sweep import TemplateEnsemble

TITLE = "Prompt ensembling"
TEMPLATES = {
    "review": "Review: {x}\nSentiment: {y}\n\n",
    "cloze": "{x} All in all, the movie was {y}.\n\n",
    "input/label": "Input: {x}\nLabel: {y}\n\n",
    "question": "Question: what does the critic think of this movie? {x}\nAnswer: {y}\n\n",
}


def render(page: LessonPage) -> None:
    setup: work.Setup = page.data
    st.markdown(
        "Each template is a different wording of the same task. Averaging the label probabilities of several "
        "templates smooths out one wording's quirks: **uniform** weights, or weights ∝ each template's accuracy "
        "on a dev split (12 training examples kept out of the demonstrations). The shots, order seed, label words "
        "and calibration are the settings above."
    )
    with page.settings_area():
        page.widget(st.multiselect, "templates", "Templates", list(TEMPLATES), default=list(TEMPLATES))
    names = list(page.value("templates", list(TEMPLATES)) or [])
    if len(names) < 2:
        st.info("Pick at least two templates to ensemble.")
        return
    if len(setup.train_pairs) < 12 + setup.config.shots:
        st.info(
            f"The training pool has {len(setup.train_pairs)} examples: a dev split of 12 plus the shots needs more."
        )
        return
    with st.expander("The templates"):
        for name in names:
            st.code(f"{name}: {TEMPLATES[name]!r}", language=None)

    def draw(run) -> None:
        trainer: TemplateEnsemble = run.trainer
        if not trainer.rows:
            st.info("Press ▶ Start: each step scores one template on the dev split and the eval set.")
            return
        summary = trainer.summary()
        cols = st.columns(4)
        for col, key in zip(cols, ["mean template", "best template", "uniform ensemble", "weighted ensemble"]):
            col.metric(key.capitalize(), f"{summary[key]:.0%}")
        page.chart(*figures.ensemble_figure(trainer.rows, summary), name="ensemble")

    page.train(
        lambda: TemplateEnsemble(setup.model, setup.tokenizer, setup.train_pairs, setup.eval_pairs, setup.config,
                                 [TEMPLATES[n] for n in names], cache=work.score_cache(page, setup)),
        total_steps=len(names), render=draw, run="ensemble", label="prompt ensembling",
    )  # fmt: skip
