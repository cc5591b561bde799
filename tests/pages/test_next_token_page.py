"""The next-token explorer: token labels, the token chips and odd URLs (AppTest)."""

import pytest

from models.next_token.sampling import encode_prompt, next_token, token_pieces
from tests.conftest import open_tab, run_page

PAGE = "next_token.py"


def chips(at) -> str:
    return next(m.value for m in at.markdown if "<span title='id" in m.value)


def test_split_characters_keep_distinct_labels(smollm2):
    """Tokens holding part of a CJK character decode to U+FFFD; their bytes tell them apart."""
    model, tokenizer = smollm2
    ids = encode_prompt(tokenizer, "日本の首都は")
    assert token_pieces(tokenizer, ids)[:3] == ["<0xE6><0x97>", "<0xA5>", "本"]
    top = next_token(model, tokenizer, ids, 1024).logits.topk(20).indices.tolist()
    pieces = token_pieces(tokenizer, top)
    assert len(set(pieces)) == 20, pieces  # the chart has one bar per token, none merged
    assert not any("\ufffd" in p for p in pieces)
    assert token_pieces(tokenizer, tokenizer(" \ufffd")["input_ids"])[-1] == "\ufffd"  # a real one


def test_token_chips_are_not_read_as_markdown(smollm2):
    at = run_page(PAGE)
    at.text_area(key="next_token.prompt").set_value("It costs $5 and $6 for *two* `x` :red[y] <b>z").run()
    open_tab(at, "Sample token by token")  # the chips of the prompt's tokens
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = chips(at)
    for syntax in ("$", "*", "`", ":red[", "<b>"):
        assert syntax not in shown, syntax  # no LaTeX, emphasis, code span, colour or raw HTML
    assert "&#36;" in shown and "&lt;" in shown


@pytest.mark.parametrize(
    "key, value",
    [("next_token.temperature", "0"), ("next_token.top_k", "-5"), ("next_token.top_p", "7")]
    + [("next_token.seed", "x")],
)
def test_impossible_url_values_fall_back_to_defaults(key, value, smollm2):
    from streamlit.testing.v1 import AppTest

    from app.navigation import PAGES_DIR
    from tests.conftest import ENTRY

    at = AppTest.from_file(ENTRY, default_timeout=30)
    at.switch_page(str(PAGES_DIR / PAGE))
    at.query_params[key] = value
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 1


def test_moving_a_sampling_slider_reuses_the_forward_pass(smollm2):
    at = run_page("next_token.py")
    first = at.session_state["next_token:forward"].result
    at.slider(key="next_token.temperature").set_value(0.5).run()
    assert not at.exception
    assert at.session_state["next_token:forward"].result is first  # same logits, re-filtered
    at.text_area(key="next_token.prompt").set_value("The capital of Italy is").run()
    assert at.session_state["next_token:forward"].result is not first


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    return at.run()


def test_every_preset_lands_on_its_tab_with_the_number_that_shows_its_claim(smollm2):
    from app.lessons.next_token import PRESETS

    def fresh(preset: str):
        at = click(run_page(PAGE), preset)
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert at.session_state["next_token.tab"] == PRESETS[preset].tab == "Next-token distribution"
        return at

    at = fresh("Lecture demo: greedy-ish")
    model_p, sampled_p = metric(at, "Likeliest token").split(" → ")
    assert int(sampled_p.rstrip("%")) >= 99 > int(model_p.rstrip("%"))  # almost greedy
    at = fresh("Lecture demo: creative")
    before, after = map(float, metric(at, "Entropy, nats").split(" → "))
    assert after > before + 0.5  # flatter
    at = fresh("Lecture demo: nucleus 0.9")
    assert 90 <= float(metric(at, "Probability kept").rstrip("%")) < 100
    assert int(metric(at, "Tokens that can be sampled").replace(",", "")) < 1000
    at = fresh("Lecture demo: top-k 5")
    assert metric(at, "Tokens that can be sampled") == "5"
    at = click(at, "Lecture demo: creative")
    assert at.slider(key="next_token.top_k").value == 0, "a preset resets what it does not name"


def test_cut_tokens_have_a_legend_entry_and_the_sampled_distribution_is_beside(smollm2):
    import json

    at = click(run_page(PAGE), "Lecture demo: top-k 5")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [t.get("name") for t in spec["data"]]
    assert "after temperature: cut by top-k" in names and "sampled from (renormalised)" in names
    sampled = next(t for t in spec["data"] if t.get("name") == "sampled from (renormalised)")
    assert len(sampled["x"]) == 5


def test_pins_can_be_cleared(smollm2):
    at = click(run_page(PAGE), "📌 Pin this distribution")
    assert any(str(t.get("name", "")).startswith("📌") for t in _spec(at)["data"])
    at = click(at, "Clear pins")
    assert not any(str(t.get("name", "")).startswith("📌") for t in _spec(at)["data"])


def _spec(at) -> dict:
    import json

    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_empty_prompt_error_is_by_the_input_and_the_old_chart_is_marked_stale(smollm2):
    at = run_page(PAGE)
    at.text_area(key="next_token.prompt").set_value("").run()
    assert any("empty" in e.value for e in at.error)
    assert any("Stale" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == 1
    at.text_area(key="next_token.prompt").set_value("word " * 1500).run()
    message = next(e.value for e in at.error if "reads at most" in e.value)
    assert "1,024" in message and "8,192" in message  # the app's CPU cap, and the model's own limit
