"""What the translation lesson's tabs share: the corpus, IBM Model 1 trained on it, the English LM, a prompted LM's
beams and glossary comparison. No Streamlit calls here (the shared model comes from app.resources).

Named corpora are computed once per server (`page.shared`, keyed by the settings); a user's own pairs are computed
in their session only. The functions with `_model` / `_tokenizer` arguments are named for `page.shared` by the model's
name and the settings (the underscored arguments are not hashed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from app.resources import load_shared_model
from models.registry import model_kind
from models.translation.beam import beam_search_result
from models.translation.config import TranslationConfig
from models.translation.corpora import parallel_corpus
from models.translation.glossary import compare_glossary
from models.translation.ibm_model1 import IBMModel1, aer_by_iteration
from models.translation.llm_prompt import answer_text, beams_by_width, translation_prompt
from models.translation.noisy_channel import english_lm


@dataclass
class Alignment:
    corpus: str
    pairs: list  # [(foreign tokens, English tokens)]
    gold: list | None  # gold alignments [(j, i)] per pair, or None
    ibm: IBMModel1  # trained for `iterations`; ibm.history holds every table
    aer: list[float] | None  # AER after 0..iterations EM steps (None without gold)
    iterations: int


def align_corpus(corpus: str, iterations: int, toy_pairs: int, seed: int, text: str = "") -> Alignment:
    pairs, gold = parallel_corpus(corpus, text=text, n_pairs=toy_pairs, seed=seed)
    ibm = IBMModel1(pairs).train(iterations)
    aer = aer_by_iteration(ibm, gold) if gold is not None else None
    return Alignment(corpus, pairs, gold, ibm, aer, iterations)


def alignment(page, config: TranslationConfig, text: str) -> Alignment:
    """The shared result for a named corpus; the user's pairs once per session and text (kept, not shared)."""
    if config.corpus != "user":
        return page.shared(
            align_corpus, config.corpus, config.iterations, config.toy_pairs, config.seed, read_only=True
        )
    key = (hashlib.sha1((text or "").encode("utf-8")).hexdigest(), config.iterations)
    kept = page.result("user-alignment")
    if kept is None or kept[0] != key:
        kept = page.keep("user-alignment", (key, align_corpus("user", config.iterations, 0, 0, text)))
    return kept[1]


def lm_for(pairs: list, order: int):
    return english_lm(pairs, order)


def shared_lm(corpus: str, toy_pairs: int, seed: int, order: int):
    pairs, _ = parallel_corpus(corpus, n_pairs=toy_pairs, seed=seed)
    return english_lm(pairs, order)


# ---- a prompted LM (the "Beam search" and "Prompt with a glossary" tabs) -----------------------------------------
def load_causal_lm(name: str, device: str, allow_download: bool):
    """(model, tokenizer) of a causal LM, shared read-only; a ValueError for an encoder."""
    model, tokenizer = load_shared_model(name, device, allow_download)
    if model_kind(model) != "causal":
        raise ValueError(f"{name} is an encoder; translating needs a causal language model (one that writes text).")
    return model, tokenizer


def llm_beams(model_name: str, device: str, english: str, num_beams: int, max_new_tokens: int, _model, _tokenizer):
    """One beam search of the prompted LM: (BeamResult, the answers of its finished hypotheses, token labels)."""
    prompt = translation_prompt(_tokenizer, english)
    result = beam_search_result(_model, _tokenizer, prompt, num_beams, max_new_tokens)
    answers = [answer_text(_tokenizer, ids) for ids in result.sequences]
    tokens = {token for step in result.tree for _, token, _ in step}
    labels = {token: _tokenizer.decode([token]) for token in tokens}
    return result, answers, labels


def llm_widths(
    model_name: str, device: str, english: str, reference: str, max_new_tokens: int, widths, _model, _tokenizer
):
    """The best hypothesis at each beam width (a list of WidthRow)."""
    rows, _ = beams_by_width(_model, _tokenizer, english, list(widths), max_new_tokens, reference)
    return rows


def glossary_comparison(model_name: str, device: str, sentences, glossary_items, config, _model, _tokenizer):
    """compare_glossary keyed by the model's name, the sentences, the glossary and the decoding settings."""
    return compare_glossary(_model, _tokenizer, list(sentences), dict(glossary_items), config)
