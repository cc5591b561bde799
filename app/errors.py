"""Bad input becomes a message on the page, never a traceback, and earlier results stay on screen.

Lessons use `LessonPage.compute` (app/page.py), which shows the message and keeps the last good result:

    scores = page.compute("scores", "Scoring the sentence", lm.score_tokens, tokens)
"""

from __future__ import annotations

import logging

import streamlit as st

from app.sidebar import current_device, use_cpu
from models.device import free_memory, is_out_of_memory

log = logging.getLogger("nlp_playground")


def show_error(exc: BaseException, what: str = "") -> None:
    prefix = f"{what}: " if what else ""
    if is_out_of_memory(exc):
        free_memory()
        st.error(
            f"{prefix}the GPU ran out of memory. The memory has been freed; try smaller settings, "
            "or run this on the CPU."
        )
        if current_device() != "cpu":
            st.button("Switch to the CPU", on_click=use_cpu, key=f"oom-cpu-{id(exc)}")
    elif isinstance(exc, (ValueError, KeyError, ImportError)):
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        st.error(f"{prefix}{message}")
    else:  # an unexpected failure: say what happened, keep the page alive, log the traceback
        log.exception("unexpected error in %s", what or "page")
        st.error(f"{prefix}something went wrong ({type(exc).__name__}: {str(exc)[:300]}).")


def link_values(key: str) -> list[str]:
    """The URL's values for the widget `key` when this session has not drawn it yet (a link being opened)."""
    if key in st.session_state:
        return []
    return st.query_params.get_all(key)


def refused_link_notice(key: str, label: str, linked: list[str]) -> None:
    """Say so when the link's value for a widget was refused (call it right after drawing the widget).

    Streamlit drops a URL value that a widget cannot take (out of its range, not one of its options) and shows
    the default, silently; a student who opened a shared link would not know. The note stays until the setting
    is changed.
    """
    note_key = f"link-refused:{key}"
    if linked and key not in st.query_params:
        shown = ", ".join(linked)[:80]
        st.session_state[note_key] = (
            f"The link set “{label}” to “{shown}”, which it cannot take here (out of its range or not "
            "one of its choices); the default is used instead.",
            st.session_state.get(key),
        )
    note = st.session_state.get(note_key)
    if note is None:
        return
    if st.session_state.get(key) != note[1]:  # changed since: the note is out of date
        del st.session_state[note_key]
        return
    st.warning(note[0], icon="🔗")
