"""Tab "Map": word groups projected from the space onto its first principal components (2D or 3D)."""

import pandas as pd
import streamlit as st

from app.lessons.embedding_spaces import figures
from app.page import LessonPage

TITLE = "Map"
GROUPS = "king queen prince princess; man woman boy girl; france germany italy japan; paris berlin rome tokyo"


def word_map(space, groups_text: str, dims: int):
    """(frame with word, group, x, y[, z], axis titles, words the space lacks)."""
    groups = [part.split() for part in (groups_text or "").split(";") if part.split()]
    if not groups:
        raise ValueError("Type some words, groups separated by ';' (king queen; man woman).")
    rows, missing = [], []
    for number, group in enumerate(groups, start=1):
        name = " ".join(group[:2]) + ("…" if len(group) > 2 else "")
        for word in dict.fromkeys(group):
            spelled = next((w for w in (word, word.lower(), word.capitalize()) if w in space), None)
            (rows.append((spelled, f"{number}: {name}")) if spelled else missing.append(word))
    if len(rows) < dims + 1:
        raise ValueError(
            f"The space holds {len(rows)} of these words: give at least {dims + 1} that it knows"
            + (f" (not in it: {', '.join(missing)})." if missing else ".")
        )
    vectors = space.normed_vectors[[space.index(w) for w, _ in rows]]  # (n, d) unit rows
    coordinates, axes = figures.pca(vectors, dims)
    frame = pd.DataFrame(rows, columns=["word", "group"])
    for axis, column in zip("xyz", coordinates.T):
        frame[axis] = column
    return frame, axes, missing


def render(page: LessonPage) -> None:
    space = page.data
    text = page.widget(st.text_area, "groups", "Word groups (separate groups with ;)", default=GROUPS, height=80)
    dims = page.widget(st.radio, "dims", "Dimensions", [2, 3], default=2, horizontal=True)
    result = page.compute("map", "Projecting the words", word_map, space, text, dims)
    if result is None:
        return
    frame, axes, missing = result
    if missing:
        hints = []
        for word in missing:
            close = space.close_spellings(word, 2) if hasattr(space, "close_spellings") else []
            hints.append(f"{word} (try {', '.join(close)})" if close else word)
        st.caption("Not in this space, left out: " + "; ".join(hints))
    page.chart(
        figures.map_figure(frame, axes, "Unit word vectors, first principal components"),
        frame,
        "map",
    )
    st.caption(
        "PCA of the unit vectors of these words only: distances on the map are approximate; the "
        "axis titles say how much of their spread each component keeps."
    )
