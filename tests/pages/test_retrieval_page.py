"""The Retrieval-augmented LMs page (AppTest): three charts at once, each preset on a fresh page shows its number,
bad input is a message with the last result kept, and a link's impossible value is refused.

The default datastores (Wikipedia, the toy world) and the passage pool are computed once per process (page.shared),
so the presets after the first view cost little more than their own tab."""

import pytest
from streamlit.testing.v1 import AppTest

from app.lessons.retrieval import PRESETS
from tests.conftest import PAGES_DIR, chart_count, click, metric, open_tab, problems, setting_key
from tests.conftest import open_page as open_lesson_page

PAGE = str(PAGES_DIR / "retrieval.py")


def open_page(**query) -> AppTest:
    return open_lesson_page("retrieval.py", 300, **query)


def number(at, label: str) -> float:
    return float(metric(at, label).split()[0].rstrip("%×").replace(",", ""))


def test_renders_charts_at_once():
    at = open_page()
    assert not problems(at), problems(at)
    assert chart_count(at) == 3  # perplexity against λ, the per-token gains, datastore size against perplexity
    assert metric(at, "Datastore") == "1,024 tokens"
    assert number(at, "kNN-LM: perplexity") < number(at, "SmolLM2 alone: perplexity"), "the default λ helps"
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 64  # the chosen token's 64 neighbours


def shows(name: str, at: AppTest) -> None:
    """The number each preset's tooltip promises, as the page shows it."""
    if name == "Lecture demo: a datastore that knows the domain":
        assert number(at, "kNN-LM: perplexity") < 0.5 * number(at, "SmolLM2 alone: perplexity")
    elif name == "Lecture demo: Wikipedia wants a small λ":
        assert number(at, "Best λ on the curves") <= 0.15
        assert number(at, "kNN-LM: perplexity") > number(at, "SmolLM2 alone: perplexity")
    elif name == "Lecture demo: swap the datastore, not the weights":
        own = [m for m in at.metric if m.label.endswith("own datastore against the best other")]
        assert len(own) == 2 and all(float(m.value.rstrip("%")) < -5 for m in own), [m.value for m in own]
        assert chart_count(at) == 1
    elif name == "Lecture demo: BM25 against MiniLM":
        assert chart_count(at) == 2  # every passage's two scores; recall@k
        assert metric(at, "Gold passage: BM25 rank") == "1" and metric(at, "Gold passage: dense rank") == "2"
        assert metric(at, "Recall@1, BM25 (22 questions)") == "100%"
        assert number(at, "Recall@1, dense (22 questions)") < 100
    elif name == "Lecture demo: a paraphrase only MiniLM finds":
        bm25, dense = (table.value["article"].tolist() for table in at.dataframe)
        assert dense[0] == "Abraham Lincoln" and "Abraham Lincoln" not in bm25
    elif name == "Lecture demo: a distractor misleads SmolLM2":
        assert float(next(m.delta for m in at.metric if m.label == "gold passage alone").split()[0]) > 10
        distracted = next(m.delta for m in at.metric if m.label == "distractor before the gold passage")
        assert float(distracted.split()[0]) < -1
    elif name == "Lecture demo: an exact search over 103M tokens":
        assert number(at, "output (kNN-LM): per token") > 100
    else:
        raise AssertionError(f"no check for the preset {name!r}: add one")


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_shows_its_number_on_a_fresh_page(name):
    at = click(open_page(), name)
    assert not problems(at), problems(at)
    assert at.session_state["retrieval.tab"] == PRESETS[name].tab
    shows(name, at)


def test_user_text_and_bad_values_are_messages_and_the_charts_stay():
    at = open_page()
    at.selectbox(key=setting_key("retrieval", "corpus", "knn")).set_value("user").run()
    text = at.text_area(key=setting_key("retrieval", "user_text", "knn"))
    story = "The capital of Zorbia is Quenton. Quenton lies on the river Vell, and Zorbia trades salt. " * 8
    text.set_value(story).run()
    assert not problems(at), problems(at)
    assert chart_count(at) == 3 and metric(at, "Datastore") != "1,024 tokens"
    for value, message in [("  ", "empty"), ("hello", "at least 64"), ("\x00\x01" * 50, "binary")]:
        text.set_value(value).run()
        assert not at.exception
        assert any(message in e.value for e in at.error), (message, problems(at))
        assert chart_count(at) == 3, "the last good result stays"
    text.set_value(story).run()
    at.select_slider(key=setting_key("retrieval", "k", "knn")).set_value(1024).run()
    assert not problems(at) and any("holds" in i.value for i in at.info), [i.value for i in at.info]
    at.select_slider(key=setting_key("retrieval", "n_store", "knn")).set_value(65536).run()
    assert any("over the limit" in e.value and "151 MB" in e.value for e in at.error), problems(at)
    assert chart_count(at) == 3, "the last datastore stays"


def test_a_link_out_of_range_is_a_message_and_the_chart_stays():
    at = open_page(**{setting_key("retrieval", "lam", "knn"): "1.5"})
    assert not at.exception
    assert any("cannot take here" in w.value for w in at.warning), [w.value for w in at.warning]
    assert chart_count(at) == 3


def test_retrieval_tab_own_question():
    at = open_tab(open_page(), "Retrieval")
    at.selectbox(key=setting_key("retrieval", "question", "search")).set_value(22).run()
    own = at.text_input(key=setting_key("retrieval", "own", "search"))
    own.set_value("xyzzy plugh frobozz").run()
    assert not problems(at) and any("finds nothing" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(at.dataframe) == 1 and chart_count(at) == 2, "dense retrieval still ranks the passages"
    own.set_value("   ").run()
    assert any("empty" in e.value for e in at.error) and chart_count(at) == 2, "the last search stays"
    own.set_value("Who wrote Brave New World?").run()
    assert not problems(at), problems(at)
    assert [t.value["article"].iloc[0] for t in at.dataframe] == ["Aldous Huxley", "Aldous Huxley"]
