"""Tab "The prompt as the model reads it": one eval input's whole prompt as tokens, and each label word's
log-probability at the answer slot, token by token."""

import math

import pandas as pd
import streamlit as st

from app.lessons.prompting import work
from app.page import LessonPage
from models.next_token.sampling import token_pieces
from models.prompting.few_shot import build_prompts
from models.prompting.scoring import label_token_logprobs

TITLE = "The prompt as the model reads it"
CHIP_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
    | {c: f"&#{ord(c)};" for c in "\\`*_$~[]()#+-!|{}:"}
)
COLORS = {"demo": "#e9f5f3", "query": "#fde2c8", "label": "#d8e2ff"}


def chips(pieces: list[str], kind: str) -> str:
    out = []
    for piece in pieces:
        shown = piece.translate(CHIP_ESCAPES).replace(" ", "·").replace("\n", "↵") or "∅"
        out.append(
            f"<span style='background:{COLORS[kind]};padding:1px 3px;margin:1px;border-radius:3px;"
            f"font-family:monospace;display:inline-block'>{shown}</span>"
        )
    return "".join(out)


def read_prompt(setup: work.Setup, index: int) -> dict:
    """The prompt of eval input `index` and each label word's per-token log-probabilities after it."""
    text, gold = setup.eval_pairs[index]
    _, _, prefix_ids, query_ids, label_ids = build_prompts(setup.tokenizer, setup.train_pairs, [text], setup.config)
    context = prefix_ids + query_ids[0]
    rows = []
    for word, ids in zip(setup.config.verbalizers, label_ids):
        per_token = label_token_logprobs(setup.model, context, ids)
        rows.append({"word": word, "ids": ids, "per_token": per_token, "logprob": sum(per_token)})
    return {"prefix": prefix_ids, "query": query_ids[0], "rows": rows, "text": text, "gold": gold}


def render(page: LessonPage) -> None:
    setup: work.Setup = page.data
    with page.settings_area():
        page.widget(st.number_input, "example", f"Eval input (1 to {len(setup.eval_pairs)})", 1, 500, default=1)
    index = int(page.value("example", 1)) - 1
    if index >= len(setup.eval_pairs):
        st.info(f"There are {len(setup.eval_pairs)} eval inputs: showing the last one.")
        index = len(setup.eval_pairs) - 1
    read = page.compute("prompt", "Reading the prompt", read_prompt, setup, index)
    if read is None:
        return
    rows, tok = read["rows"], setup.tokenizer
    total = sum(math.exp(r["logprob"]) for r in rows)
    longest = max(rows, key=lambda r: len(r["ids"]))
    c1, c2, c3 = st.columns(3)
    c1.metric("Prompt tokens", f"{len(read['prefix']) + len(read['query']):,}", help="demonstrations + this input")
    c2.metric(
        f"Tokens in “{longest['word']}”",
        f"{len(longest['ids'])}",
        help="The label word's tokens after the answer slot (with its leading space); its score sums them all.",
    )
    best = max(rows, key=lambda r: r["logprob"])
    c3.metric("The model's answer", best["word"], help=f"Right answer: {setup.config.verbalizers[read['gold']]}")
    st.markdown(
        chips(token_pieces(tok, read["prefix"]), "demo")
        + chips(token_pieces(tok, read["query"]), "query")
        + " ⟶ "
        + " | ".join(chips(token_pieces(tok, r["ids"]), "label") for r in rows),
        unsafe_allow_html=True,
    )
    st.caption(
        "Green: the demonstrations (the same for every input, their KV cache reused); orange: this input up to the "
        "answer slot; blue: the label words that compete for the slot. · is a space, ↵ a newline."
    )
    table = pd.DataFrame(
        {
            "label word": [r["word"] for r in rows],
            "tokens": [" + ".join(repr(p) for p in token_pieces(tok, r["ids"])) for r in rows],
            "log p per token": [", ".join(f"{v:.3f}" for v in r["per_token"]) for r in rows],
            "log p(word), the sum": [round(r["logprob"], 4) for r in rows],
            "p renormalised over the label words": [math.exp(r["logprob"]) / total for r in rows],
        }
    )
    page.table(table, hide_index=True, width="stretch")
    st.caption(
        "A word of several tokens is scored as log p(w₁ | prompt) + log p(w₂ | prompt, w₁) + …: the full "
        "sequence probability, not its first token's (which would favour words that start with a common piece)."
    )
