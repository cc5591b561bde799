"""Tab "Prompt with a glossary": SmolLM2 (or a cached larger LM) translates a few sentences few-shot, from the same
prompt without and with a term table; whether each term's French made it into the output (term accuracy), and chrF
and BLEU against references."""

import hashlib

import pandas as pd
import streamlit as st

from app.lessons.translation import data, figures
from app.page import LessonPage
from app.resources import model_picker
from models.translation.glossary import (
    DEFAULT_GLOSSARY,
    DEFAULT_SENTENCES,
    MAX_SENTENCES,
    parse_glossary,
    parse_sentences,
    terms_in,
)
from models.translation.llm_prompt import DecodeConfig, translation_prompt

TITLE = "Prompt with a glossary"
CAN_AND_CANNOT = (
    "**What a 135M model can and cannot do.** SmolLM2-135M-Instruct (here its Q4_1 GGUF weights, dequantised: not "
    "full precision) has seen little French. It follows the format of the examples (one French-looking line, then "
    "it stops) and it **copies** a word it is handed: the glossary's terms show up in its output. It cannot "
    "translate: word order, agreement (*le* or *la* before a glossary noun) and most content words come out wrong, "
    "so chrF and BLEU stay low, with or without the glossary. Term accuracy only says that the term is there. A "
    "larger instruction-tuned model (e.g. `HuggingFaceTB/SmolLM2-1.7B-Instruct`, `Qwen/Qwen2.5-1.5B-Instruct`), if "
    "it is in this server's Hugging Face cache, can be picked under “Model”; expect seconds per sentence more."
)


def render(page: LessonPage) -> None:
    st.markdown(
        "A glossary says how a client's terms must be translated. A model cannot be retrained for each client, but "
        "it can be **told** in the prompt: before the sentence, a line with the glossary entries whose English term "
        "occurs in it (“Glossary: window = fenêtre; kitchen = cuisine”). Below, the same few-shot prompt without and "
        "with that line, decoded the same way, and whether each term's French appears in the output."
    )
    st.info(CAN_AND_CANNOT)
    with page.settings_area():
        left, middle, right = st.columns([2, 3, 2])
        with left:
            model_name, allow_download = model_picker(page, kinds=("causal",))
            page.widget(st.slider, "num_beams", "Beams (1 = greedy)", 1, 8, default=1)
            page.widget(st.slider, "max_new_tokens", "New tokens at most", 4, 32, default=16)
        page.widget(
            middle.text_area,
            "sentences",
            f"Sentences, one a line: English | French reference (at most {MAX_SENTENCES})",
            default=DEFAULT_SENTENCES,
            max_chars=2_000,
            height=160,
        )
        page.widget(
            right.text_area,
            "glossary",
            "Glossary: English term = French term",
            default=DEFAULT_GLOSSARY,
            max_chars=2_000,
            height=160,
        )
    config = page.config(DecodeConfig, "The decoding settings")
    sentences_text = page.value("sentences", DEFAULT_SENTENCES)
    glossary_text = page.value("glossary", DEFAULT_GLOSSARY)
    sentences = page.compute("glossary-sentences", "Reading the sentences", parse_sentences, sentences_text)
    glossary = page.compute("glossary-terms", "Reading the glossary", parse_glossary, glossary_text)
    loaded = page.compute(
        "glossary-model", "Loading the model", data.load_causal_lm, model_name, page.device, allow_download
    )
    if config is None or sentences is None or glossary is None or loaded is None:
        return
    model, tokenizer = loaded
    if not any(terms_in(english, glossary) for english, _ in sentences):
        st.warning("No glossary term occurs in these sentences: both prompts are the same. Add a term or a sentence.")
    default = sentences_text == DEFAULT_SENTENCES and glossary_text == DEFAULT_GLOSSARY
    args = (model_name, page.device, tuple(sentences), tuple(glossary.items()), config)
    with st.spinner(f"{model_name} translates {len(sentences)} sentence(s) twice…", show_time=True):
        comparison = page.compute("glossary", "Translating", _compare, page, default, args, model, tokenizer)
    if comparison is None:
        return
    show(page, comparison)
    with st.expander("The prompt of the first sentence, with its glossary line"):
        english = sentences[0][0]
        st.code(translation_prompt(tokenizer, english, terms_in(english, glossary)), language=None)


def _compare(page: LessonPage, default: bool, args: tuple, model, tokenizer):
    """The comparison: once per server for the default sentences and glossary, else once per session and input."""
    if default:
        return page.shared(data.glossary_comparison, *args, _model=model, _tokenizer=tokenizer, read_only=True)
    key = (args[0], args[1], hashlib.sha1(repr(args[2:4]).encode("utf-8")).hexdigest(), args[4])
    kept = page.result("glossary-own")
    if kept is None or kept[0] != key:
        kept = page.keep("glossary-own", (key, data.glossary_comparison(*args, _model=model, _tokenizer=tokenizer)))
    return kept[1]


def _percent(value) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _score(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def show(page: LessonPage, comparison) -> None:
    n = comparison.n_terms
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Terms used without the glossary", f"{comparison.terms_found['without']} of {n}")
    c2.metric(
        "Terms used with the glossary",
        f"{comparison.terms_found['with']} of {n}",
        help=f"term accuracy {_percent(comparison.term_accuracy['with'])}",
    )
    c3.metric(
        "chrF without → with",
        f"{_score(comparison.chrf['without'])} → {_score(comparison.chrf['with'])}",
        help="sacrebleu's corpus chrF against the references (character 6-grams)",
    )
    c4.metric(
        "BLEU without → with",
        f"{_score(comparison.bleu['without'])} → {_score(comparison.bleu['with'])}",
        help="sacrebleu's corpus BLEU against the references",
    )
    page.chart(*figures.glossary_bars(comparison), name="glossary")

    def marks(hits) -> str:
        return ", ".join(f"{'✓' if h.found else '✗'} {h.target}" for h in hits) or "(no term)"

    st.dataframe(
        pd.DataFrame(
            {
                "English": [row["english"] for row in comparison.rows],
                "without the glossary": [row["without"] for row in comparison.rows],
                "terms (without)": [marks(row["without hits"]) for row in comparison.rows],
                "with the glossary": [row["with"] for row in comparison.rows],
                "terms (with)": [marks(row["with hits"]) for row in comparison.rows],
                "reference": [row["reference"] for row in comparison.rows],
            }
        ),
        hide_index=True,
    )
