"""Tab "kNN-LM": SmolLM2's next-token distribution mixed with a datastore's, perplexity against λ and k, one
token's neighbours, and the datastore's size against its gain."""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from app.lessons.retrieval import data, figures
from app.page import LessonPage
from models.retrieval import KnnLMConfig, check_size, knn_lm_from_scores
from models.retrieval.datastore import MAX_DATASTORE_BYTES

TITLE = "kNN-LM"
DIM = 576  # SmolLM2's hidden size: the width of every key
STORE_SIZES = [256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]
EVAL_SIZES = [64, 128, 256, 512, 1024]
KS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
TEMPERATURES = [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
DEFAULTS = dict(n_store=1024, n_eval=256, lam=0.1, k=64, temperature=5.0)


def mixture_settings(page: LessonPage, sizes: bool = True) -> None:
    """The datastore sizes and the mixture's λ, k and T (this tab's, or "Domain swap"'s own)."""
    if sizes:
        a, b = st.columns(2)
        page.widget(
            a.select_slider,
            "n_store",
            "Datastore (tokens)",
            STORE_SIZES,
            default=DEFAULTS["n_store"],
            help=f"One SmolLM2 forward pass over this many tokens (a few seconds per thousand on a CPU) and "
            f"{DIM * 4:,} bytes of keys per token. Stores over {MAX_DATASTORE_BYTES / 1e6:.0f} MB are refused.",
        )
        page.widget(b.select_slider, "n_eval", "Held-out text (tokens)", EVAL_SIZES, default=DEFAULTS["n_eval"])
    c, d, e = st.columns(3)
    page.widget(c.slider, "lam", "λ (weight of p_kNN)", 0.0, 1.0, step=0.05, default=DEFAULTS["lam"])
    page.widget(d.select_slider, "k", "k (neighbours)", KS, default=DEFAULTS["k"])
    page.widget(
        e.select_slider,
        "temperature",
        "Temperature T",
        TEMPERATURES,
        default=DEFAULTS["temperature"],
        help="p_kNN ∝ exp(−distance / T). SmolLM2's squared distances are in the tens: at the paper's T = 1 the "
        "nearest neighbour takes nearly all the weight.",
    )


def load_datastore(page: LessonPage, corpus: str, text: str = "", name: str = "knn-data"):
    """The datastore and held-out scores for `corpus` (its size said first), or None (a message is shown)."""
    n_store, n_eval = int(page.value("n_store", DEFAULTS["n_store"])), int(page.value("n_eval", DEFAULTS["n_eval"]))
    size = page.compute(f"{name}-size", "The datastore's size", check_size, n_store, DIM, MAX_DATASTORE_BYTES)
    if size is None or page.stale(f"{name}-size"):  # said before anything is built; the last store stays
        return page.result(name)
    if corpus != "user":
        return page.compute(
            name,
            "Building the datastore",
            page.shared,
            data.knn_data,
            corpus,
            n_store,
            n_eval,
            512,
            page.device,
            read_only=True,
        )
    key = (hashlib.sha1(text.encode("utf-8")).hexdigest(), n_store, n_eval)
    kept = page.result("user-knn")
    if kept is not None and kept[0] == key:
        return kept[1]
    built = page.compute(
        name, "Building the datastore from your text", data.knn_data, "user", n_store, n_eval, 512, page.device, text
    )
    if built is not None and not page.stale(name):
        page.keep("user-knn", (key, built))
    return built


def fit_k(config: KnnLMConfig, knn) -> KnnLMConfig:
    """k cut to the datastore's size, with a message (a small store of a student's text)."""
    if config.k <= len(knn.store):
        return config
    st.info(f"The datastore holds {len(knn.store):,} entries: k = {config.k} is cut to {len(knn.store):,}.")
    return replace(config, k=len(knn.store))


def fmt(perplexity: float) -> str:
    return f"{perplexity:.2f}" if math.isfinite(perplexity) else "∞"


def prob(p: float) -> str:
    return f"{p:.4f}" if p >= 1e-3 or p == 0 else f"{p:.1e}"


def neighbour_table(knn: data.KnnData, result, t: int, tokenizer) -> pd.DataFrame:
    """The k stored contexts that fired for held-out token t: distance, softmax weight, context, next token."""
    distances = result.distances[t].astype(np.float64)
    logits = -distances / result.config.temperature
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    rows = []
    for rank, (entry, distance, weight) in enumerate(zip(result.neighbours[t], distances, weights), 1):
        before, value = knn.store.context(int(entry), tokenizer)
        rows.append(
            {
                "rank": rank,
                "distance²": round(float(distance), 2),
                "weight": round(float(weight), 4),
                "stored context": "…" + before,
                "next token": value,
                "= target": "✓" if knn.store.values[entry] == result.targets[t] else "",
            }
        )
    return pd.DataFrame(rows)


def render(page: LessonPage) -> None:
    st.markdown(
        "**kNN-LM** (Khandelwal et al. 2020) keeps every context of a text as a vector, the input of SmolLM2's last "
        "feed-forward layer, with the token that came next. At test time the current context's vector finds its "
        "k nearest stored contexts; a softmax over their negative distances, summed by token, is p_kNN, and "
        "**p = λ·p_kNN + (1 − λ)·p_LM**. Below: the datastore is the start of a corpus, the held-out text the "
        "tokens right after it, read by SmolLM2 (the Q4_1 GGUF, dequantised) without the datastore's text in its "
        "context."
    )
    with page.settings_area():
        corpus = page.widget(
            st.selectbox,
            "corpus",
            "Datastore and held-out text from",
            list(data.CORPORA),
            format_func=data.CORPORA.get,
            default="wiki",
        )
        text = ""
        if corpus == "user":
            text = page.widget(
                st.text_area,
                "user_text",
                "Your text (three quarters become the datastore, the last quarter is held out)",
                default="",
                max_chars=data.MAX_USER_CHARS,
                url=False,
                height=140,
            )
        mixture_settings(page)
    config = page.config(KnnLMConfig, "The kNN-LM settings")
    knn = load_datastore(page, corpus, text)
    if config is None or knn is None:
        return
    config = fit_k(config, knn)
    result = page.compute("result", "Mixing the distributions", knn_lm_from_scores, knn.store, knn.scores, config)
    if result is None:
        return
    config = result.config  # the last one that worked
    _, tokenizer = data.smollm2(page.device)
    gain = result.perplexity / result.perplexity_lm - 1
    grid = data.grid(knn, config.temperature)
    ks = [k for k in data.KS if k <= len(knn.store)]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("SmolLM2 alone: perplexity", fmt(result.perplexity_lm))
    c2.metric(
        "kNN-LM: perplexity",
        fmt(result.perplexity),
        delta=f"{gain:+.1%}" if math.isfinite(gain) else "∞",
        delta_color="inverse",
        help=f"λ = {config.lam}, k = {config.k}, T = {config.temperature}; {len(result.targets)} held-out tokens.",
    )
    row = int(np.argmin(grid.min(axis=1)))  # the best (k, λ) on the curves below
    col = int(np.argmin(grid[row]))
    c3.metric(
        "Best λ on the curves",
        f"{data.LAMBDAS[col]:.2f}",
        help=f"k = {ks[row]}: perplexity {fmt(grid[row, col])} (λ in steps of 0.05, k in {ks}, T = "
        f"{config.temperature})",
    )
    c4.metric("Datastore", f"{len(knn.store):,} tokens", help=f"{knn.store.keys.nbytes / 1e6:.1f} MB of keys")
    if not math.isfinite(result.perplexity):
        missing = int((result.knn_probs == 0).sum())
        st.info(
            f"At λ = 1 only the datastore speaks: {missing} held-out tokens have no neighbour with their value, "
            "so their probability is 0 and the perplexity is infinite. The LM is still needed."
        )
    title = f"Held-out perplexity against λ ({knn.label}, T = {config.temperature})"
    page.chart(
        *figures.lambda_curves(grid, ks, data.LAMBDAS, result.perplexity_lm, config.lam, config.k, title), name="lambda"
    )

    pieces = tokenizer.convert_ids_to_tokens(result.targets.tolist())
    gains = result.logprobs - result.lm_logprobs
    with page.settings_area("⚙️ Token"):
        page.widget(
            st.number_input,
            "position",
            "Held-out token to open (0: the one the datastore helped most)",
            0,
            max(EVAL_SIZES),
            default=0,
        )
    position = int(page.value("position", 0))
    t = int(np.nanargmax(np.where(np.isfinite(gains), gains, -np.inf))) if position == 0 else position - 1
    if t >= len(gains):
        st.info(f"The held-out text has {len(gains)} tokens: showing the last one.")
        t = len(gains) - 1
    page.chart(*figures.token_gains(pieces, gains, t), name="token-gains")
    context = tokenizer.decode(result.tokens[max(0, t - 15) : t + 1])
    target = tokenizer.decode([int(result.targets[t])])
    st.markdown(f"Token #{t + 1}: …{context}**[{target}]**")
    m1, m2, m3 = st.columns(3)
    m1.metric("p_LM(token)", prob(math.exp(result.lm_logprobs[t])))
    m2.metric("p_kNN(token)", prob(result.knn_probs[t]))
    m3.metric("p, mixed", prob(math.exp(result.logprobs[t])))
    page.table(neighbour_table(knn, result, t, tokenizer), hide_index=True, width="stretch")
    st.caption(
        "Every probability the datastore adds is attributed to these stored contexts: kNN-LM says where its "
        "prediction came from, token by token."
    )

    rows = data.size_curve(knn, config.lam, config.k, config.temperature)
    page.chart(
        *figures.size_curve(
            rows,
            result.perplexity_lm,
            f"The trade-off: datastore size against perplexity (the first n of its {len(knn.store):,} entries)",
        ),
        name="size",
    )
