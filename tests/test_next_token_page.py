"""The next-token explorer: token labels, the token chips and odd URLs (AppTest)."""

import pytest

from models.sampling import encode_prompt, next_token, token_pieces
from tests.test_pages import run_page

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
    at.text_area(key="next_token.prompt").set_value(
        "It costs $5 and $6 for *two* `x` :red[y] <b>z"
    ).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = chips(at)
    for syntax in ("$", "*", "`", ":red[", "<b>"):
        assert syntax not in shown, syntax  # no LaTeX, emphasis, code span, colour or raw HTML
    assert "&#36;" in shown and "&lt;" in shown


@pytest.mark.parametrize(
    "key, value",
    [("nt_temp", "0"), ("nt_topk", "-5"), ("nt_topp", "7"), ("nt_seed", "x")]  # old links
    + [("next_token.temperature", "0"), ("next_token.top_k", "-5"), ("next_token.seed", "x")],
)
def test_impossible_url_values_fall_back_to_defaults(key, value, smollm2):
    from streamlit.testing.v1 import AppTest

    from app.navigation import PAGES_DIR
    from tests.test_pages import ENTRY

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
