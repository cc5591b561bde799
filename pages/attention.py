"""Attention (Lecture 5): every head of a real model, one head step by step, positional encodings, and a
tiny transformer trained live."""

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app import attention_views as views
from app.errors import friendly_errors
from app.lecture import advanced_controls, presets_bar, show_chart
from app.navigation import require_entry_script
from app.resources import load_shared_model, model_picker, shared_corpus_text, shared_model
from app.sidebar import current_device
from app.training import metric_chart, training_panel
from models.attention_probes import attention_for_ids, induction_score, induction_sequence
from models.tiny_transformer import POSITIONAL_SCHEMES

require_entry_script()

P = "at_"  # this page's prefix for widget keys, query parameters and session state
STATE = "at:"  # results (never stored under widget keys)
MAX_TOKENS = 512  # longest text traced (all layers' weights of 512 tokens take ~0.3 GB)
STEP_TOKENS = 16  # longest sentence in the step-through (the numbers must stay readable)
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
TASKS = {
    "reverse": "reverse: A C B | _ _ _ → B C A",
    "copy": "copy: A C B | _ _ _ → A C B",
    "char_lm": "char_lm: next character of Wikipedia",
}
POSITIONAL_TITLES = {
    "none": "none",
    "sinusoidal": "sinusoidal (added)",
    "learned": "learned (added)",
    "rope": "RoPE (rotates q, k)",
    "alibi": "ALiBi (bias on the scores)",
}

st.title("🎯 Attention")
st.markdown(
    "Each token asks a **query**, every token offers a **key** and a **value**: "
    "weights = softmax(Q·Kᵀ/√d), output = weights·V. Every row of weights is a probability "
    "distribution over the tokens a position may look at. Below: all heads of a real model, one "
    "head worked out number by number, how transformers know where a token sits, and a tiny "
    "transformer learning to attend."
)
device = current_device()
tab_real, tab_step, tab_pos, tab_train = st.tabs(
    ["Real model", "One head step by step", "Positional encodings", "Train a tiny transformer"]
)


@st.cache_data(max_entries=8, show_spinner="Measuring induction on repeated random tokens…")
def induction_map(model_name: str, device: str, allow_download: bool) -> np.ndarray:
    """(L, H) induction scores on [BOS] r r for a random token sequence r (seeded)."""
    model, tokenizer = shared_model(model_name, device, allow_download)
    ids = induction_sequence(tokenizer, INDUCTION_LENGTH, seed=0)
    return induction_score(attention_for_ids(model, ids), INDUCTION_LENGTH)


def real_preset(source: str, layer: int, head: int, text: str | None = None) -> dict:
    values = {f"{P}model": "smollm2", f"{P}source": source, f"{P}layer": layer, f"{P}head": head}
    return values | ({f"{P}text": text} if text else {f"{P}query": -1})


def train_preset(task: str, positional: str, causal: bool, steps: int) -> dict:
    return {f"{P}task": task, f"{P}pos": positional, f"{P}causal": causal, f"{P}steps": steps}


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


# ============================================================================ Real model
with tab_real:
    presets_bar(
        P,
        {
            "Lecture demo: previous-token head": real_preset("text", 1, 2, DEFAULT_TEXT),
            "Lecture demo: attention sink": real_preset("text", 20, 3, SINK_TEXT),
            "Lecture demo: induction head": real_preset("random", 18, 6),
        },
    )
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

    model = tokenizer = None
    with friendly_errors("Loading the model"):
        model, tokenizer = load_shared_model(model_name, device, allow_download)
    if model is not None:
        with friendly_errors("Reading the attention"):
            key = (model_name, device, source, text if source == "text" else INDUCTION_LENGTH)
            stored = st.session_state.get(f"{STATE}real")
            if stored is None or stored["key"] != key:
                result = views.real_model_attention(
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
                induction_map(model_name, device, allow_download),
            )

    real = st.session_state.get(f"{STATE}real")
    if real is None:
        st.info("The model's attention appears here once it has loaded.")
    else:
        tokens, weights = real["tokens"], real["weights"]
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
        layer, head = pick_head(int(layer_in), int(head_in), n_layers, n_heads, real["model"])
        measures = dict(real["measures"])
        induction = st.session_state.get(f"{STATE}induction")
        if induction is not None and induction[0] == real["model"]:
            measures["induction"] = induction[1]

        st.subheader(
            f"Every head at a glance: {real['model']}, {n_layers} layers × {n_heads} heads"
        )
        st.markdown(
            "Each tile is one head's attention (rows = queries, columns = keys; longer texts "
            f"pooled to {THUMB}×{THUMB}), laid out by layer and head. A bright first column is the "
            "**attention sink**, a bright line just under the diagonal a **previous-token** head. "
            "The outlined tile is the head shown below; hover a tile for its layer and head."
        )
        show_chart(
            views.mosaic_figure(
                real["thumbs"], (layer, head), f"Attention of every head ({n_tokens} tokens)"
            ),
            views.measures_frame(measures),
            "attention-all-heads",
            P,
        )

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
                views.head_heatmap(
                    matrix, tokens, f"Layer {layer}, head {head}: attention weights"
                ),
                views.head_frame(matrix, tokens),
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
                views.token_lines_figure(
                    matrix[:shown, :shown],
                    tokens[:shown],
                    query,
                    f"Query {query}: {views.token_label(tokens[query])!s}",
                ),
                None,
                "attention-head-view",
                P,
            )

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
            views.head_maps_figure(measures, (layer, head)),
            views.measures_frame(measures),
            "attention-head-measures",
            P,
        )
        m_left, m_right = st.columns([2, 3])
        with m_left:
            st.markdown("**Heads that stand out** (layer, head, value)")
            for line in views.top_heads(views.measures_frame(measures)):
                st.markdown(f"- {line}")
        with m_right:
            offsets, by_offset = real["offsets"], real["by_offset"]
            show_chart(
                views.offset_figure(offsets, by_offset[layer], layer, head),
                views.offset_frame(offsets, by_offset[layer]),
                "attention-by-offset",
                P,
            )


# ============================================================================ One head step by step
@st.cache_data(max_entries=4, show_spinner=False)
def entropy_frame(n_keys: int) -> pd.DataFrame:
    return views.entropy_against_dim([2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], n_keys)


with tab_step:
    st.markdown(
        "One head of the model chosen on the *Real model* tab, worked out with its own weights: "
        "the layer's input (after its layer norm) times the head's q, k, v projections, RoPE applied "
        "as the model does, then every step of attention. Change the toggles to see what each "
        "ingredient does."
    )
    s1, s2, s3 = st.columns([3, 2, 2])
    step_text = s1.text_input(
        f"A short sentence (up to {STEP_TOKENS} tokens)",
        "The cat sat on the mat",
        key=f"{P}steptext",
        bind="query-params",
    )
    row_in = s1.number_input(
        "Query token worked out below (−1 = last)",
        -1,
        STEP_TOKENS - 1,
        -1,
        key=f"{P}steprow",
        bind="query-params",
    )
    use_mask = s2.toggle("Causal mask", True, key=f"{P}mask", bind="query-params")
    use_scale = s2.toggle("Scale the scores by 1/√d", True, key=f"{P}scale", bind="query-params")
    temperature = s3.slider(
        "Temperature (divides the scores)", 0.1, 5.0, 1.0, 0.1, key=f"{P}temp", bind="query-params"
    )
    if model is not None:
        with friendly_errors("Stepping through the head"):
            if not step_text.strip():
                raise ValueError("Type a short sentence to step through.")
            ids = list(tokenizer(step_text)["input_ids"])
            if len(ids) > STEP_TOKENS:
                st.warning(
                    f"The sentence has {len(ids)} tokens; the step-through uses the first "
                    f"{STEP_TOKENS} so that the numbers stay readable."
                )
                ids = ids[:STEP_TOKENS]
            n_layers = getattr(model.config, "num_hidden_layers", 1)
            n_heads = getattr(model.config, "num_attention_heads", 1)
            s_layer, s_head = int(layer_in), int(head_in)
            if s_layer >= n_layers or s_head >= n_heads:  # the Real model tab says why
                last_layer, last_head = st.session_state.get(f"{STATE}head", (0, 0))
                s_layer, s_head = min(last_layer, n_layers - 1), min(last_head, n_heads - 1)
            key = (model_name, device, tuple(ids), s_layer, s_head)
            stored = st.session_state.get(f"{STATE}step")
            if stored is None or stored["key"] != key:
                qkv = views.real_head_qkv(model, ids, s_layer, s_head)
                st.session_state[f"{STATE}step"] = {
                    "key": key,
                    "tokens": views.readable(tokenizer, ids),
                    "qkv": qkv,
                }

    step = st.session_state.get(f"{STATE}step")
    if step is not None:
        qkv, step_tokens = step["qkv"], step["tokens"]
        _, _, _, s_layer, s_head = step["key"]
        steps = views.run_steps(qkv, use_mask, use_scale, temperature)
        d = qkv["q"].shape[-1]
        factor = (qkv["scale"] if use_scale else 1.0) / temperature
        st.markdown(
            f"**{step['key'][0]}, layer {s_layer}, head {s_head}**: d = {d}, "
            f"{len(step_tokens)} tokens"
            + (", RoPE already applied to Q and K" if qkv["rope"] else "")
            + f". The model itself uses {'a causal mask' if qkv['model_causal'] else 'no mask'}, "
            f"scale 1/√{d} = {qkv['scale']:.4f} and temperature 1."
        )
        show_chart(
            views.qkv_figure(
                qkv["q"].numpy(),
                qkv["k"].numpy(),
                qkv["v"].numpy(),
                steps["output"].numpy(),
                step_tokens,
            ),
            None,
            "attention-step-qkv",
            P,
        )
        show_chart(
            views.matrix_figure(views.step_panels(steps, factor), step_tokens),
            None,
            "attention-step-matrices",
            P,
        )
        n_step = len(step_tokens)
        row = n_step - 1 if row_in < 0 or row_in >= n_step else int(row_in)
        if row_in >= n_step:
            st.caption(f"The sentence has tokens 0–{n_step - 1}; showing the last one.")
        r_left, r_right = st.columns([3, 2])
        with r_left:
            st.markdown(f"**Worked row: query {row} ({views.token_label(step_tokens[row])})**")
            st.dataframe(
                views.worked_row(steps, step_tokens, row), hide_index=True, width="stretch"
            )
        with r_right:
            st.metric(
                "Mean entropy of the rows",
                f"{views.row_entropy(steps['weights']):.3f} nats",
                help="0 = every query looks at one key only",
            )
            same = use_mask == qkv["model_causal"] and use_scale and abs(temperature - 1.0) < 1e-9
            if same:
                difference = float((steps["weights"] - qkv["model_weights"]).abs().max())
                st.metric(
                    "Largest difference from the model's own weights",
                    f"{difference:.1e}",
                    help="These settings are the model's: the step-through reproduces it.",
                )
            else:
                st.caption(
                    "These settings differ from the model's own, so its weights differ too. "
                    "Without the causal mask later tokens leak in; without the scaling or with a "
                    "low temperature the rows harden towards a single key."
                )
        st.markdown(
            "**Why divide by √d?** For random q, k with unit-variance entries, q·k has variance d, "
            "so without the scaling the scores grow with the head dimension, the softmax saturates "
            "onto one key and the entropy collapses (and its gradients vanish). Computed here on "
            "random vectors, 32 keys; the dashed line is this head's d."
        )
        frame = entropy_frame(32)
        show_chart(views.entropy_dim_figure(frame, 32, d), frame, "attention-entropy-vs-d", P)


# ============================================================================ Positional encodings
with tab_pos:
    st.markdown(
        "Attention alone is **permutation-equivariant**: shuffle the tokens and the outputs shuffle "
        "the same way, so the model cannot tell *the dog bit the man* from *the man bit the dog*. "
        "Positional encodings break the symmetry: added to the embeddings (sinusoidal, learned), "
        "rotating q and k (RoPE), or biasing the scores (ALiBi)."
    )
    p1, p2, p3, p4 = st.columns(4)
    n_positions = p1.slider("Positions", 8, 256, 64, 8, key=f"{P}npos", bind="query-params")
    dim = p2.slider("Dimension d", 8, 256, 64, 8, key=f"{P}dim", bind="query-params")
    base = p3.select_slider(
        "Base", [100, 1000, 10000, 100000], 10000, key=f"{P}base", bind="query-params"
    )
    alibi_heads = p4.slider("ALiBi heads", 1, 16, 8, key=f"{P}aheads", bind="query-params")

    charts = views.positional_charts(n_positions, dim, float(base), alibi_heads)

    def chart(name: str) -> None:
        show_chart(*charts[name], name, P)

    st.subheader("Sinusoidal (Vaswani et al. 2017)")
    sin_left, sin_right = st.columns(2)
    with sin_left:
        st.caption(
            "Each position gets a fixed vector of sines and cosines; the left columns oscillate "
            "fast, the right ones slowly, like the digits of a clock."
        )
        chart("positional-sinusoidal")
    with sin_right:
        st.caption(
            "Nearby positions have similar vectors, distant ones less so: the dot product carries "
            "relative distance."
        )
        chart("positional-similarity")

    st.subheader("RoPE (Su et al. 2021)")
    st.caption(
        "RoPE splits q and k into pairs of dimensions and rotates each pair by an angle "
        "proportional to the position: the first pair spins fast, the last barely moves. Rotating "
        "both q and k makes q·k depend only on their distance. Below: where the vector (1, 0) of "
        "three pairs lands at positions 0, 1, 2, … (colour = position)."
    )
    chart("positional-rope-rotation")
    rope_left, rope_right = st.columns([3, 2])
    with rope_left:
        chart("positional-rope-decay")
    rope_right.markdown(
        "**Long-term decay.** The same q and k (all ones) score lower the further apart they "
        "sit, because the rotated pairs fall out of phase: RoPE quietly favours nearby tokens. "
        "A larger base slows the rotations and stretches the decay to longer distances."
    )

    st.subheader("ALiBi (Press et al. 2021)")
    st.caption(
        "No position vectors at all: each head adds −slope·|i − j| to its scores, a **recency "
        "bias**: steep heads look locally, gentle ones far. The slopes (in the titles) form a "
        "geometric sequence; one colour scale for all heads. "
        f"With a causal mask only the lower triangle is used. First {min(n_positions, 24)} "
        "positions shown."
    )
    a_left, a_right = st.columns([3, 1])
    with a_left:
        chart("positional-alibi")
    with a_right:
        chart("positional-alibi-slopes")


# ============================================================================ Train a tiny transformer
def render_training(run) -> None:
    trainer = run.trainer
    task = trainer.task
    left, right = st.columns(2)
    with left:
        show_chart(
            metric_chart(run, "loss", P, "Training loss (target positions)"),
            run.history_frame(),
            "tiny-transformer-loss",
            P,
        )
    with right:
        fig = metric_chart(run, "accuracy", P, "Accuracy on the target positions")
        if task.name != "char_lm":
            fig.add_hline(
                y=1 / task.n_symbols, line_dash="dot", annotation_text="chance (1 / symbols)"
            )
        show_chart(fig, None, "tiny-transformer-accuracy", P)
    ids, maps, predicted = views.tiny_example(trainer)
    labels = [views.token_label(task.itos[i]) for i in ids]
    if task.name == "char_lm":
        title = "Attention on a fixed window of Wikipedia (row = query character)"
    else:
        target = task.get_batch(1, torch.Generator().manual_seed(trainer.seed))[1][0]
        blanks = slice(task.length + 1, None)
        right_count = sum(p == t for p, t in zip(predicted[blanks], target[blanks].tolist()))
        st.markdown(
            f"Example: `{task.decode(ids[: task.length + 1])}` → target "
            f"`{task.decode(target[blanks])}`, model `{task.decode(predicted[blanks])}` "
            f"({right_count}/{task.length} right)"
        )
        title = "Attention on this example (row = query; the blanks _ must fetch their symbol)"
    show_chart(
        views.tiny_attention_figure(maps, labels, title), None, "tiny-transformer-attention", P
    )
    if task.name == "char_lm":
        if run.running:
            st.caption("Pause (or let the run finish) to test the model on generation.")
        else:
            report_key = (run.run_id, run.steps_done)
            stored = st.session_state.get(f"{STATE}report")
            if stored is None or stored[0] != report_key:
                stored = (report_key, trainer.future_peeking_report("The ", 200))
                st.session_state[f"{STATE}report"] = stored
            report = stored[1]
            c1, c2, c3 = st.columns(3)
            c1.metric("Teacher-forced loss", f"{report['teacher_forced_loss']:.3f}")
            c2.metric(
                "Autoregressive loss",
                f"{report['autoregressive_loss']:.3f}",
                help="Each position sees only the characters before it, as in generation",
            )
            c3.metric("Uniform guess", f"{report['uniform_loss']:.3f}")
            forced, honest = report["teacher_forced_loss"], report["autoregressive_loss"]
            if honest > 1.1 * forced:
                st.warning(
                    f"When it may only see the past, the loss rises from {forced:.2f} to "
                    f"{honest:.2f}: the model learned to read the next character instead of "
                    "predicting it, and its samples show it."
                )
            elif trainer.config.causal:
                st.caption(
                    "The two losses agree: with the causal mask every prediction already used "
                    "only the characters before it."
                )
            else:
                st.caption(
                    "No mask, but the two losses are still close: the model has not yet learned "
                    "to read ahead. Train longer and watch them part."
                )
            st.markdown("**A sample, generated one character at a time:**")
            st.code(report["sample"], language=None, wrap_lines=True)


with tab_train:
    presets_bar(
        P,
        {
            "Lecture demo: reverse without positions": train_preset("reverse", "none", False, 400),
            "Lecture demo: reverse with sinusoidal": train_preset(
                "reverse", "sinusoidal", False, 400
            ),
            "Lecture demo: LM that reads the future": train_preset(
                "char_lm", "sinusoidal", False, 300
            ),
            "Lecture demo: honest LM": train_preset("char_lm", "sinusoidal", True, 300),
        },
    )
    st.markdown(
        "A 2-layer transformer learns a toy task live. **Positions:** with no positional encoding "
        "and no mask, the blanks of *reverse* all look alike, so it stays near chance; any real "
        "position signal fixes that. A **causal mask leaks order** by itself (a token can count "
        "how many came before it), so a causal model without positions learns part of the task: "
        "try it. **ALiBi** is only a recency bias, the same on both sides without a mask, so it "
        "cannot find the mirror position. **Causality:** without the mask a character LM simply "
        "reads the next character; its training loss dives, but when it must generate, the future "
        "is not there. Pin a run, change one setting, and compare."
    )
    t1, t2, t3, t4 = st.columns(4)
    task_name = t1.selectbox(
        "Task", list(TASKS), format_func=TASKS.get, key=f"{P}task", bind="query-params"
    )
    positional = t2.selectbox(
        "Positional encoding",
        list(POSITIONAL_SCHEMES),
        index=1,
        format_func=POSITIONAL_TITLES.get,
        key=f"{P}pos",
        bind="query-params",
    )
    causal = t3.toggle("Causal mask", False, key=f"{P}causal", bind="query-params")
    total_steps = t4.number_input(
        "Training steps", 10, 20_000, 400, 10, key=f"{P}steps", bind="query-params"
    )
    with advanced_controls("Model and task settings"):
        a1, a2, a3, a4, a5 = st.columns(5)
        d_model = a1.select_slider(
            "d_model", [16, 32, 48, 64, 96, 128], 64, key=f"{P}dmodel", bind="query-params"
        )
        n_heads = a2.slider("Heads", 1, 8, 4, key=f"{P}nheads", bind="query-params")
        n_layers = a3.slider("Layers", 1, 4, 2, key=f"{P}nlayers", bind="query-params")
        lr = a4.select_slider(
            "Learning rate", [3e-4, 1e-3, 3e-3, 1e-2], 3e-3, key=f"{P}lr", bind="query-params"
        )
        batch = a5.slider("Batch size", 8, 128, 32, 8, key=f"{P}batch", bind="query-params")
        b1, b2, b3, b4 = st.columns(4)
        length = b1.slider("Symbols per sequence", 2, 16, 8, key=f"{P}length", bind="query-params")
        n_symbols = b2.slider("Alphabet size", 4, 26, 10, key=f"{P}nsymbols", bind="query-params")
        block = b3.slider(
            "Characters per window (char_lm)", 16, 128, 64, 16, key=f"{P}block", bind="query-params"
        )
        seed = b4.number_input("Seed", 0, 10_000, 0, key=f"{P}seed", bind="query-params")
    train_settings = {
        "task": task_name,
        "positional": positional,
        "causal": bool(causal),
        "steps": int(total_steps),
        "d_model": int(d_model),
        "n_heads": int(n_heads),
        "n_layers": int(n_layers),
        "lr": float(lr),
        "batch": int(batch),
        "length": int(length),
        "n_symbols": int(n_symbols),
        "block": int(block),
        "seed": int(seed),
    }
    training_panel(
        P,
        lambda: views.build_trainer(train_settings, device, lambda: shared_corpus_text("wiki")),
        int(total_steps),
        train_settings,
        render_training,
        device=device,
        label=f"{task_name} · {positional} · {'causal' if causal else 'no mask'}",
    )
