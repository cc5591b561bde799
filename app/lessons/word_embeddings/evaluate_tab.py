"""The Evaluate tab: intrinsic evaluation of the run's vectors (do cosines agree with people's similarity
ratings, does b − a + c land on d?), with the coverage of each test, beside gensim's word2vec trained with
the same settings, and the vectors as a download."""

import json

import pandas as pd
import streamlit as st

from app.lessons.word_embeddings.evaluation import (
    evaluate,
    pairs_figure,
    runs_frame,
    score_rows,
    scores_display,
    scores_figure,
    train_gensim,
    word2vec_text,
)
from app.page import LessonPage

TITLE = "Evaluate"


@st.cache_resource(max_entries=4, show_spinner=False)
def gensim_result(key: str, _sentences: list, _settings: dict) -> dict:
    wv, seconds = train_gensim(_sentences, _settings)
    return {"wv": wv, "seconds": seconds, "scores": evaluate(wv, _settings["corpus"])}


def scored_entry(page: LessonPage, run, evals: dict) -> dict | None:
    """The run's scores in `evals` (computed once per step count, not while training), six runs kept."""
    entry = evals.get(run.run_id)
    if run.running:
        st.caption("Training is running: the scores are computed when it pauses or finishes.")
    elif entry is None or entry["steps"] != run.steps_done:
        with st.spinner("Scoring the vectors on WordSim-353, SimLex-999 and analogies…"):
            result = page.compute(
                "scores",
                "Evaluating the vectors",
                evaluate,
                run.trainer.keyed_vectors(),
                run.settings["corpus"],
            )
        if result is not None:
            model = run.trainer.model
            evals[run.run_id] = entry = {
                "label": run.label,
                "steps": run.steps_done,
                "epochs": model.progress * model.config.epochs,
                "seconds": run.elapsed_s,
                "settings": dict(run.settings),
                "scores": result,
            }
            for old in list(evals)[:-6]:  # the last six runs are kept for comparison
                del evals[old]
    return entry


def render(page: LessonPage) -> None:
    lesson = page.data
    st.markdown(
        "**Intrinsic evaluation**: do cosine similarities agree with people's similarity ratings "
        "(WordSim-353 mixes relatedness and similarity; SimLex-999 asks for similarity only), and "
        "does b − a + c land on d in analogy questions? Only items whose words are all in the "
        "vocabulary count, so the **coverage** matters: a small corpus knows few test words. Beside "
        "our vectors: gensim's C implementation of word2vec, same corpus, same settings."
    )
    run = page.run()
    if run is None or not run.history:
        st.info("Train first (the **Train live** tab): the scores of the current run appear here.")
        return
    evals = page.result("evals") or page.keep("evals", {})
    entry = scored_entry(page, run, evals)
    if entry is None:
        return
    sentences = lesson.sentences
    run_settings = entry["settings"]
    same_corpus = run_settings["corpus"] == lesson.corpus_key
    g1, g2 = st.columns([2, 3])
    clicked = g1.button(
        "Train gensim with the same settings",
        key=page.state_key("gensim-button"),
        disabled=not same_corpus,
        help=None if same_corpus else "Switch back to the run's corpus first.",
    )
    gensim_key = json.dumps(run_settings, sort_keys=True)
    if clicked:
        with st.spinner("gensim's Word2Vec is training on the same corpus…"):
            trained = page.compute("gensim", "Training gensim", gensim_result, gensim_key, sentences, run_settings)
        if trained is not None:
            page.keep("gensim-key", gensim_key)
    gensim = None
    if page.result("gensim-key") == gensim_key and same_corpus:
        gensim = gensim_result(gensim_key, sentences, run_settings)
    g2.caption(
        "gensim ignores our batch size (it updates after every pair, one C thread); both "
        "times count training only, not building the vocabulary."
    )
    results = {"ours": entry["scores"]} | ({"gensim": gensim["scores"]} if gensim else {})
    rows = pd.DataFrame([row for name, result in results.items() for row in score_rows(result, name)])
    t1, t2, t3 = st.columns(3)
    t1.metric(
        "Our training time",
        f"{entry['seconds']:.2f} s",
        help=f"torch on {run.device}, {entry['epochs']:.2f} of {run_settings['epochs']} epochs",
    )
    if gensim:
        t2.metric("gensim's training time", f"{gensim['seconds']:.2f} s", help="1 worker")
    if entry["epochs"] < run_settings["epochs"] - 1e-6:
        t3.warning(
            f"Our run stopped at epoch {entry['epochs']:.2f} of {run_settings['epochs']}: "
            "finish it for a fair comparison."
        )
    left, right = st.columns([3, 2])
    with left:
        page.chart(scores_figure(rows), rows, "w2v-scores")
    with right:
        page.table(scores_display(rows), hide_index=True, width="stretch")
        if entry["scores"]["analogy_set"] == "toy":
            sections = pd.DataFrame(entry["scores"]["analogies"]["sections"])
            st.markdown("**Toy-world analogies by section** (ours)")
            page.table(
                sections[["section", "correct", "covered", "accuracy"]].style.format({"accuracy": "{:.0%}"}),
                hide_index=True,
                width="stretch",
            )
    benchmark = "wordsim" if entry["scores"]["wordsim"]["pairs_used"] >= 3 else None
    if benchmark:
        pairs = pd.concat([pd.DataFrame(r[benchmark]["pairs"]).assign(model=n) for n, r in results.items()])
        page.chart(pairs_figure(results, benchmark), pairs, "w2v-wordsim-pairs")
    if len(evals) > 1:
        st.markdown("**Runs scored in this session** (compare settings side by side)")
        table = runs_frame(list(evals.values()))
        page.table(table.round(3), hide_index=True, width="stretch")
    kv = run.trainer.keyed_vectors()
    st.download_button(
        f"⬇ the vectors ({len(kv):,} words × {kv.vectors.shape[1]}, word2vec text format)",
        lambda: word2vec_text(kv),
        file_name="word2vec-vectors.txt",
        mime="text/plain",
        key=page.state_key("download"),
        on_click="ignore",
    )
