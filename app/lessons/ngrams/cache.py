"""The n-gram lesson's cached work: the corpus counted once, and the curves and tables from it.

Each function takes a `key` naming the corpus, split and vocabulary cut; the counted corpus itself
(`_data`) is not hashed.
"""

import pandas as pd
import streamlit as st

from app.lessons.ngrams import data as counting
from app.lessons.ngrams import tables
from app.lessons.ngrams.data import Data
from models.ngrams.curves import perplexity_by_order
from models.ngrams.model import NGramConfig


@st.cache_resource(max_entries=3, show_spinner="Counting n-grams up to order 5…")
def counted(key, label, _sentences, fraction, seed, min_count) -> Data:
    return counting.split_and_count(key, label, _sentences, fraction, seed, min_count)


@st.cache_data(max_entries=16, show_spinner="Held-out perplexity of every smoothing and order…")
def order_curves(key: str, _data: Data, k: float, discount: float) -> dict:
    return perplexity_by_order(_data.counts, _data.heldout_lookup, k=k, discount=discount)


@st.cache_resource(max_entries=16, show_spinner=False)
def models(key: str, _data: Data, config: NGramConfig, k: float, discount: float) -> dict:
    """Every smoothing of these counts and settings, built once per server and shared read-only (the models
    only score; a page run no longer rebuilds seven of them)."""
    lambdas = order_curves(key, _data, k, discount)["lambdas"]
    return counting.build_models(_data, config, lambdas)


@st.cache_data(max_entries=16, show_spinner=False)
def hyper_curves(key: str, _data: Data, order: int) -> dict:
    return counting.hyperparameter_curves(_data, order)


@st.cache_data(max_entries=8, show_spinner=False)
def continuation(key: str, _data: Data) -> pd.DataFrame:
    return tables.continuation_frame(_data.counts)


@st.cache_data(max_entries=8, show_spinner="Recounting with each min_count…")
def vocabulary_sweep(key: str, _data: Data, config: NGramConfig) -> pd.DataFrame:
    return counting.vocabulary_sweep(_data, config)


def count_corpus(corpus_key: str, label: str, sentences, fraction, split_seed, min_count) -> Data:
    """The picked corpus split and counted, cached under its corpus (page.corpus's key), split and cut."""
    key = f"{corpus_key}|{fraction}|{int(split_seed)}|{int(min_count)}"
    return counted(key, label, sentences, fraction, int(split_seed), int(min_count))
