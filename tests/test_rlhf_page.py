"""The policy-gradient lesson page (AppTest): renders, presets land on their tab with their number, Step trains a
chunk, bad input is a message and the earlier result stays."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.lessons.rlhf import PRESETS, clip_tab, grpo_tab, sandbox_tab

ROOT = Path(__file__).resolve().parent.parent


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page(str(ROOT / "pages" / "rlhf.py"))
    return at.run()


def preset(at: AppTest, name: str) -> AppTest:
    at.button(key=f"rlhf:preset-{name}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


@pytest.fixture(scope="module")
def page() -> AppTest:
    return open_page()


def test_default_render(page):
    assert not page.exception, [e.value for e in page.exception]
    assert not page.error, errors(page)
    assert page.title[0].value.endswith("Policy gradients and PPO clipping")
    assert metric(page, "Flat for A > 0") == "1.20"
    assert len(page.get("plotly_chart")) >= 3  # clip curves, heatmap, GRPO groups; nothing trained


def test_clip_preset_and_bad_eps_keeps_the_charts():
    at = preset(open_page(), "Lecture demo: flat regions")
    assert at.session_state["rlhf.tab"] == clip_tab.TITLE
    assert metric(at, "Flat for A > 0") == "1.30" and metric(at, "Flat for A < 0") == "0.70"
    charts = len(at.get("plotly_chart"))
    at.number_input(key="rlhf.eps").set_value(1.5).run()
    assert any("ε must lie in (0, 1)" in e for e in errors(at))
    assert len(at.get("plotly_chart")) == charts  # the last good figures stay
    assert metric(at, "Flat for A > 0") == "1.30"


def test_grpo_preset_shows_degenerate_groups():
    at = preset(open_page(), "Lecture demo: degenerate GRPO groups")
    assert at.session_state["rlhf.tab"] == grpo_tab.TITLE
    share = float(metric(at, "Share of degenerate groups").rstrip("%")) / 100
    assert 0.25 < share < 0.40  # groups of 2 on 4 tokens x 4 symbols: about 1 in 3 groups are ties


def test_sandbox_preset_step_trains_a_chunk():
    at = preset(open_page(), "Lecture demo: clipping at a high lr")
    assert at.session_state["rlhf.tab"] == sandbox_tab.TITLE
    assert at.session_state["rlhf.lr"] == 1.0
    before = len(at.get("plotly_chart"))
    at.button(key="rlhf:step").click().run()
    assert not at.exception and not at.error, errors(at)
    table = at.dataframe[0].value
    assert list(table["run"]) == ["ppo ε=0.2", "ppo_noclip"]
    assert len(at.get("plotly_chart")) >= before + 2  # reward bands and diagnostics appear


def test_sandbox_bad_input_is_a_message():
    at = open_page()
    at.text_input(key="rlhf.clip_eps").set_value("0.2, 1.5").run()
    assert any("ε must lie in (0, 1)" in e for e in errors(at))
    at.text_input(key="rlhf.clip_eps").set_value("0.2").run()
    at.slider(key="rlhf.group_size").set_value(1).run()
    assert any("GRPO needs groups of at least 2" in e for e in errors(at))
    assert not at.exception


def test_rlhf_bad_input_is_a_message():
    at = open_page()
    at.number_input(key="rlhf.kl_coef").set_value(-0.5).run()
    assert any("β cannot be negative" in e for e in errors(at))
    at.number_input(key="rlhf.kl_coef").set_value(0.05).run()
    at.text_area(key="rlhf.prompts").set_value("  \n ").run()
    assert any("at least one non-empty prompt" in e for e in errors(at))
    assert not at.exception


def test_dpo_step_and_bad_beta():
    at = open_page()
    at.button(key="rlhf-dpo:step").click().run()
    assert not at.exception and not at.error, errors(at)
    loss = float(metric(at, "DPO loss"))
    assert 0 < loss < 0.6931  # one step below log 2
    at.number_input(key="rlhf.beta").set_value(0.0).run()
    assert any("β must be positive" in e for e in errors(at))
    assert metric(at, "DPO loss")  # the run stays on screen


def test_presets_name_their_tabs():
    titles = {tab.TITLE for tab in __import__("app.lessons.rlhf", fromlist=["TABS"]).TABS}
    assert all(p.tab in titles for p in PRESETS.values())


@pytest.mark.slow
def test_rlhf_step_on_smollm2(smollm2):
    at = open_page()
    at.text_area(key="rlhf.prompts").set_value("The movie was\nMy day").run()
    at.slider(key="rlhf.new_tokens").set_value(4).run()
    at.button(key="rlhf-lm:step").click().run(timeout=300)
    assert not at.exception and not at.error, errors(at)
    assert len(at.dataframe) >= 2  # samples before and latest
