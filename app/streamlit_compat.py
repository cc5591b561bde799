"""The only place that touches Streamlit internals. Each use says why; tests/kit/test_streamlit_compat.py checks them,
so a Streamlit upgrade that moves one fails there, in one place, rather than somewhere in a lesson.

Sessions (`session_id()`, `session_status(session_id)`): the training kit keeps a server-wide table of the runs
every session holds (to cap them) and must free the runs of sessions that are gone. Streamlit keeps a disconnected
session for a couple of minutes so that a reconnecting tab resumes it, then forgets it; no public call says which.

   `disconnected_sessions()` and `close_session(session_id)` let the kit forget a closed tab's session (its
   session state: results, figures, uploads) after NLP_PLAYGROUND_RELEASE_AFTER_S rather than when Streamlit's
   reconnect window ends, so a class's memory comes back within a minute of it leaving.

1. `is_control_flow(exc)`: `st.rerun()` and `st.stop()` raise exceptions that our "bad input becomes a message"
   handler must let through. Streamlit exports no public base class for them.
2. `presenter_css()`: presenter mode enlarges text for a projector. Streamlit's theme has one font size for the
   whole app (the sidebar too), so the main area is restyled through the `data-testid` attributes of its elements;
   tests/browser/test_browser.py measures the resulting sizes, so a renamed attribute fails there.
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


def _session_manager():
    """(the server's Runtime, its session manager); None for what there is not, or for a manager we do not know."""
    try:
        from streamlit.runtime import Runtime
    except ImportError:  # pragma: no cover
        return None, None
    if not Runtime.exists():
        return None, None
    runtime = Runtime.instance()
    manager = getattr(runtime, "_session_mgr", None)
    if not all(hasattr(manager, name) for name in ("get_session_info", "list_sessions")):
        return runtime, None  # a session manager we do not know: do not guess
    return runtime, manager


def session_status(session_id_: str) -> str | None:
    """'connected'; 'disconnected' while the server keeps a closed tab's session for a reconnect (about two
    minutes); 'gone' once it has forgotten it; None when that cannot be told (no server: AppTest, a script)."""
    runtime, manager = _session_manager()
    if runtime is None:
        return None
    if runtime.is_active_session(session_id_):
        return "connected"
    if manager is None:
        return None  # a session manager we do not know: do not guess
    return "disconnected" if manager.get_session_info(session_id_) is not None else "gone"


def disconnected_sessions() -> list[str] | None:
    """Ids of the sessions the server keeps only for a reconnect (their tab closed or lost its connection); None
    when that cannot be told (no server, or a session manager this adapter does not know)."""
    runtime, manager = _session_manager()
    if manager is None:
        return None
    return [info.session.id for info in manager.list_sessions() if not runtime.is_active_session(info.session.id)]


def close_session(session_id_: str) -> bool:
    """Forget a disconnected session now: Streamlit shuts it down and drops its state, as it would when its
    reconnect window (about two minutes) ends. A tab that reconnects later gets a new session, rebuilt from its URL.
    `Runtime.close_session` must run on the server's event loop, so it is scheduled there. True when scheduled."""
    runtime, manager = _session_manager()
    if manager is None or runtime.is_active_session(session_id_):
        return False
    objects = getattr(runtime, "_async_objs", None)  # None until the server's event loop runs
    loop = getattr(objects, "eventloop", None)
    if loop is None or loop.is_closed():
        return False

    def close_if_still_disconnected() -> None:  # the tab may have come back meanwhile
        if not runtime.is_active_session(session_id_):
            runtime.close_session(session_id_)

    loop.call_soon_threadsafe(close_if_still_disconnected)
    return True


# Sizes the browser tests check at 1280x720: body text and table cells >= 20 px, metric values >= 40 px.
PRESENTER_CSS = """<style>
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li,
[data-testid="stMain"] [data-testid="stCaptionContainer"],
[data-testid="stMain"] label p { font-size: 1.25rem !important; }
[data-testid="stMain"] input, [data-testid="stMain"] textarea,
[data-testid="stMain"] [data-baseweb="select"] div { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stMetricLabel"] p { font-size: 1.25rem !important; }
[data-testid="stMain"] h1 { font-size: 2.4rem !important; padding-top: 0 !important; }
[data-testid="stMain"] h2 { font-size: 2rem !important; }
[data-testid="stMain"] button p { font-size: 1.1rem !important; }
[data-testid="stMain"] [role="tab"] p { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stTable"] :is(th, td, p) { font-size: 1.25rem !important; }
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem !important; }
[data-testid="stPopoverBody"] label p, [data-testid="stPopoverBody"] [data-testid="stMarkdownContainer"] p,
[data-testid="stPopoverBody"] input, [data-testid="stPopoverBody"] textarea,
[data-testid="stPopoverBody"] [data-baseweb="select"] div { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stMetricValue"],
[data-testid="stMain"] [data-testid="stMetricValue"] div,
[data-testid="stMain"] [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMetricValue"] p { font-size: 2.75rem !important; }
</style>"""


def presenter_css() -> str:
    """The stylesheet presenter mode adds to the main area (see the module docstring, point 3)."""
    return PRESENTER_CSS
