"""Tab "Next-token distribution": the model's distribution, what temperature, top-k and top-p keep and cut,
and the renormalised distribution actually sampled from."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from app.lecture import clear_pins, pin, pinned
from app.lessons.next_token import figures
from app.page import LessonPage
from models.next_token.sampling import filter_logits, token_pieces

TITLE = "Next-token distribution"


def distribution_frame(prediction, n_bars: int) -> tuple[pd.DataFrame, object]:
    """The n_bars likeliest tokens after temperature, with their fate under the filters."""
    dist = filter_logits(prediction.result.logits, prediction.config)
    top = dist.probs_tempered.topk(min(n_bars, dist.probs.numel()))
    ids = top.indices.tolist()
    status = [
        "kept" if dist.kept_top_p[i] else "cut by top-k" if not dist.kept_top_k[i] else "cut by top-p" for i in ids
    ]
    frame = pd.DataFrame(
        {
            "rank": range(1, len(ids) + 1),
            "token_id": ids,
            "token": token_pieces(prediction.tokenizer, ids),
            "p_raw": dist.probs[ids].numpy(),
            "p_tempered": dist.probs_tempered[ids].numpy(),
            "p_final": dist.final[ids].numpy(),
            "status": status,
        }
    )
    return frame, dist


def entropy(p) -> float:
    return float(-(p * p.clamp_min(1e-30).log()).sum())


def render(page: LessonPage) -> None:
    prediction = page.data
    config = prediction.config
    frame, dist = distribution_frame(prediction, int(page.value("bars", 20)))
    kept = int(dist.kept_top_p.sum())
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Tokens that can be sampled",
        f"{kept:,}",
        help=f"of {dist.probs.numel():,} in the vocabulary, after top-k and top-p",
    )
    c2.metric(
        "Probability kept",
        f"{float(dist.probs_tempered[dist.kept_top_p].sum()):.1%}",
        help="The share of the distribution after temperature that the filters keep; the rest is cut "
        "and the kept part renormalised to 100 %.",
    )
    top_id = int(dist.probs_tempered.argmax())
    c3.metric(
        "Likeliest token",
        f"{float(dist.probs[top_id]):.0%} → {float(dist.final[top_id]):.0%}",
        help=f"{frame['token'].iloc[0]!r}: its probability in the model → in the distribution sampled from",
    )
    c4.metric(
        "Entropy, nats",
        f"{entropy(dist.probs):.2f} → {entropy(dist.probs_tempered):.2f}",
        help="Entropy of the model's distribution at T=1 → after the temperature",
    )
    if page.stale("forward"):
        st.warning(
            f"Stale: this chart is still for the prompt “{prediction.prompt[:80]}”; fix the input above to update it."
        )
    b1, b2, b3, _ = st.columns([2, 2, 2, 3])
    page.widget(b1.toggle, "log_y", "Log axis (see the cut tail)", default=False)
    label = f"T={config.temperature:g}, k={config.top_k}, p={config.top_p:g}"
    b2.button(
        "📌 Pin this distribution",
        key=page.state_key("pin"),
        on_click=pin,
        args=(page.slug, label, frame[["token", "p_final"]]),
        help="Keep it on the chart (diamonds) to compare with other settings.",
    )
    b3.button(
        "Clear pins",
        key=page.state_key("clear-pins"),
        on_click=clear_pins,
        args=(page.slug,),
        disabled=not pinned(page.slug),
    )
    pins = [(p["label"], p["payload"]) for p in pinned(page.slug)]
    tail = prediction.prompt if len(prediction.prompt) <= 40 else "…" + prediction.prompt[-40:]
    figure = figures.token_probability_bars(frame, pins, page.value("log_y", False), tail)
    page.chart(figure, frame, "next-token-probabilities")
    cut, result = frame["status"] != "kept", prediction.result
    perplexity = f"; text perplexity {math.exp(result.loss):.1f}" if result.loss is not None else ""
    st.caption(
        f"Forward pass {result.seconds * 1000:,.0f} ms on {prediction.device}{perplexity}. "
        f"Left: the {len(frame)} likeliest tokens after temperature; hatched bars are cut by top-k (red) "
        f"or top-p (orange){'' if cut.any() else ' (none of these is cut)'}. Right: the distribution "
        "actually sampled from, the kept tokens renormalised to sum to 1."
    )
