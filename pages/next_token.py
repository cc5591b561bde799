"""Next-token explorer: a real causal LM's next-token distribution, the sampling filters, token-by-token sampling."""

import math

import pandas as pd
import streamlit as st

from app.charts import token_probability_bars
from app.errors import friendly_errors
from app.lecture import advanced_controls, pin, pinned, presets_bar, short_settings, show_chart
from app.navigation import require_entry_script
from app.resources import load_shared_model, model_picker
from app.sidebar import current_device
from models.registry import context_length, model_kind
from models.sampling import (
    SamplingConfig,
    encode_prompt,
    filter_logits,
    next_token,
    sample_continuation,
    token_pieces,
)

require_entry_script()

P = "nt_"  # this page's prefix for widget keys, query parameters and session state
STATE = "nt:"  # results (never stored under widget keys)
CPU_TOKEN_LIMIT = 1024  # longest prompt + continuation on the CPU (the model itself reads 8,192)
# token chips are HTML inside markdown: escape HTML, and markdown's own syntax ($ starts LaTeX, * and _
# emphasis, ` code) as character references, in one pass so that no entity is escaped twice
CHIP_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
    | {c: f"&#{ord(c)};" for c in "\\`*_$~[]()#+-!|{}:"}
)

st.title("🔮 Next-token explorer")
st.markdown(
    "A language model reads the prompt and gives **a probability for every token in its vocabulary** to come "
    "next. Generation is just repeated sampling from that distribution, after reshaping it: **temperature** "
    "divides the logits (sharper below 1, flatter above), **top-k** keeps the k likeliest tokens, **top-p** "
    "keeps the smallest set whose probability adds up to p."
)
presets_bar(
    P,
    {
        "Lecture demo: greedy-ish": {f"{P}temp": 0.1, f"{P}topk": 0, f"{P}topp": 1.0},
        "Lecture demo: creative": {f"{P}temp": 1.5, f"{P}topk": 0, f"{P}topp": 1.0},
        "Lecture demo: nucleus 0.9": {f"{P}temp": 1.0, f"{P}topk": 0, f"{P}topp": 0.9},
        "Lecture demo: top-k 5": {f"{P}temp": 1.0, f"{P}topk": 5, f"{P}topp": 1.0},
    },
)

left, right = st.columns([2, 3])
with left:
    model_name, allow_download = model_picker(P, kinds=("causal",))
    prompt = st.text_area(
        "Prompt",
        "The capital of France is",
        key=f"{P}prompt",
        bind="query-params",
        height=100,
        max_chars=20_000,
    )
    chat = st.toggle(
        "Wrap in the chat template (instruct models)", key=f"{P}chat", bind="query-params"
    )
    temperature = st.slider(
        "Temperature", 0.05, 2.0, 1.0, 0.05, key=f"{P}temp", bind="query-params"
    )
    top_k = st.slider("Top-k (0 = off)", 0, 200, 0, 1, key=f"{P}topk", bind="query-params")
    top_p = st.slider("Top-p (1 = off)", 0.05, 1.0, 1.0, 0.01, key=f"{P}topp", bind="query-params")
    with advanced_controls():
        n_bars = st.slider(
            "Tokens shown in the chart", 5, 60, 20, key=f"{P}bars", bind="query-params"
        )
        seed = st.number_input(
            "Sampling seed", 0, 1_000_000, 0, key=f"{P}seed", bind="query-params"
        )

device = current_device()
config = SamplingConfig(temperature=temperature, top_k=top_k, top_p=top_p, seed=int(seed))
model = tokenizer = None
with friendly_errors("Loading the model"):
    model, tokenizer = load_shared_model(model_name, device, allow_download)
    if model_kind(model) != "causal":
        model = None
        raise ValueError(
            f"{model_name} is an encoder; next-token prediction needs a causal language model."
        )

# the sampled continuation belongs to one (model, prompt) pair; a new prompt starts afresh
source = (model_name, device, prompt, chat)
if st.session_state.get(f"{STATE}source") != source:
    st.session_state[f"{STATE}source"] = source
    st.session_state[f"{STATE}continuation"] = []

with right:
    buttons = st.columns(4)
    sample_1 = buttons[0].button("Sample 1", type="primary", width="stretch")
    sample_10 = buttons[1].button("Sample 10", width="stretch")
    undo = buttons[2].button("Undo", width="stretch")
    clear = buttons[3].button("Clear", width="stretch")

if model is not None:
    with friendly_errors("Running the model"):
        prompt_ids = encode_prompt(tokenizer, prompt, chat)
        # eager attention on long inputs is slow on a CPU: cap the prompt there, and say so
        max_context = context_length(model, tokenizer)
        if device == "cpu":
            max_context = min(max_context, CPU_TOKEN_LIMIT)
        continuation = st.session_state[f"{STATE}continuation"]
        if undo and continuation:
            continuation.pop()
        if clear:
            continuation.clear()
        n_new = 10 if sample_10 else 1 if sample_1 else 0
        if n_new:
            ids = prompt_ids + [c["id"] for c in continuation]
            for tok in sample_continuation(
                model,
                ids,
                config,
                n_new,
                max_context,
                tokenizer.eos_token_id,
                first_step=len(continuation),
            ):
                continuation.append(
                    {
                        "id": tok.token_id,
                        "piece": token_pieces(tokenizer, [tok.token_id])[0],
                        "p_final": tok.p_final,
                        "p_raw": tok.p_model,
                        "candidates": tok.n_candidates,
                    }
                )
        config.validate()
        ids = prompt_ids + [c["id"] for c in continuation]
        # moving a sampling slider only re-filters the logits: run the model only when the input changed
        forward_key = (model_name, device, tuple(ids))
        stored = st.session_state.get(f"{STATE}result")
        if stored is not None and st.session_state.get(f"{STATE}forward_key") == forward_key:
            result = stored[0]
        else:
            result = next_token(model, tokenizer, ids, max_context)
            st.session_state[f"{STATE}forward_key"] = forward_key
        st.session_state[f"{STATE}result"] = (result, len(prompt_ids), config, device, tokenizer)

stored = st.session_state.get(f"{STATE}result")
with right:
    if stored is None:
        st.info("The model's answer appears here once it has loaded.")
    else:
        # drawn from the last good result, so a failed input leaves the earlier answer on screen
        result, n_prompt, used_config, used_device, used_tokenizer = stored
        dist = filter_logits(result.logits, used_config)
        top = dist.probs_tempered.topk(min(n_bars, dist.probs.numel()))
        ids = top.indices.tolist()
        status = [
            "kept"
            if dist.kept_top_p[i]
            else "cut by top-k"
            if not dist.kept_top_k[i]
            else "cut by top-p"
            for i in ids
        ]
        frame = pd.DataFrame(
            {
                "rank": range(1, len(ids) + 1),
                "token_id": ids,
                "token": token_pieces(used_tokenizer, ids),
                "p_raw": dist.probs[ids].numpy(),
                "p_tempered": dist.probs_tempered[ids].numpy(),
                "p_final": dist.final[ids].numpy(),
                "status": status,
            }
        )
        pins = [(p["label"], p["payload"]) for p in pinned(P)]
        show_chart(token_probability_bars(frame, pins), frame, "next-token-probabilities", P)
        kept = int(dist.kept_top_p.sum())
        entropy = float(-(dist.probs * dist.probs.clamp_min(1e-30).log()).sum())
        entropy_t = float(-(dist.probs_tempered * dist.probs_tempered.clamp_min(1e-30).log()).sum())
        c1, c2 = st.columns(2)
        c3, c4 = st.columns(2)
        c1.metric(
            "Tokens that can be sampled",
            f"{kept:,}",
            help=f"of {dist.probs.numel():,} in the vocabulary",
        )
        c2.metric(
            "Entropy, nats",
            f"{entropy:.2f} → {entropy_t:.2f}",
            help="Entropy of the model's distribution at T=1 → after the temperature",
        )
        c3.metric("Forward pass", f"{result.seconds * 1000:.0f} ms", help=f"on {used_device}")
        if result.loss is not None:
            c4.metric(
                "Text perplexity",
                f"{math.exp(result.loss):.1f}",
                help="exp(mean next-token cross-entropy) of the prompt and continuation",
            )
        if st.button("📌 Pin this distribution to compare"):
            pin(
                P,
                short_settings(
                    {"T": used_config.temperature, "k": used_config.top_k, "p": used_config.top_p},
                    "",
                ),
                frame[["token", "p_final"]],
            )
            st.rerun()

        st.subheader("Tokens")
        chips = []
        for i, piece in enumerate(result.pieces):
            style = "background:#e9f5f3" if i < n_prompt else "background:#fde2c8"
            shown = piece.translate(CHIP_ESCAPES).replace(" ", "·").replace("\n", "↵") or "∅"
            chips.append(
                f"<span title='id {result.token_ids[i]}' style='{style};padding:2px 4px;"
                f"margin:1px;border-radius:4px;font-family:monospace;display:inline-block'>{shown}</span>"
            )
        st.markdown("".join(chips), unsafe_allow_html=True)
        st.caption(
            f"{n_prompt} prompt tokens (green), {len(result.pieces) - n_prompt} sampled (orange); "
            "hover a token for its id; · marks a space."
        )
        continuation = st.session_state.get(f"{STATE}continuation", [])
        if continuation:
            st.dataframe(
                pd.DataFrame(continuation).rename(
                    columns={
                        "id": "token id",
                        "piece": "token",
                        "p_final": "p (filtered)",
                        "p_raw": "p (model)",
                    }
                ),
                hide_index=True,
                width="stretch",
            )
        with st.expander("Token ids"):
            st.dataframe(
                pd.DataFrame(
                    {
                        "position": range(len(result.token_ids)),
                        "token id": result.token_ids,
                        "token": result.pieces,
                    }
                ),
                hide_index=True,
                width="stretch",
            )
