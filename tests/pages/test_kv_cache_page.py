"""The KV-cache page end to end (AppTest): default render, presets, a decode step, bad input kept apart."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.lessons.kv_cache import figures

ROOT = Path(__file__).resolve().parents[2]


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.switch_page(str(ROOT / "pages" / "kv_cache.py"))
    return at.run()


def click(at: AppTest, label: str, nth: int = 0) -> AppTest:
    return [b for b in at.button if b.label == label][nth].click().run()


def test_default_render_has_no_error_and_trains_nothing(smollm2):
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title and "KV cache" in at.title[0].value
    assert any("Nothing trained yet" in c.value for c in at.caption)
    assert not at.dataframe  # no run before Start / Step


def test_calculator_preset_shows_the_lectures_number(smollm2):
    at = open_page()
    at = click(at, "Lecture demo: a 3B model at 1M tokens")
    assert not at.exception
    assert at.session_state["kv_cache.tab"] == "Memory"
    metric = [m for m in at.metric if "Llama-3.2-3B" in m.label][0]
    assert metric.value == "114.7 GB"  # 2 × 28 × 8 × 128 × 1e6 × 2 B


def test_step_decodes_one_chunk(smollm2):
    at = open_page()
    at.slider(key="kv_cache.n_tokens").set_value(64).run()
    at = click(at, "⏭ Step")
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["kv_cache:run"]
    assert run.steps_done >= 1 and run.trainer.results["Full cache"].perplexity > 1  # prefill: one step
    assert at.dataframe[0].value["run"].tolist() == ["Full cache"]


@pytest.mark.slow
def test_sinks_preset_then_steps_decode_and_show_the_blow_up(smollm2):
    at = open_page()
    at = click(at, "Lecture demo: attention sinks")
    assert at.session_state["kv_cache.policies"] == ["Window", "StreamingLLM"]
    at.slider(key="kv_cache.n_tokens").set_value(96).run()
    for _ in range(40):  # Step until the three runs (full, window, sinks) are done
        at = click(at, "⏭ Step")
        if at.dataframe and len(at.dataframe[0].value) == 3:
            break
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("run")
    window, sinks = (
        table.loc["Window @ 32", "× full cache"],
        table.loc["StreamingLLM @ 32", "× full cache"],
    )
    assert window > 1.5 and sinks < 1.3 and window > sinks


def test_bad_budget_is_a_message_and_the_last_settings_stay(smollm2):
    at = open_page()
    at.slider(key="kv_cache.chunk").set_value(32).run()
    at.slider(key="kv_cache.budget").set_value(20).run()
    assert not at.exception
    assert any("below" in e.value and "budget" in e.value.lower() for e in at.error)
    assert any("last result that worked" in c.value for c in at.caption)
    at.slider(key="kv_cache.budget").set_value(48).run()
    assert not at.error, [e.value for e in at.error]


def test_user_text_empty_and_budget_over_length(smollm2):
    at = open_page()
    at.selectbox(key="kv_cache.source").set_value("user").run()
    assert any("Paste a text" in e.value for e in at.error)
    at.text_area(key="kv_cache.user_text").set_value("A short text about caches. " * 5).run()
    assert not at.error, [e.value for e in at.error]
    assert any("equals the full cache" in i.value for i in at.info)


def test_config_dims_reads_a_config_and_rejects_a_bad_one():
    dims = figures.config_dims(
        {
            "num_hidden_layers": 28,
            "num_attention_heads": 24,
            "num_key_value_heads": 8,
            "hidden_size": 3072,
        }
    )
    assert dims == (28, 8, 128)
    try:
        figures.config_dims({"hidden_size": 3})
    except ValueError as exc:
        assert "num_hidden_layers" in str(exc)
    else:
        raise AssertionError("a config without layers must be refused")


def test_needle_preset_opens_the_grid_and_a_step_runs(smollm2):
    at = open_page()
    at = click(at, "Lecture demo: needle in a haystack")
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["kv_cache.tab"] == "Needle in a haystack"
    assert not at.error, [e.value for e in at.error]
    assert any("greedy decoding" in c.value for c in at.caption)
    at.multiselect(key="kv_cache.needle_lengths").set_value([128]).run()
    at.multiselect(key="kv_cache.needle_depths").set_value([90]).run()
    at = at.button(key="kv_cache-needle:step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["kv_cache-needle:run"]
    assert run.steps_done >= 1 and run.trainer.rows  # the full cache reads the text in one step
