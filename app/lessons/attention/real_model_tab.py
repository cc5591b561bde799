"""Real model tab: every attention head of a pretrained model at a glance, one head in detail (heatmap
and BertViz-style head view), and what each head does: attention sinks, previous-token heads and
induction heads (Olsson et al. 2022, https://arxiv.org/abs/2209.11895).
"""

import numpy as np
import streamlit as st

from app.lessons.attention import heads, measures
from app.lessons.attention.labels import token_label
from app.page import LessonPage
from app.resources import load_shared_model, model_picker, shared_model
from models.attention.probes import attention_for_ids, induction_score, induction_sequence

TITLE = "Real model"
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


def controls(page: LessonPage) -> tuple[str, bool]:
    """The model, the input and the head; returns (model name or id, allow download)."""
    c_model, c_text, c_head = st.columns([2, 3, 2])
    with c_model:
        model_name, allow_download = model_picker(page)
        page.widget(st.radio, "source", "Input", list(SOURCES), default="text", format_func=SOURCES.get)
    page.widget(
        c_text.text_area,
        "text",
        f"Text (up to {MAX_TOKENS} tokens)",
        default=DEFAULT_TEXT,
        height=130,
        max_chars=50_000,
        disabled=page.value("source") == "random",
    )
    with c_head:
        page.widget(st.number_input, "layer", "Layer", 0, 127, default=1)
        page.widget(st.number_input, "head", "Head", 0, 127, default=2)
        page.widget(
            st.number_input, "query", "Query token in the head view (−1 = last)", -1, MAX_TOKENS - 1, default=-1
        )
    return model_name, allow_download


@st.cache_data(max_entries=8, show_spinner="Measuring induction on repeated random tokens…")
def induction_map(model_name: str, device: str, allow_download: bool) -> np.ndarray:
    """(L, H) induction scores on [BOS] r r for a random token sequence r (seeded)."""
    model, tokenizer = shared_model(model_name, device, allow_download)
    ids = induction_sequence(tokenizer, INDUCTION_LENGTH, seed=0)
    return induction_score(attention_for_ids(model, ids), INDUCTION_LENGTH)


def trace(page: LessonPage, model, tokenizer, model_name: str) -> dict:
    """The attention of the text (or of the induction sequence): one forward pass, all layers."""
    source, text = page.value("source", "text"), page.value("text", "")
    key = (model_name, page.device, source, text if source == "text" else INDUCTION_LENGTH)
    stored = page.result("real")
    if stored is not None and stored["key"] == key:
        return stored
    what = (
        f"{INDUCTION_LENGTH} random tokens repeated twice"
        if source == "random"
        else f"{len(tokenizer(text)['input_ids']) if text.strip() else 0} tokens of your text"
    )
    with st.spinner(f"Running {model_name} on {what}: every layer's attention…", show_time=True):
        # what every student's first view computes is shared: its figures too (see `build`)
        shared = source == "random" or text == DEFAULT_TEXT
        if shared:
            result = page.shared(attention_of, *key, _model=model, _tokenizer=tokenizer, read_only=True)
        else:  # a student's own text stays in their session
            result = attention_of(*key, _model=model, _tokenizer=tokenizer)
    return {"key": key, "model": model_name, "shared": shared, **result}


def attention_of(model_name: str, device: str, source: str, text, _model, _tokenizer) -> dict:
    """Every layer's attention and the per-head measures (the model and tokenizer are named by the arguments)."""
    return heads.real_model_attention(
        _model,
        _tokenizer,
        source,
        text if source == "text" else "",
        MAX_TOKENS,
        INDUCTION_LENGTH,
        thumb=THUMB,
        max_offset=MAX_OFFSET,
    )


def load_and_trace(page: LessonPage, model_name: str, allow_download: bool):
    """Load the model and trace its attention (kept in the session); earlier results stay on error."""
    loaded = page.compute("model", "Loading the model", load_shared_model, model_name, page.device, allow_download)
    if loaded is None:
        return
    model, tokenizer = loaded
    name = page.result("model-name", model_name)
    if not page.stale("model"):
        name = page.keep("model-name", model_name)
        page.keep("model-download", allow_download)
    page.compute("real", "Reading the attention", trace, page, model, tokenizer, name)
    induction = page.compute(
        "induction-map",
        "Measuring induction heads",
        induction_map,
        name,
        page.device,
        page.result("model-download", False),
    )
    if induction is not None:
        page.keep("induction", (name, induction))


def pick_head(page: LessonPage, layer: int, head: int, n_layers: int, n_heads: int, model: str) -> tuple[int, int]:
    """The chosen (layer, head) if it exists, else the last valid one with a message."""
    if layer < n_layers and head < n_heads:
        page.keep("head", (layer, head))
        return layer, head
    last_layer, last_head = page.result("head", (0, 0))
    kept = (min(last_layer, n_layers - 1), min(last_head, n_heads - 1))
    st.error(
        f"{model} has layers 0–{n_layers - 1} and heads 0–{n_heads - 1} in each layer: there is "
        f"no layer {layer}, head {head}. Still showing layer {kept[0]}, head {kept[1]}."
    )
    return kept


def render(page: LessonPage) -> None:
    """Controls, then the stored attention: all heads, the chosen head, and the per-head measures."""
    with page.settings_area():
        model_name, allow_download = controls(page)
    load_and_trace(page, model_name, allow_download)
    real = page.result("real")
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
    layer, head = pick_head(page, int(page.value("layer")), int(page.value("head")), n_layers, n_heads, real["model"])
    head_measures = dict(real["measures"])
    induction = page.result("induction")
    if induction is not None and induction[0] == real["model"]:
        head_measures["induction"] = induction[1]
    # the measures' cache key: the trace's, and whether the induction map is in (deterministic per model)
    measures_key = (*real["key"], "induction" in head_measures)

    every_head(page, real, layer, head, head_measures, measures_key)
    one_head(page, real, layer, head, int(page.value("query", -1)))
    what_each_head_does(page, real, layer, head, head_measures, measures_key)


def build(page: LessonPage, real: dict, builder, key: tuple, *settings, **data):
    """builder(key, *settings, **data): once per server for a shared trace (the default text or the
    induction test, named by `key`; data in `_`-named arguments, not hashed), else in the session."""
    if real.get("shared"):
        return page.shared_figure(builder, key, *settings, **data)
    return builder(key, *settings, **data)


def mosaic_chart(key: tuple, layer: int, head: int, _real: dict):
    n_tokens = _real["weights"].shape[2]
    title = f"Attention of every head ({n_tokens} tokens)"
    return heads.mosaic_figure(_real["thumbs"], (layer, head), title)


def measures_table(key: tuple, _head_measures: dict):
    return measures.measures_frame(_head_measures)


def one_head_charts(key: tuple, layer: int, head: int, query: int, _real: dict) -> tuple:
    """The chosen head's heatmap, its table and its head view (query already in range)."""
    tokens = _real["tokens"]
    matrix = _real["weights"][layer, head].float().numpy()
    shown = min(len(matrix), HEAD_VIEW_TOKENS)
    heatmap = heads.head_heatmap(matrix, tokens, f"Layer {layer}, head {head}: attention weights")
    lines = heads.token_lines_figure(
        matrix[:shown, :shown],
        tokens[:shown],
        query,
        f"Query {query}: {token_label(tokens[query])!s}",
    )
    return heatmap, heads.head_frame(matrix, tokens), lines


def head_roles_charts(key: tuple, layer: int, head: int, _real: dict, _head_measures: dict):
    """The per-head measure maps, the heads that stand out, and the layer's attention by offset."""
    offsets, by_offset = _real["offsets"], _real["by_offset"]
    return (
        measures.head_maps_figure(_head_measures, (layer, head)),
        measures.top_heads(measures.measures_frame(_head_measures)),
        measures.offset_figure(offsets, by_offset[layer], layer, head),
        measures.offset_frame(offsets, by_offset[layer]),
    )


def every_head(page: LessonPage, real: dict, layer: int, head: int, head_measures: dict, measures_key: tuple) -> None:
    n_layers, n_heads, n_tokens, _ = real["weights"].shape
    st.subheader(f"Every head at a glance: {real['model']}, {n_layers} layers × {n_heads} heads")
    st.markdown(
        "Each tile is one head's attention (rows = queries, columns = keys; longer texts "
        f"pooled to {THUMB}×{THUMB}), laid out by layer and head. A bright first column is the "
        "**attention sink**, a bright line just under the diagonal a **previous-token** head. "
        "The outlined tile is the head shown below; hover a tile for its layer and head."
    )
    page.chart(
        build(page, real, mosaic_chart, real["key"], layer, head, _real=real),
        build(page, real, measures_table, measures_key, _head_measures=head_measures),
        "attention-all-heads",
    )


def one_head(page: LessonPage, real: dict, layer: int, head: int, query_in: int) -> None:
    n_tokens = real["weights"].shape[2]
    st.subheader(f"Layer {layer}, head {head}")
    shown = min(n_tokens, HEAD_VIEW_TOKENS)
    query = shown - 1 if query_in < 0 else int(query_in)
    if query >= shown:
        st.warning(
            f"The head view shows tokens 0–{shown - 1}; there is no query token {query_in}. "
            f"Showing the last one, {shown - 1}."
        )
        query = shown - 1
    heatmap, frame, lines = build(page, real, one_head_charts, real["key"], layer, head, query, _real=real)
    left, right = st.columns([3, 2])
    with left:
        st.caption(
            "Row i is where token i looks; each row sums to 1."
            + (" The upper triangle is empty: a causal LM cannot look ahead." if real["causal"] else "")
        )
        page.chart(heatmap, frame, "attention-one-head")
    with right:
        st.caption(
            "The head view (as in BertViz): queries on the left, keys on the right; faint lines "
            "are all weights above 0.02, the coloured lines the chosen query's attention."
            + (f" First {shown} tokens shown." if n_tokens > shown else "")
        )
        page.chart(lines, None, "attention-head-view")


def what_each_head_does(
    page: LessonPage, real: dict, layer: int, head: int, head_measures: dict, measures_key: tuple
) -> None:
    st.subheader("What each head does")
    st.markdown(
        "One number per head, as a layer × head map, so heads with a role stand out: **entropy** "
        "(low = looks at one token), **share on the first token** (the sink, a no-op many heads "
        "of causal LMs use), **previous-token score** (weight on position i−1) and **induction "
        "score**. The induction score is always measured on a sequence of "
        f"{INDUCTION_LENGTH} random tokens repeated twice, not on your text: attention from a "
        "token of the second copy to the token after its first occurrence."
    )
    maps, top, by_offset, by_offset_frame = build(
        page,
        real,
        head_roles_charts,
        measures_key,
        layer,
        head,
        _real=real,
        _head_measures=head_measures,
    )
    page.chart(
        maps,
        build(page, real, measures_table, measures_key, _head_measures=head_measures),
        "attention-head-measures",
    )
    m_left, m_right = st.columns([2, 3])
    with m_left:
        st.markdown("**Heads that stand out** (layer, head, value)")
        for line in top:
            st.markdown(f"- {line}")
    with m_right:
        page.chart(by_offset, by_offset_frame, "attention-by-offset")
