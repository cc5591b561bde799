"""The prompting page (AppTest, SmolLM2): two charts at once, each preset on a fresh page shows the number its tooltip
claims, bad input is a message with the last result kept, and the sweep runs a step."""

from streamlit.testing.v1 import AppTest

from app.lessons import PAGES_DIR
from app.lessons.prompting import PRESETS
from tests.conftest import chart_count, metric, open_tab, problems, setting_key
from tests.conftest import open_page as open_lesson_page

PAGE = str(PAGES_DIR / "prompting.py")


def open_page(**query) -> AppTest:
    return open_lesson_page("prompting.py", 180, **query)


def percent(text: str) -> float:
    return float(text.rstrip("%")) / 100


def test_first_view_draws_both_charts_and_bad_input_is_a_message():
    at = open_page()
    assert not problems(at), problems(at)
    assert chart_count(at) == 2  # each review's p(right label), the content-free bias and the label counts
    raw, calibrated = (
        percent(metric(at, "Accuracy, no calibration")),
        percent(metric(at, "Accuracy, contextual calibration")),
    )
    assert 0.3 < raw < 1 and 0.3 < calibrated < 1
    for key, value, message in [
        ("template", "Sentiment: {y}", "{x} exactly once"),
        ("template", "", "template is empty"),
        ("verbalizers", "good, good", "used for two classes"),
        ("verbalizers", "good, ", "label word is empty"),
        ("verbalizers", "a, b, c", "give 2 label words"),
    ]:
        widget = next(
            w for kind in ("text_area", "text_input") for w in at.get(kind) if w.key == setting_key("prompting", key)
        )
        widget.set_value(value).run()
        assert not at.exception, [e.value for e in at.exception]
        assert any(message in e.value for e in at.error), (value, problems(at))
        assert chart_count(at) == 2, "the last result stays on screen"
        widget.set_value("" if key == "verbalizers" else "Review: {x}\nSentiment: {y}\n\n").run()
    assert not problems(at) and percent(metric(at, "Accuracy, no calibration")) == raw


def test_every_preset_shows_its_number_on_a_fresh_page():
    shown = {}
    for name, preset in PRESETS.items():
        at = open_page()
        next(b for b in at.button if b.label == name).click().run()
        assert not problems(at), (name, problems(at))
        assert at.session_state["prompting.tab"] == preset.tab
        shown[name] = at
    bias = shown["Lecture demo: calibration removes a label-word bias"]
    assert percent(metric(bias, "Answers “great”, no calibration")) > 0.9
    gain = percent(metric(bias, "Accuracy, contextual calibration")) - percent(metric(bias, "Accuracy, no calibration"))
    assert gain > 0.2
    seeds = shown["Lecture demo: calibration over 3 order seeds"]
    assert metric(seeds, "Seeds where calibration helped") == "3 of 3"
    assert float(metric(seeds, "Calibration gain, mean over order seeds 0, 1, 2").split()[0]) > 5
    tokens = shown["Lecture demo: a label word of 3 tokens"]
    assert metric(tokens, "Tokens in “mediocre”") == "3"


def test_user_lines_the_sweep_and_a_bad_link():
    at = open_page(**{setting_key("prompting", "shots"): "99"})
    assert not at.exception and any("cannot take here" in w.value for w in at.warning)
    at.selectbox(key=setting_key("prompting", "data")).set_value("user").run()
    lines = at.text_area(key=setting_key("prompting", "lines"))
    for text, message in [("only: one label\nonly: again", "at least two labels"), ("no colon here", "no “:”")]:
        lines.set_value(text).run()
        assert not at.exception and any(message in e.value for e in at.error), problems(at)
    at.slider(key=setting_key("prompting", "shots")).set_value(16).run()
    lines.set_value("a: x\nb: y\na: z\nb: w").run()
    assert any("16 shots need 16 training examples" in e.value for e in at.error), problems(at)
    at.selectbox(key=setting_key("prompting", "data")).set_value("reviews").run()
    at.slider(key=setting_key("prompting", "shots")).set_value(4).run()
    at.slider(key=setting_key("prompting", "n_eval")).set_value(8).run()
    open_tab(at, "Shots, order, label words")
    assert not problems(at), problems(at)
    at.button(key="prompting-sweep:step").click().run()  # the first prompt: zero-shot, draw 0
    assert not problems(at) and chart_count(at) == 1, problems(at)
    for title in ["Chain of thought", "Prompt ensembling"]:
        open_tab(at, title)
        assert not problems(at) and any(b.key.endswith(":start") for b in at.button), title
