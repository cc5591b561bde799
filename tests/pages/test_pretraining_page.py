"""The pre-training page (AppTest): a chart at once, each preset's number measured on a fresh page, bad input a
message with the earlier results kept."""

import pytest
from streamlit.testing.v1 import AppTest

from app.lessons import PAGES_DIR
from app.lessons.pretraining import PRESETS
from tests.conftest import ENTRY, metrics, open_tab, setting_key

SLUG = "pretraining"


def open_page() -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=180)
    at.switch_page(str(PAGES_DIR / "pretraining.py"))
    return at.run()


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def percent(value: str) -> float:
    return float(value.rstrip("%")) / 100


def preset(at, short: str) -> AppTest:
    name = next(n for n in PRESETS if short in n)
    at.button(key=f"{SLUG}:preset-{name}").click().run()
    assert not at.exception and not errors(at), [e.value for e in at.exception] + errors(at)
    assert at.session_state[f"{SLUG}.tab"] == PRESETS[name].tab
    return at


def test_first_view_draws_charts_and_trains_nothing():
    at = open_page()
    assert not at.exception and not errors(at), [e.value for e in at.exception] + errors(at)
    assert at.title[0].value.endswith("Pre-training objectives")
    assert len(at.get("plotly_chart")) == 3  # context counts, attention masks, tokens with a loss
    assert f"{SLUG}:run" not in at.session_state


def test_both_sides_preset_quotes_the_counts():
    at = preset(open_page(), "both sides")
    m = metrics(at)
    assert percent(m["2 characters on each side: blanks filled"]) > 0.65
    assert percent(m["4 characters on the left: blanks filled"]) < 0.60


def test_electra_preset_every_token_has_a_signal_mlm_about_fifteen_percent():
    at = preset(open_page(), "every token")
    at.button(key=f"{SLUG}:step").click().run()
    assert not at.exception and not errors(at), errors(at)
    m = metrics(at)
    assert m["causal LM: tokens with a loss"] == "100%" and m["ELECTRA: tokens with a loss"] == "100%", m
    assert 0.10 <= percent(m["masked LM: tokens with a loss"]) <= 0.20, m
    assert len(at.get("plotly_chart")) >= 6  # the counts and masks, then losses and fill-in by step and by signal


def test_masking_preset_shares_follow_the_rule():
    at = preset(open_page(), "80/10/10")
    m = metrics(at)
    assert abs(percent(m["chosen (of all characters)"]) - 0.15) <= 0.005
    assert abs(percent(m["→ [MASK] (of the chosen)"]) - 0.80) <= 0.015
    assert abs(percent(m["→ random (of the chosen)"]) - 0.10) <= 0.01
    assert abs(percent(m["→ kept (of the chosen)"]) - 0.10) <= 0.01


def test_chat_template_preset_lists_the_templates_tokens(smollm2):
    at = preset(open_page(), "chat template")
    text = at.code[0].value
    assert text.startswith("<|im_start|>") and "<|im_start|>user\nWhat is the capital of France?<|im_end|>" in text
    assert text.rstrip().endswith("<|im_start|>assistant")
    assert at.get("plotly_chart"), "the next-token distributions"
    at.text_input(key=setting_key(SLUG, "question", "chat")).set_value("").run()
    assert any("no user turn" in e for e in errors(at)), errors(at)
    assert at.code, "the last template that worked stays"


def test_instruction_tab_steps_and_an_empty_mixture_is_a_message():
    at = open_page()
    open_tab(at, "Instruction tuning")
    assert at.get("plotly_chart")
    at.button(key=f"{SLUG}-instruct:step").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert len(at.get("plotly_chart")) >= 3  # grid, per-character loss, losses
    at.multiselect(key=setting_key(SLUG, "tasks", "instruction")).set_value([]).run()
    assert any("task mixture is empty" in e for e in errors(at)), errors(at)


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_a_mask_rate_of_0_or_1_is_a_message(rate):
    at = open_page()
    at.slider(key=setting_key(SLUG, "mask_rate", "objectives")).set_value(rate).run()
    assert not at.exception
    assert any("between 0 and 1" in e for e in errors(at)), errors(at)
    assert len(at.get("plotly_chart")) >= 1


def test_short_user_text_is_a_message():
    at = open_page()
    at.selectbox(key=setting_key(SLUG, "corpus")).set_value("user").run()
    at.text_area(key=setting_key(SLUG, "user_text")).set_value("hello").run()
    assert not at.exception
    assert any("characters; at least" in e for e in errors(at)), errors(at)
