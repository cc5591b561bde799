"""Tab "Domain swap": the same SmolLM2 with the datastore built from another corpus: each domain's held-out text
with no datastore, with its own domain's and with the other's. Knowledge changes with the datastore, not the
weights."""

from __future__ import annotations

import math

import streamlit as st

from app.lessons.retrieval import data, figures, knn_tab
from app.page import LessonPage
from models.retrieval import KnnLMConfig, knn_lm_from_scores

TITLE = "Domain swap"
NAMED = [name for name in data.CORPORA if name != "user"]


def check_domains(domains) -> list[str]:
    domains = [d for d in domains or [] if d in NAMED]
    if len(domains) < 2:
        raise ValueError("Pick at least two domains to swap between.")
    return domains


def swap_rows(stores: dict, config: KnnLMConfig) -> list[dict]:
    """Perplexity of every domain's held-out text with no datastore and with each domain's datastore."""
    rows = []
    for held_name, held in stores.items():
        rows.append(
            {"held-out text": held_name, "datastore": "none (SmolLM2 alone)", "perplexity": held.scores.perplexity}
        )
        for store_name, store in stores.items():
            result = knn_lm_from_scores(store.store, held.scores, config)
            rows.append({"held-out text": held_name, "datastore": store_name, "perplexity": result.perplexity})
    return rows


def render(page: LessonPage) -> None:
    st.markdown(
        "A kNN-LM's knowledge lives in its datastore: build it from another corpus and the same weights predict "
        "another domain better, with no training. Each corpus gives a datastore (its first tokens) and a held-out "
        "text (the tokens after them); every held-out text is scored with every datastore."
    )
    with page.settings_area():
        page.widget(
            st.multiselect,
            "domains",
            "Domains (two or three)",
            NAMED,
            format_func=data.CORPORA.get,
            default=["wiki", "toy"],
            max_selections=3,
        )
        knn_tab.mixture_settings(page)
    domains = page.compute("domains", "The domains", check_domains, page.value("domains", ["wiki", "toy"]))
    config = page.config(KnnLMConfig, "The kNN-LM settings")
    if config is None or domains is None:
        return
    stores = {}
    for name in domains:
        built = knn_tab.load_datastore(page, name, name=f"swap-{name}")
        if built is None:
            return
        stores[data.CORPORA[name].split(" (")[0]] = built
    config = knn_tab.fit_k(config, min(stores.values(), key=lambda d: len(d.store)))
    rows = page.compute("swap", "Scoring every domain with every datastore", swap_rows, stores, config)
    if rows is None:
        return
    columns = st.columns(len(stores))
    for column, name in zip(columns, stores):
        alone = next(r["perplexity"] for r in rows if r["held-out text"] == name and r["datastore"].startswith("none"))
        own = next(r["perplexity"] for r in rows if r["held-out text"] == name and r["datastore"] == name)
        other = min(
            r["perplexity"]
            for r in rows
            if r["held-out text"] == name and r["datastore"] not in (name,) and not r["datastore"].startswith("none")
        )
        column.metric(
            f"{name}: own datastore against the best other",
            f"{own / other - 1:+.1%}" if math.isfinite(own / other) else "∞",
            help=f"Perplexity {knn_tab.fmt(own)} with its own datastore, {knn_tab.fmt(other)} with another "
            f"domain's, {knn_tab.fmt(alone)} with none.",
        )
    page.chart(*figures.domain_bars(rows), name="domains")
