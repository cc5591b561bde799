"""Tab "Sample token by token": draw tokens from the filtered distribution, see each token and its
probability, undo or clear."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.lessons.next_token.forward import request
from app.page import LessonPage

TITLE = "Sample token by token"
# token chips are HTML inside markdown: escape HTML, and markdown's own syntax ($ starts LaTeX, * and _
# emphasis, ` code) as character references, in one pass so that no entity is escaped twice
CHIP_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
    | {c: f"&#{ord(c)};" for c in "\\`*_$~[]()#+-!|{}:"}
)


def token_chips(pieces: list[str], token_ids: list[int], n_prompt: int) -> str:
    chips = []
    for i, piece in enumerate(pieces):
        style = "background:#e9f5f3" if i < n_prompt else "background:#fde2c8"
        shown = piece.translate(CHIP_ESCAPES).replace(" ", "·").replace("\n", "↵") or "∅"
        chips.append(
            f"<span title='id {token_ids[i]}' style='{style};padding:2px 4px;"
            f"margin:1px;border-radius:4px;font-family:monospace;display:inline-block'>{shown}</span>"
        )
    return "".join(chips)


def render(page: LessonPage) -> None:
    prediction = page.data
    st.markdown(
        "Each click draws from the distribution on the first tab (after temperature, top-k and top-p) "
        "with the sampling seed; the drawn token is appended and the model runs again."
    )
    buttons = st.columns(4)
    for col, (label, action) in zip(
        buttons, [("Sample 1", 1), ("Sample 10", 10), ("Undo", "undo"), ("Clear", "clear")]
    ):
        col.button(
            label,
            key=page.state_key(f"sample-{action}"),
            type="primary" if action == 1 else "secondary",
            width="stretch",
            on_click=request,
            args=(page, action),
        )
    result, n_prompt = prediction.result, prediction.n_prompt
    st.markdown(token_chips(result.pieces, result.token_ids, n_prompt), unsafe_allow_html=True)
    st.caption(
        f"{n_prompt} prompt tokens (green), {len(result.pieces) - n_prompt} sampled (orange); "
        "hover a token for its id; · marks a space."
    )
    continuation = page.result("continuation", [])
    if continuation:
        page.table(
            pd.DataFrame(continuation).rename(
                columns={
                    "id": "token id",
                    "piece": "token",
                    "p_final": "p (filtered)",
                    "p_raw": "p (model)",
                    "candidates": "tokens it was drawn from",
                }
            ),
            hide_index=True,
            width="stretch",
        )
    with st.expander("Token ids"):
        page.table(
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
