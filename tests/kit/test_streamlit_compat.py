"""The one adapter over Streamlit internals (app/streamlit_compat.py) still matches this Streamlit."""

import pytest
from streamlit.testing.v1 import AppTest

from app.streamlit_compat import CONTROL_FLOW, is_control_flow


def test_control_flow_exceptions_are_found_by_class():
    assert len(CONTROL_FLOW) == 2, "Streamlit moved its rerun/stop exceptions: update the adapter"
    assert not is_control_flow(ValueError("x"))


def test_stop_is_recognised():
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    assert is_control_flow(StopException())


@pytest.mark.parametrize("call", ["st.rerun()"])
def test_rerun_is_recognised(call):
    script = f"""
import streamlit as st
from app.streamlit_compat import is_control_flow
if "seen" not in st.session_state:
    st.session_state.seen = True
    try:
        {call}
    except BaseException as exc:
        st.session_state.recognised = is_control_flow(exc)
        raise
"""
    at = AppTest.from_string(script).run()
    assert not at.exception
    assert at.session_state["recognised"] is True


def test_closing_a_disconnected_session_still_has_its_hooks():
    """close_session schedules Runtime.close_session on the server's event loop (Runtime._async_objs.eventloop);
    disconnected_sessions lists the session manager's sessions less the active ones."""
    import inspect

    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import AsyncObjects
    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

    assert callable(Runtime.close_session) and callable(Runtime.is_active_session)
    assert "self._async_objs" in inspect.getsource(Runtime.__init__)
    assert "eventloop" in AsyncObjects._fields
    for name in ("list_sessions", "list_active_sessions", "get_session_info"):
        assert callable(getattr(WebsocketSessionManager, name)), name
    assert "_session_mgr" in inspect.getsource(Runtime.__init__)
