"""The only place that touches Streamlit internals. Each use says why; tests/test_streamlit_compat.py checks them,
so a Streamlit upgrade that moves one fails there, in one place, rather than somewhere in a lesson.

Sessions (`session_id()`, `session_status(session_id)`): the training kit keeps a server-wide table of the runs
every session holds (to cap them) and must free the runs of sessions that are gone. Streamlit keeps a disconnected
session for a couple of minutes so that a reconnecting tab resumes it, then forgets it; no public call says which.

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


def session_id() -> str | None:
    """The id of the session running this script, or None outside a Streamlit script run."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # pragma: no cover
        return None
    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else ctx.session_id


def session_status(session_id_: str) -> str | None:
    """'connected'; 'disconnected' while the server keeps a closed tab's session for a reconnect (about two
    minutes); 'gone' once it has forgotten it; None when that cannot be told (no server: AppTest, a script)."""
    try:
        from streamlit.runtime import Runtime
    except ImportError:  # pragma: no cover
        return None
    if not Runtime.exists():
        return None
    runtime = Runtime.instance()
    if runtime.is_active_session(session_id_):
        return "connected"
    manager = getattr(runtime, "_session_mgr", None)
    if manager is None or not hasattr(manager, "get_session_info"):
        return None  # a session manager we do not know: do not guess
    return "disconnected" if manager.get_session_info(session_id_) is not None else "gone"


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
