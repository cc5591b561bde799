"""Tab "Beam search": greedy against beam search, on SmolLM2 prompted to translate English -> French (or another
causal LM), or on the tiny model trained in "Neural MT": score, length (and BLEU / chrF) per beam width, and one
sentence's beams as a tree."""

import hashlib

import pandas as pd
import streamlit as st

from app.lessons.translation import data, figures
from app.page import LessonPage
from app.resources import model_picker
from models.translation.beam import MAX_BEAMS, beam_search_ids
from models.translation.bleu import corpus_bleu
from models.translation.llm_prompt import DecodeConfig, clean_sentence

TITLE = "Beam search"
WIDTHS = list(range(1, MAX_BEAMS + 1))
DECODERS = {"llm": "A prompted LM (SmolLM2): English → French", "tiny": "The tiny model trained in “Neural MT”"}
SENTENCE = "The house is small."
REFERENCE = "La maison est petite."


def by_width(trainer) -> pd.DataFrame:
    """Every held-out pair decoded at each beam width: BLEU, mean length and mean score."""
    rows = []
    references = [" ".join(e) for _, e in trainer.heldout]
    for width in WIDTHS:
        hypotheses, scores, lengths = [], [], []
        for foreign, _ in trainer.heldout:
            best = beam_search_ids(trainer.next_log_probs(foreign), width, trainer.config.max_len, eos_token_id=2)
            words = trainer.target_vocab.decode(best.sequences[0])
            hypotheses.append(" ".join(words))
            scores.append(best.scores[0])
            lengths.append(len(words))
        rows.append(
            {
                "beams": width,
                "BLEU": corpus_bleu(hypotheses, references),
                "mean score": sum(scores) / len(scores),
                "mean length": sum(lengths) / len(lengths),
            }
        )
    return pd.DataFrame(rows)


def render(page: LessonPage) -> None:
    st.markdown(
        "Greedy decoding takes the likeliest token at each step; **beam search** keeps the k likeliest prefixes and "
        "scores finished ones by log p / length (as transformers' `generate(num_beams=k)`, which this equals, with "
        "the same KV cache). A wider beam finds translations the model likes more; whether they are better "
        "translations is another matter."
    )
    with page.settings_area():
        page.widget(st.radio, "decoder", "Decode with", list(DECODERS), default="llm", format_func=DECODERS.get)
    if page.value("decoder", "llm") == "tiny":
        render_tiny(page)
    else:
        render_llm(page)


# ---- a prompted LM --------------------------------------------------------------------------------------------
def render_llm(page: LessonPage) -> None:
    with page.settings_area():
        left, right = st.columns([2, 3])
        with left:
            model_name, allow_download = model_picker(page, kinds=("causal",))
        with right:
            page.widget(st.text_input, "sentence", "English sentence", default=SENTENCE, max_chars=200)
            page.widget(st.text_input, "reference", "Its French reference (optional)", default=REFERENCE, max_chars=200)
            a, b = st.columns(2)
            page.widget(a.slider, "num_beams", "Beams for the tree", 1, MAX_BEAMS, default=4)
            page.widget(b.slider, "max_new_tokens", "New tokens at most", 4, 24, default=16)
    st.caption(
        "SmolLM2-135M-Instruct here is its Q4_1 GGUF file dequantised (not the full-precision weights), prompted "
        "with three solved examples (see “Prompt with a glossary”). It writes French-looking text, often wrong."
    )
    config = page.config(DecodeConfig, "The decoding settings")
    english = page.compute("llm-sentence", "Reading the sentence", clean_sentence, page.value("sentence", SENTENCE))
    reference = page.compute(
        "llm-reference", "Reading the reference", _optional, page.value("reference", REFERENCE), "The reference"
    )
    loaded = page.compute(
        "decoding-model", "Loading the model", data.load_causal_lm, model_name, page.device, allow_download
    )
    if config is None or english is None or loaded is None or reference is None:
        return
    model, tokenizer = loaded
    shared = english == SENTENCE  # the default sentence: computed once per server (never a student's own text)
    args = (model_name, page.device, english, config.num_beams, config.max_new_tokens)
    beams = page.compute("llm-beams", "Beam search", _beams, page, shared, args, model, tokenizer)
    if beams is None:
        return
    result, answers, labels = beams
    title = f"Beams for “{english}” (k = {config.num_beams}); node: token and summed log p"
    page.chart(
        figures.beam_tree(result.tree, lambda t: labels.get(t, str(t)).replace("\n", "⏎"), title), None, "llm-tree"
    )
    st.dataframe(
        pd.DataFrame(
            {
                "answer": answers,
                "sum log p": result.log_probs,
                "score (log p / length)": result.scores,
                "tokens": [len(ids) for ids in result.sequences],
            }
        ),
        hide_index=True,
    )
    key = (*args[:3], reference, config.max_new_tokens)
    kept = page.result("llm-widths")
    if st.button(
        f"Decode at every width 1–{MAX_BEAMS}",
        key=page.key("sweep"),
        help="Eight beam searches of this sentence: a few seconds each on a CPU; kept for this sentence.",
    ):
        rows = page.compute("llm-widths-now", "Decoding at every width", _widths, page, shared, key, model, tokenizer)
        if rows is not None:
            kept = page.keep("llm-widths", (key, rows))
    if kept is None or kept[0] != key:
        st.info(f"Press the button to decode this sentence at every width 1–{MAX_BEAMS} and compare the scores.")
        return
    frame = pd.DataFrame([vars(row) for row in kept[1]])
    columns = ["score", "tokens"] + (["chrF"] if reference else [])
    frame = frame.rename(columns={"chrf": "chrF", "bleu": "BLEU", "log_p": "sum log p"})
    page.chart(figures.by_width(frame, columns, "The best hypothesis at each beam width"), frame, "llm-widths")
    st.dataframe(frame, hide_index=True)


def _optional(text: str, what: str) -> str:
    return clean_sentence(text, what) if (text or "").strip() else ""


def _beams(page: LessonPage, shared: bool, args: tuple, model, tokenizer):
    """The beam search of `args`: once per server for a bundled model on the default sentence, else per session."""
    if shared:
        return page.shared(data.llm_beams, *args, _model=model, _tokenizer=tokenizer, read_only=True)
    key = (*args[:2], hashlib.sha1(args[2].encode("utf-8")).hexdigest(), *args[3:])
    kept = page.result("llm-beams-own")
    if kept is None or kept[0] != key:
        kept = page.keep("llm-beams-own", (key, data.llm_beams(*args, _model=model, _tokenizer=tokenizer)))
    return kept[1]


def _widths(page: LessonPage, shared: bool, key: tuple, model, tokenizer):
    args = (*key, tuple(WIDTHS))
    if shared:
        return page.shared(data.llm_widths, *args, _model=model, _tokenizer=tokenizer, read_only=True)
    return data.llm_widths(*args, _model=model, _tokenizer=tokenizer)


# ---- the tiny model -------------------------------------------------------------------------------------------
def render_tiny(page: LessonPage) -> None:
    run = page.run()
    if run is None or run.trainer is None or run.steps_done == 0:
        st.info("Train the tiny model in the “Neural MT” tab first (▶ Start or ⏭ Step); it is decoded here.")
        return
    trainer = run.trainer
    with page.settings_area():
        a, b = st.columns(2)
        page.widget(a.slider, "num_beams", "Beams for the tree", 1, MAX_BEAMS, default=4)
        page.widget(b.number_input, "pair", "Held-out pair", 1, 1000, default=1)
    stamp = (run.run_id, run.steps_done)
    kept = page.result("widths")
    if kept is None or kept[0] != stamp:
        table = page.compute("by-width", "Decoding the held-out pairs", by_width, trainer)
        kept = page.keep("widths", (stamp, table))
    table = kept[1]
    if table is None:
        return
    st.caption(f"The model after {run.steps_done:,} steps, {len(trainer.heldout)} held-out pairs.")
    page.chart(
        figures.by_width(table, ["BLEU", "mean score", "mean length"], "Held-out pairs at each beam width"),
        table,
        "tiny-widths",
    )
    st.dataframe(table.style.format({"BLEU": "{:.1f}", "mean score": "{:.3f}", "mean length": "{:.2f}"}))
    k = min(int(page.value("pair", 1)), len(trainer.heldout)) - 1
    foreign, english = trainer.heldout[k]
    width = int(page.value("num_beams", 4))
    result = beam_search_ids(trainer.next_log_probs(foreign), width, trainer.config.max_len, eos_token_id=2)
    itos = trainer.target_vocab.itos
    title = f"Beams for “{' '.join(foreign)}” (k = {width}); node: word and summed log p"
    page.chart(figures.beam_tree(result.tree, lambda token: itos[token], title), None, "beam-tree")
    finished = pd.DataFrame(
        {
            "hypothesis": [" ".join(trainer.target_vocab.decode(ids)) for ids in result.sequences],
            "sum log p": result.log_probs,
            "score (log p / length)": result.scores,
        }
    )
    st.markdown(f"Reference: “{' '.join(english)}”")
    st.dataframe(finished, hide_index=True)
