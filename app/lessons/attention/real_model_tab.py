"""Real model tab: every attention head of a pretrained model at a glance, one head in detail (heatmap
and BertViz-style head view), and what each head does: attention sinks, previous-token heads and
induction heads (Olsson et al. 2022, https://arxiv.org/abs/2209.11895).
"""

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app.attention_lesson import STATE, P, heads, measures
from app.attention_lesson.labels import token_label
from app.errors import friendly_errors
from app.lecture import show_chart
from app.resources import load_shared_model, model_picker, shared_model
from models.attention_probes import attention_for_ids, induction_score, induction_sequence

MAX_TOKENS = 512  # longest text traced (all layers' weights of 512 tokens take ~0.3 GB)
HEAD_VIEW_TOKENS = 64  # tokens drawn in the head view
INDUCTION_LENGTH = 40  # random tokens per copy in the induction test
MAX_OFFSET = 16  # offsets shown in the attention-by-offset chart
THUMB = 16  # thumbnail size in the all-heads mosaic
DEFAULT_TEXT = "The cat sat on the mat. The dog sat on the rug."
SINK_TEXT = (
    "The old lighthouse keeper climbed the narrow stairs every evening to light the lamp. Ships "
    "passing the rocky coast relied on its beam to find their way home, and for forty years he "
    "never missed a single night, even during the worst winter storms."
)
SOURCES = {"text": "Your text", "random": "Repeated random tokens (induction test)"}


@dataclass
class RealModelSettings:
    """The tab's controls, as the widgets return them; the step-through tab reuses model and head."""

    model_name: str
    allow_download: bool
    source: str  # a key of SOURCES
    text: str
    layer: int  # as typed: may not exist in the model (pick_head says so)
    head: int
    query: int  # query token of the head view, -1 = last


def controls() -> RealModelSettings:
    c_model, c_text, c_head = st.columns([2, 3, 2])
    with c_model:
        model_name, allow_download = model_picker(P)
        source = st.radio(
            "Input", list(SOURCES), format_func=SOURCES.get, key=f"{P}source", bind="query-params"
        )
    text = c_text.text_area(
        f"Text (up to {MAX_TOKENS} tokens)",
        DEFAULT_TEXT,
        key=f"{P}text",
        bind="query-params",
        height=130,
        max_chars=50_000,
        disabled=source == "random",
    )
    with c_head:
        layer_in = st.number_input("Layer", 0, 127, 1, key=f"{P}layer", bind="query-params")
        head_in = st.number_input("Head", 0, 127, 2, key=f"{P}head", bind="query-params")
        query_in = st.number_input(
            "Query token in the head view (−1 = last)",
            -1,
            MAX_TOKENS - 1,
            -1,
            key=f"{P}query",
            bind="query-params",
        )
    return RealModelSettings(model_name, allow_download, source, text, layer_in, head_in, query_in)


@st.cache_data(max_entries=8, show_spinner="Measuring induction on repeated random tokens…")
def induction_map(model_name: str, device: str, allow_download: bool) -> np.ndarray:
    """(L, H) induction scores on [BOS] r r for a random token sequence r (seeded)."""
    model, tokenizer = shared_model(model_name, device, allow_download)
    ids = induction_sequence(tokenizer, INDUCTION_LENGTH, seed=0)
    return induction_score(attention_for_ids(model, ids), INDUCTION_LENGTH)


def load_and_trace(settings: RealModelSettings, device: str):
    """Load the model and store its attention (and induction map) in the session: (model, tokenizer).

    Both are None when the model cannot be loaded; the error is shown and earlier results stay.
    """
    model_name, source, text = settings.model_name, settings.source, settings.text
    model = tokenizer = None
    with friendly_errors("Loading the model"):
        model, tokenizer = load_shared_model(model_name, device, settings.allow_download)
    if model is not None:
        with friendly_errors("Reading the attention"):
            key = (model_name, device, source, text if source == "text" else INDUCTION_LENGTH)
            stored = st.session_state.get(f"{STATE}real")
            if stored is None or stored["key"] != key:
                result = heads.real_model_attention(
                    model,
                    tokenizer,
                    source,
                    text,
                    MAX_TOKENS,
                    INDUCTION_LENGTH,
                    thumb=THUMB,
                    max_offset=MAX_OFFSET,
                )
                st.session_state[f"{STATE}real"] = {"key": key, "model": model_name, **result}
        with friendly_errors("Measuring induction heads"):
            st.session_state[f"{STATE}induction"] = (
                model_name,
                induction_map(model_name, device, settings.allow_download),
            )
    return model, tokenizer


def pick_head(layer: int, head: int, n_layers: int, n_heads: int, model: str) -> tuple[int, int]:
    """The chosen (layer, head) if it exists, else the last valid one with a message."""
    if layer < n_layers and head < n_heads:
        st.session_state[f"{STATE}head"] = (layer, head)
        return layer, head
    last_layer, last_head = st.session_state.get(f"{STATE}head", (0, 0))
    kept = (min(last_layer, n_layers - 1), min(last_head, n_heads - 1))
    st.error(
        f"{model} has layers 0–{n_layers - 1} and heads 0–{n_heads - 1} in each layer: there is "
        f"no layer {layer}, head {head}. Still showing layer {kept[0]}, head {kept[1]}."
    )
    return kept


def render(settings: RealModelSettings) -> None:
    """Draw the stored attention: all heads, the chosen head, and the per-head measures."""
    real = st.session_state.get(f"{STATE}real")
    if real is None:
        st.info("The model's attention appears here once it has loaded.")
        return
    weights = real["weights"]
    n_layers, n_heads, n_tokens, _ = weights.shape
    if real["truncated"]:
        st.warning(
            f"The text has {real['n_input_tokens']} tokens; only the first {n_tokens} are used "
            f"(this page reads at most {MAX_TOKENS} tokens, or the model's context if shorter)."
        )
    if real["source"] == "random":
        st.caption(
            f"Input: {INDUCTION_LENGTH} random tokens, then the same {INDUCTION_LENGTH} again. "
            "An induction head, at a token of the second copy, looks at the token that followed "
            "the same token in the first copy: a stripe in the lower-left block of its map, one "
            "key to the right of where the repeated token sits."
        )
    layer, head = pick_head(
        int(settings.layer), int(settings.head), n_layers, n_heads, real["model"]
    )
    head_measures = dict(real["measures"])
    induction = st.session_state.get(f"{STATE}induction")
    if induction is not None and induction[0] == real["model"]:
        head_measures["induction"] = induction[1]

    every_head(real, layer, head, head_measures)
    one_head(real, layer, head, settings.query)
    what_each_head_does(real, layer, head, head_measures)


def every_head(real: dict, layer: int, head: int, head_measures: dict) -> None:
    n_layers, n_heads, n_tokens, _ = real["weights"].shape
    st.subheader(f"Every head at a glance: {real['model']}, {n_layers} layers × {n_heads} heads")
    st.markdown(
        "Each tile is one head's attention (rows = queries, columns = keys; longer texts "
        f"pooled to {THUMB}×{THUMB}), laid out by layer and head. A bright first column is the "
        "**attention sink**, a bright line just under the diagonal a **previous-token** head. "
        "The outlined tile is the head shown below; hover a tile for its layer and head."
    )
    show_chart(
        heads.mosaic_figure(
            real["thumbs"], (layer, head), f"Attention of every head ({n_tokens} tokens)"
        ),
        measures.measures_frame(head_measures),
        "attention-all-heads",
        P,
    )


def one_head(real: dict, layer: int, head: int, query_in: int) -> None:
    tokens, weights = real["tokens"], real["weights"]
    n_tokens = weights.shape[2]
    st.subheader(f"Layer {layer}, head {head}")
    matrix = weights[layer, head].float().numpy()
    shown = min(n_tokens, HEAD_VIEW_TOKENS)
    query = shown - 1 if query_in < 0 else int(query_in)
    if query >= shown:
        st.warning(
            f"The head view shows tokens 0–{shown - 1}; there is no query token {query_in}. "
            f"Showing the last one, {shown - 1}."
        )
        query = shown - 1
    left, right = st.columns([3, 2])
    with left:
        st.caption(
            "Row i is where token i looks; each row sums to 1."
            + (
                " The upper triangle is empty: a causal LM cannot look ahead."
                if real["causal"]
                else ""
            )
        )
        show_chart(
            heads.head_heatmap(matrix, tokens, f"Layer {layer}, head {head}: attention weights"),
            heads.head_frame(matrix, tokens),
            "attention-one-head",
            P,
        )
    with right:
        st.caption(
            "The head view (as in BertViz): queries on the left, keys on the right; faint lines "
            "are all weights above 0.02, the coloured lines the chosen query's attention."
            + (f" First {shown} tokens shown." if n_tokens > shown else "")
        )
        show_chart(
            heads.token_lines_figure(
                matrix[:shown, :shown],
                tokens[:shown],
                query,
                f"Query {query}: {token_label(tokens[query])!s}",
            ),
            None,
            "attention-head-view",
            P,
        )


def what_each_head_does(real: dict, layer: int, head: int, head_measures: dict) -> None:
    st.subheader("What each head does")
    st.markdown(
        "One number per head, as a layer × head map, so heads with a role stand out: **entropy** "
        "(low = looks at one token), **share on the first token** (the sink, a no-op many heads "
        "of causal LMs use), **previous-token score** (weight on position i−1) and **induction "
        "score**. The induction score is always measured on a sequence of "
        f"{INDUCTION_LENGTH} random tokens repeated twice, not on your text: attention from a "
        "token of the second copy to the token after its first occurrence."
    )
    show_chart(
        measures.head_maps_figure(head_measures, (layer, head)),
        measures.measures_frame(head_measures),
        "attention-head-measures",
        P,
    )
    m_left, m_right = st.columns([2, 3])
    with m_left:
        st.markdown("**Heads that stand out** (layer, head, value)")
        for line in measures.top_heads(measures.measures_frame(head_measures)):
            st.markdown(f"- {line}")
    with m_right:
        offsets, by_offset = real["offsets"], real["by_offset"]
        show_chart(
            measures.offset_figure(offsets, by_offset[layer], layer, head),
            measures.offset_frame(offsets, by_offset[layer]),
            "attention-by-offset",
            P,
        )
