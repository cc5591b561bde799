"""Faults (issue 12): each is a message, and the app stays usable.

Already covered elsewhere, not repeated here: out of memory inside the kit's `advance` and inside
`page.compute` (tests/kit/test_training_kit.py::test_out_of_memory_in_a_chunk_stops_the_run_with_a_message,
::test_out_of_memory_in_page_compute_is_a_message); an unknown Hugging Face id (tests/pages/test_pages.py::
test_unknown_model_id_is_a_message_not_a_traceback) and ids refused before any lookup (tests/kit/test_security.py); a run
freed while its tab was closed (tests/kit/test_training_kit.py::test_a_run_freed_while_its_tab_was_closed_says_so...).
Here the same faults are met on the real lesson pages, plus the ones no test covered.
"""

from __future__ import annotations

import sys

import pytest
import torch
from streamlit.testing.v1 import AppTest

import app.training as training
from app.lessons import PAGES_DIR
from tests.conftest import ENTRY, open_tab, reveal


def open_page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.switch_page(str(PAGES_DIR / f"{page}.py"))
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def click(at: AppTest, key: str) -> AppTest:
    reveal(at, key).button(key=key).click().run()  # on its tab (a lesson draws only the open one)
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def oom(*args, **kwargs):
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


def test_gpu_out_of_memory_in_a_training_chunk_is_a_message_and_training_works_after(monkeypatch):
    from models.moe.model import BalanceComparison

    at = open_page("moe")
    monkeypatch.setattr(BalanceComparison, "train_steps", oom)
    click(at, "moe:step")
    assert any("ran out of memory" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not at.session_state["moe:run"].running
    monkeypatch.undo()  # the memory is back: reset and train
    click(at, "moe:reset")
    click(at, "moe:step")
    assert at.session_state["moe:run"].steps_done >= 1
    assert not any("ran out of memory" in w.value for w in at.warning)


def test_gpu_out_of_memory_in_a_forward_pass_keeps_the_chart(monkeypatch, smollm2):
    from app.lessons.next_token import forward

    at = open_page("next_token")
    before = charts(at)
    monkeypatch.setattr(forward, "predict", oom)
    at.text_area(key="next_token.prompt").set_value("The capital of Italy is").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("ran out of memory" in e.value for e in at.error), [e.value for e in at.error]
    assert charts(at) == before, "the last chart stays"
    monkeypatch.undo()
    at.text_area(key="next_token.prompt").set_value("The capital of Spain is").run()
    assert not at.error and charts(at) == before


def test_a_missing_optional_package_is_a_message(monkeypatch, smollm2):
    """The sentiment reward of the RLHF tab needs vaderSentiment; without it, Start says what to install."""
    monkeypatch.setitem(sys.modules, "vaderSentiment", None)  # `import` raises ImportError
    monkeypatch.setitem(sys.modules, "vaderSentiment.vaderSentiment", None)
    at = open_page("rlhf")
    click(at, "rlhf-lm:step")
    assert any("pip install vaderSentiment" in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state.get("rlhf-lm:run") is None  # nothing half-built is kept
    at.radio(key="rlhf.lm.reward").set_value("keyword").run()
    assert not at.exception and at.title


def test_umap_missing_is_a_message(monkeypatch):
    from app.lessons.word_embeddings import vector_space

    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(ImportError, match="pip install umap-learn"):
        vector_space.project(torch.randn(20, 8).numpy(), "umap", 2, 0)


@pytest.mark.parametrize("allow_download", [False, True], ids=["cache-only", "download-offline"])
def test_a_model_that_cannot_be_loaded_offline_is_a_message(allow_download, smollm2):
    """A real Hub id that is not in the cache, with the network off (HF_HUB_OFFLINE, tests/conftest.py)."""
    at = open_page("attention")
    before = charts(at)
    at.selectbox(key="attention.real_model.model").set_value("hf").run()
    if allow_download:
        at.checkbox(key="attention.real_model.hf_download").check().run()
    at.text_input(key="attention.real_model.hf_id").set_value("HuggingFaceTB/SmolLM2-360M-Instruct").run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("Could not load 'HuggingFaceTB/SmolLM2-360M-Instruct'" in e for e in errors), errors
    assert any("work offline" in e for e in errors), errors
    assert charts(at) >= before - 1, "the earlier attention stays on screen"


def kit_app():
    import streamlit as st

    from app.training import _pause, training_panel

    class PressedStopMidChunk:
        """A trainer during whose chunk the student presses Stop (the button's on_click runs)."""

        def __init__(self):
            self.loss, self.chunks = 1.0, 0

        def train_steps(self, n):
            self.chunks += 1
            if self.chunks == 2:
                _pause("k")  # what ⏸ Pause's on_click does
            self.loss *= 0.5**n
            return {"loss": self.loss}

    training_panel("k", PressedStopMidChunk, 10_000, {}, lambda r: st.write(f"steps={r.steps_done}"))


def test_stop_pressed_mid_chunk_stops_the_run_and_keeps_that_chunk():
    at = AppTest.from_function(kit_app, default_timeout=30).run()
    click(at, "k:start")
    run = at.session_state["k:run"]
    for _ in range(3):
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    assert not run.running and run.error is None, "the run stopped, without an error"
    assert len(run.history) == 2 and run.steps_done == run.history[-1]["step"], "the chunk is kept"
    done = run.steps_done
    at.run()
    assert run.steps_done == done, "nothing trains after Stop"
    assert any(f"steps={done}" in m.value for m in at.markdown)
    assert any("Resume" in b.label for b in at.button)


def test_a_page_switch_mid_training_pauses_the_run_and_the_other_page_works():
    """app/training.py: a run advances only while its page is open; coming back goes on from where it was."""
    at = open_page("moe")
    click(at, "moe:start")
    run = at.session_state["moe:run"]
    assert run.running and run.steps_done >= 1
    at.switch_page(str(PAGES_DIR / "ngrams.py")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert charts(at) > 0, "the other page draws"
    done = run.steps_done
    at.run()
    assert run.steps_done == done, "away from its page the run does not train"
    at.switch_page(str(PAGES_DIR / "moe.py")).run()
    assert not at.exception
    assert at.session_state["moe:run"] is run and run.running, "the run and its history are kept"
    at.run()
    assert run.steps_done > done, "back on its page it goes on"
    click(at, "moe:start")  # ⏸ Pause
    assert not run.running


def test_a_server_restart_under_an_open_tab_restores_the_urls_settings():
    """The browser reconnects with its URL to a server that has no session, no run and empty caches."""
    at = open_page("moe")
    at.slider(key="moe.n_experts").set_value(4).run()
    at.slider(key="moe.top_k").set_value(1).run()
    at.selectbox(key="moe.router").set_value("sigmoid").run()
    click(at, "moe:step")
    # what the browser's address bar holds now (AppTest does not mirror bound widgets into at.query_params);
    # a selectbox's URL value is its label
    url = {
        "moe.n_experts": "4",
        "moe.top_k": "1",
        "moe.router": "sigmoid + bias (DeepSeek-V3)",
        "moe.tab": "Which expert",
    }
    training.run_queue.clear()  # a restarted server: new tables, nothing cached
    training.run_table.clear()
    import streamlit as st

    st.cache_data.clear()
    fresh = AppTest.from_file(ENTRY, default_timeout=120)
    fresh.switch_page(str(PAGES_DIR / "moe.py"))
    for key, value in url.items():
        fresh.query_params[key] = value
    fresh.run()
    assert not fresh.exception and not fresh.error, [e.value for e in fresh.error]
    assert not fresh.warning, [w.value for w in fresh.warning]  # no refused-link note
    assert fresh.slider(key="moe.n_experts").value == 4
    assert fresh.slider(key="moe.top_k").value == 1
    assert fresh.selectbox(key="moe.router").value == "sigmoid"
    assert fresh.session_state["moe.tab"] == "Which expert"
    open_tab(fresh, "Train live")
    assert any("Nothing trained yet" in c.value for c in fresh.caption)
    click(fresh, "moe:step")
    assert fresh.session_state["moe:run"].steps_done >= 1
