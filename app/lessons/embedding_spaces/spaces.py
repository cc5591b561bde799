"""The spaces the lesson compares, built once per server (st.cache_resource / st.cache_data), and the word2vec
run of the Word embeddings page when this session has one."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app.page import keep, kept, lesson_run
from app.resources import shared_model
from models.corpora import load_corpus_text, load_polarity
from models.embedding_spaces.spaces import TokenEmbeddingSpace, sentence_embeddings, word_occurrences
from models.text import split_sentences
from models.word_embeddings.evaluation import evaluate_analogies, evaluate_word_pairs

MODELS = {"smollm2": "SmolLM2-135M", "minilm": "MiniLM-L6"}
SPACES = {
    "smollm2": "SmolLM2-135M tokens",
    "minilm": "MiniLM-L6 tokens",
    "word2vec": "Your word2vec run",
}
SEARCH_CORPORA = {
    "reviews": "200 movie-review sentences (Pang & Lee)",
    "lee": "Lee news corpus (2,682 sentences)",
}
MAX_SENTENCES = 40
MAX_CHARS = 1_000


@st.cache_resource(max_entries=4, show_spinner="Reading the model's embedding matrix…")
def token_space(name: str, device: str) -> TokenEmbeddingSpace:
    model, tokenizer = shared_model(name, device)
    return TokenEmbeddingSpace.from_model(model, tokenizer, name=MODELS[name])


def word2vec_run():
    """The word2vec run trained on the Word embeddings page in this session, or None."""
    run = lesson_run("word_embeddings")
    trainer = getattr(run, "trainer", None)
    for owner in (trainer, getattr(trainer, "model", None)):
        if owner is not None and hasattr(owner, "keyed_vectors") and run.steps_done > 0:
            return run, owner
    return None


def word2vec_vectors():
    found = word2vec_run()
    if found is None:
        raise ValueError("No word2vec run in this session: train one on the Word embeddings page first.")
    run, owner = found
    cached = kept("embedding_spaces", "word2vec")
    if cached is None or cached[0] != (run.run_id, run.steps_done):
        cached = keep("embedding_spaces", "word2vec", ((run.run_id, run.steps_done), owner.keyed_vectors()))
    return cached[1]


def space_options() -> list[str]:
    return ["smollm2", "minilm"] + (["word2vec"] if word2vec_run() is not None else [])


def get_space(name: str, device: str):
    return word2vec_vectors() if name == "word2vec" else token_space(name, device)


def space_label(name: str) -> str:
    if name != "word2vec":
        return SPACES[name]
    found = word2vec_run()
    words = f", {len(found[1].vocab.words):,} words" if found and hasattr(found[1], "vocab") else ""
    return f"Your word2vec run ({found[0].steps_done if found else 0} steps{words})"


def _summary(name: str, result: dict, what: str, score: str) -> dict:
    used = result.get("pairs_used", result.get("covered"))
    total = result.get("pairs_total", result.get("questions"))
    return {
        "space": name,
        "benchmark": what,
        "score": result[score],
        "coverage": result["coverage"],
        "covered": f"{used:,} of {total:,}",
    }


def similarity_rows(label: str, vectors) -> list[dict]:
    return [
        _summary(label, evaluate_word_pairs(vectors, "wordsim353"), "WordSim-353", "spearman"),
        _summary(label, evaluate_word_pairs(vectors, "simlex999"), "SimLex-999", "spearman"),
    ]


@st.cache_data(max_entries=4, show_spinner=False)
def similarity_scores(name: str, device: str) -> list[dict]:
    return similarity_rows(SPACES[name], token_space(name, device))


def analogy_rows(label: str, vectors) -> list[dict]:
    result = evaluate_analogies(vectors, "google", restrict_vocab=30_000)
    rows = [_summary(label, result, "Google analogies (all)", "accuracy")]
    for group, row in result["groups"].items():
        rows.append(_summary(label, row, f"analogies: {group}", "accuracy"))
    return rows


@st.cache_data(max_entries=4, show_spinner=False)
def analogy_scores(name: str, device: str) -> list[dict]:
    return analogy_rows(SPACES[name], token_space(name, device))


# ---------------------------------------------------------------------- contextual and sentence vectors
def parse_senses(text: str) -> tuple[list[str], list[str]]:
    """'river | We sat on the bank.' lines -> (senses, sentences); a line with no '|' is its own sense."""
    senses, sentences = [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        sense, bar, sentence = line.partition("|")
        sentence = sentence if bar else sense
        if sentence.strip():
            senses.append(sense.strip() if bar and sense.strip() else f"line {number}")
            sentences.append(sentence.strip())
    check_sentences(sentences)
    return senses, sentences


def check_sentences(sentences: list[str]) -> None:
    if not sentences:
        raise ValueError("The sentence list is empty: write one sentence per line.")
    if len(sentences) > MAX_SENTENCES:
        raise ValueError(f"{len(sentences)} sentences: give at most {MAX_SENTENCES} (one per line).")
    longest = max(len(s) for s in sentences)
    if longest > MAX_CHARS:
        raise ValueError(f"A sentence has {longest:,} characters: keep each under {MAX_CHARS:,}.")


def check_word(word: str) -> str:
    word = (word or "").strip()
    if not word:
        raise ValueError("Type a word.")
    if len(word.split()) > 1:
        raise ValueError(f"Type one word, not {len(word.split())} ({word!r}).")
    return word


@st.cache_data(max_entries=16, show_spinner="Running the model on each sentence…")
def occurrences(model_name: str, device: str, sentences: tuple[str, ...], word: str):
    model, tokenizer = shared_model(model_name, device)
    return word_occurrences(model, tokenizer, list(sentences), word)


@st.cache_data(max_entries=16, show_spinner="Embedding the sentences…")
def embed(sentences: tuple[str, ...], device: str) -> np.ndarray:
    model, tokenizer = shared_model("minilm", device)
    return sentence_embeddings(model, tokenizer, list(sentences)).cpu().numpy()


@st.cache_resource(max_entries=2, show_spinner="Embedding the corpus once for this server…")
def search_index(name: str, device: str) -> tuple[list[str], torch.Tensor]:
    if name == "reviews":
        sentences = [f"[{label}] {text}" for label, text in load_polarity()]
    else:
        sentences = split_sentences(load_corpus_text("lee"))
    model, tokenizer = shared_model("minilm", device)
    texts = [s.split("] ", 1)[-1] for s in sentences]
    return sentences, sentence_embeddings(model, tokenizer, texts).cpu()
