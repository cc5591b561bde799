"""The MoE page driven end to end (AppTest): renders, trains a chunk, presets, bad input keeps the last result."""

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ENTRY, PAGES_DIR, open_tab

PAGE = str(PAGES_DIR / "moe.py")


def open_page() -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.switch_page(PAGE)
    return at.run()


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def preset(at, name: str) -> AppTest:
    return at.button(key=f"moe:preset-Lecture demo: {name}").click().run()


def test_default_render_trains_nothing():
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    assert not errors(at)
    assert at.title[0].value.endswith("Mixture-of-Experts routing")
    assert "Nothing trained yet" in captions(at)
    assert "moe:run" not in at.session_state


def test_step_trains_all_three_runs_then_bad_input_keeps_them():
    at = open_page()
    at.button(key="moe:step").click().run()
    assert not at.exception and not errors(at)
    run = at.session_state["moe:run"]
    assert run.steps_done >= 1 and set(run.trainer.trainers) == {"none", "aux", "bias"}
    table = at.dataframe[0].value
    assert list(table["run"]) == ["no balancing", "auxiliary loss", "bias (aux-loss-free)"]
    assert "Measured now: load CV" in captions(at)

    at.slider(key="moe.n_experts").set_value(1).run()
    assert not at.exception
    assert any("With one expert there is nothing to route" in e for e in errors(at)), errors(at)
    assert at.session_state["moe:run"] is run  # the earlier run and its charts stay
    assert "Measured now: load CV" in captions(at)
    at.slider(key="moe.n_experts").set_value(4).run()
    at.slider(key="moe.top_k").set_value(6).run()
    assert any("top-k must be between 1 and the number of experts (4)" in e for e in errors(at))
    assert "Measured now: load CV" in captions(at)
    at.slider(key="moe.top_k").set_value(2).run()
    at.slider(key="moe.n_experts").set_value(8).run()
    assert not errors(at)
    at.number_input(key="moe.bias_update_rate").set_value(-0.1).run()
    assert any("update rate must be 0 or more" in e for e in errors(at))
    at.number_input(key="moe.bias_update_rate").set_value(0.01).run()
    at.checkbox(key="moe.use_capacity").check().run()
    at.number_input(key="moe.capacity_factor").set_value(0.0).run()
    assert any("capacity factor must be above 0" in e for e in errors(at))
    assert "Measured now: load CV" in captions(at)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "The text is empty"),
        ("aaaaaaaa", "single character"),
        ("short text", "characters; one"),
    ],
)
def test_bad_user_text_gives_a_message(text, message):
    at = open_page()
    at.selectbox(key="moe.corpus").set_value("user").run()
    at.text_area(key="moe.user_text").set_value(text).run()
    assert not at.exception
    assert any(message in e for e in errors(at)), errors(at)


def test_cost_preset_shows_deepseek_active_share():
    at = open_page()
    preset(at, "DeepSeek-V3 active against total")
    assert not at.exception and not errors(at)
    assert at.session_state["moe.tab"] == "Cost"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["DeepSeek-V3: total"] == "671.0 B"
    assert metrics["active per token (5.6%)"] == "37.6 B"  # 37.55B counted; "about 37B" published


def test_bias_preset_opens_the_router_on_a_sigmoid_router():
    at = open_page()
    preset(at, "the bias at work")
    assert not at.exception and not errors(at)
    assert at.session_state["moe.tab"] == "One token through the router"
    assert at.selectbox(key="moe.router").value == "sigmoid"
    text = "\n".join(m.value for m in at.markdown)
    assert "Scores: sigmoid of each logit" in text and "Top-2 of score + bias" in text


def test_collapse_preset_shows_the_collapse_after_training():
    at = open_tab(open_page(), "Which expert")
    at.text_input(key="moe.routing.probe_text").set_value("stray").run()
    preset(at, "collapse without balancing")
    assert at.session_state["moe.tab"] == "Train live"
    assert at.session_state["moe.routing.probe_text"] != "stray", "a preset resets what it does not name"
    at.button(key="moe:step").click().run()
    at.session_state["moe:run"].trainer.train_steps(40)  # the kit's chunks, done at once
    at.run()
    cv = re.search(r"load CV ([\d.]+) without balancing against ([\d.]+) .* and ([\d.]+)", captions(at))
    none, aux, bias = map(float, cv.groups())
    assert none > 0.8 and aux < 0.6 * none and bias < 0.6 * none
    open_tab(at, "Which expert")  # the text tab routes once trained: every character coloured, in each layer
    assert not at.exception and not errors(at)
    layers = [m.value for m in at.markdown if m.value.startswith("**Layer ")]
    n_layers = at.session_state["moe:run"].trainer.trainers["none"].config.n_layers
    assert len(layers) == n_layers, layers
    coloured = [m.value for m in at.markdown if m.value.count("<span") >= 20]
    assert len(coloured) == n_layers, "one line of text coloured by expert per layer"


def test_coloured_text_escapes_markup_and_marks_spaces():
    import numpy as np

    from app.lessons.moe import figures

    out = figures.coloured_text("<b> x", np.array([[0], [1], [2], [3], [4]]), np.ones((5, 1)))
    assert "<b>" not in out and "&lt;" in out and "&gt;" in out and "␣" in out
    assert out.count("<span") == 5
