"""The Machine translation page (AppTest): a chart at once, each preset on a fresh page shows its number, bad input
is a message with the last result kept, and the tiny model trains and is decoded by beam search."""

from streamlit.testing.v1 import AppTest

from app.lessons.translation import PRESETS
from tests.conftest import PAGES_DIR, chart_count, click, metric, open_tab, problems, setting_key
from tests.conftest import open_page as open_lesson_page

PAGE = str(PAGES_DIR / "translation.py")


def open_page(**query) -> AppTest:
    return open_lesson_page("translation.py", 60, **query)


def test_renders_charts_at_once():
    at = open_page()
    assert not problems(at), problems(at)
    assert chart_count(at) == 3  # the t(f | e) animation, the EM curves, a sentence's alignment
    assert float(metric(at, "Alignment error rate")) < 0.25
    for title in ["Noisy channel", "BLEU, opened up", "Beam search"]:  # Beam search: SmolLM2's tree, 4 beams
        open_tab(at, title)
        assert not problems(at) and chart_count(at) == 1, title


GLOSSARY_PRESET = "Lecture demo: a glossary in the prompt"


def test_every_preset_shows_its_number_on_a_fresh_page():
    numbers = {}
    for name, preset in PRESETS.items():
        if name == GLOSSARY_PRESET:  # SmolLM2 translates 8 times: its own test below
            continue
        at = click(open_page(), name)
        assert not problems(at), (name, problems(at))
        assert at.session_state["translation.tab"] == preset.tab
        numbers[name] = at
    das_haus = numbers["Lecture demo: das Haus converges"]
    assert float(metric(das_haus, "t(das | the)")) > 0.95
    assert float(metric(numbers["Lecture demo: alignment error falls"], "Alignment error rate")) < 0.2
    channel = numbers["Lecture demo: the LM puts words in order"]
    assert metric(channel, "Best candidate") == "the farmers like the book"
    assert float(metric(channel, "Its log p(e) above word-for-word").split()[0]) > 20
    assert float(metric(numbers["Lecture demo: the brevity penalty"], "Brevity penalty")) == 0.135


def test_bad_pairs_are_messages_and_the_last_result_stays():
    at = open_page()
    at.selectbox(key=setting_key("translation", "corpus")).set_value("user").run()
    assert not problems(at) and metric(at, "Sentence pairs") == "4"
    pairs = at.text_area(key=setting_key("translation", "pairs"))
    for text, message in [
        ("das Haus the house", "has no tab"),
        ("  ", "empty"),
        ("das Haus\t\u200b", "no English words"),
        ("\n".join(" ".join(f"w{k}x{n}" for n in range(3)) + f"\tv{k}" for k in range(1100)), "3,300 foreign"),
    ]:
        pairs.set_value(text).run()
        assert not at.exception
        assert any(message in e.value for e in at.error), (message, problems(at))
        assert chart_count(at) == 3 and metric(at, "Sentence pairs") == "4", "the last good result stays"
    pairs.set_value("das Haus\tthe house\nein Buch\ta book").run()
    assert not problems(at) and metric(at, "Sentence pairs") == "2"


def test_a_link_out_of_range_is_a_message_and_the_chart_stays():
    at = open_page(**{setting_key("translation", "iterations"): "0"})
    assert not at.exception
    assert any("cannot take here" in w.value for w in at.warning), [w.value for w in at.warning]
    assert chart_count(at) == 3


def test_tiny_model_trains_then_beam_search_decodes_it():
    at = open_tab(open_page(), "Neural MT")
    assert not problems(at) and chart_count(at) == 0
    for _ in range(3):
        next(b for b in at.button if b.key == "translation:step").click().run()
    assert not problems(at) and chart_count(at) == 3  # loss, held-out BLEU, attention beside IBM
    open_tab(at, "Beam search")
    at.radio(key=setting_key("translation", "decoder", "decoding")).set_value("tiny").run()
    assert not problems(at), problems(at)
    widths = at.dataframe[0].value
    assert widths["beams"].tolist() == list(range(1, 9)) and chart_count(at) == 2  # per width; the tree
    assert widths["mean length"].min() > 0


def test_the_glossary_preset_shows_its_numbers():
    """SmolLM2 (greedy, deterministic) on the 4 default sentences: 0 of 6 terms without the glossary, 4 of 6 with."""
    at = click(open_page(), GLOSSARY_PRESET)
    assert not problems(at), problems(at)
    assert at.session_state["translation.tab"] == PRESETS[GLOSSARY_PRESET].tab
    assert metric(at, "Terms used without the glossary") == "0 of 6"
    assert metric(at, "Terms used with the glossary") == "4 of 6"
    chrf_without, chrf_with = (float(x) for x in metric(at, "chrF without → with").split(" → "))
    assert round(chrf_without) == 10 and round(chrf_with) == 29
    assert chart_count(at) == 1


def test_smollm2_beams_at_every_width():
    at = open_page(**{setting_key("translation", "max_new_tokens", "decoding"): "4", "translation.tab": "Beam search"})
    assert not problems(at) and chart_count(at) == 1, problems(at)
    next(b for b in at.button if b.label.startswith("Decode at every width")).click().run()
    assert not problems(at), problems(at)
    assert chart_count(at) == 2  # the tree, and score / length / chrF per width
    widths = at.dataframe[1].value
    assert widths["beams"].tolist() == list(range(1, 9))
    assert (widths["tokens"] <= 4).all() and widths["chrF"].notna().all()


def test_bad_llm_input_is_a_message_never_a_traceback():
    at = open_page(**{"translation.tab": "Beam search"})
    sentence = at.text_input(key=setting_key("translation", "sentence", "decoding"))
    for text, message in [("", "empty"), ("\u200b\u200b ?!", "empty")]:
        sentence.set_value(text).run()
        assert not at.exception and any(message in e.value for e in at.error), (text, problems(at))
        assert chart_count(at) == 1, "the last tree stays"
    sentence.set_value("word " * 2000).run()  # the widget keeps 200 characters and says so
    assert not problems(at) and any("at most 200 characters" in w.value for w in at.warning)
    sentence.set_value("The house is small.").run()
    at.selectbox(key=setting_key("translation", "model", "decoding")).set_value("hf").run()
    at.text_input(key=setting_key("translation", "hf_id", "decoding")).set_value("nobody/not-cached-model").run()
    assert not at.exception and any("Could not load" in e.value for e in at.error), problems(at)
    # the glossary tab, opened from a link with a bad glossary (so nothing is translated)
    glossary_key = setting_key("translation", "glossary", "glossary")
    at = open_page(**{"translation.tab": "Prompt with a glossary", glossary_key: "window fenêtre"})
    assert not at.exception and any("no “=”" in e.value for e in at.error), problems(at)
    at.text_area(key=glossary_key).set_value("").run()
    assert not at.exception and any("empty" in e.value for e in at.error), problems(at)
    sentences = at.text_area(key=setting_key("translation", "sentences", "glossary"))
    sentences.set_value("\n".join(["Hello."] * 7)).run()
    assert not at.exception and any("at most 6" in e.value for e in at.error), problems(at)
