"""The only place that touches Streamlit internals. Each use says why; tests/test_streamlit_compat.py checks them,
so a Streamlit upgrade that moves one fails there, in one place, rather than somewhere in a lesson.

1. `is_control_flow(exc)`: `st.rerun()` and `st.stop()` raise exceptions that our "bad input becomes a message"
   handler must let through. Streamlit exports no public base class for them.
2. `leave_automatic_pages_mode()`: the design keeps page files in `pages/`. On a server's very first session a
   deep link (/ngrams) makes Streamlit run that file in its old automatic pages mode, before `streamlit_app.py` has
   ever called `st.navigation`; the flag that mode sets has no public switch.
"""

from __future__ import annotations

try:  # Streamlit's control-flow exceptions (internal module, stable since 1.27)
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

    CONTROL_FLOW: tuple[type[BaseException], ...] = (RerunException, StopException)
except ImportError:  # pragma: no cover - an older or newer layout: fall back to the names
    CONTROL_FLOW = ()


def is_control_flow(exc: BaseException) -> bool:
    """True for the exceptions behind st.rerun() and st.stop(), which must propagate."""
    if CONTROL_FLOW:
        return isinstance(exc, CONTROL_FLOW)
    return type(exc).__name__ in ("RerunException", "StopException")


def leave_automatic_pages_mode() -> bool:
    """Switch off Streamlit's automatic `pages/` mode if it is on; True when it was on."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the old mode
        return False
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        return True
    return False
