"""The n-gram smoothing lesson (pages/ngrams.py) driven by AppTest on the default Wikipedia sample."""

import base64
import json
import time

import numpy as np
from streamlit.testing.v1 import AppTest

from models.ngrams.model import NGramLM, same_vocabulary
from tests.conftest import ENTRY, PAGES_DIR, open_tab, reveal, run_page

PAGE = "ngrams.py"


def run_with_url(**query) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=30)
    at.query_params.update(query)
    at.switch_page(str(PAGES_DIR / PAGE))
    return at.run()


def charts(at) -> dict[str, dict]:
    """Plotly charts on screen by key suffix (ngrams:chart-...), as their JSON specs."""
    return {c.proto.id.rsplit("ngrams:", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def every_chart(at) -> dict[str, dict]:
    """The charts of every tab (a lesson draws only the open one: each is opened in turn, then the first again)."""
    shown = {}
    for tab in at.tabs:
        shown |= charts(open_tab(at, tab.label))
        assert not at.exception and not at.error and not at.warning, tab.label
    open_tab(at, at.tabs[0].label)
    return shown


def values(field) -> list:
    """A trace's x or y: a list, or plotly's base64 typed array {"dtype", "bdata"}."""
    if isinstance(field, dict):
        return np.frombuffer(base64.b64decode(field["bdata"]), dtype=field["dtype"]).tolist()
    return list(field)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    return at.run()


def test_default_render_is_quick_and_complete():
    run_page(PAGE, timeout=180)  # warm the shared corpus and count caches (slow on a busy CPU)
    start = time.perf_counter()
    at = run_page(PAGE)
    assert time.perf_counter() - start < 10, "a cached rerun must be fast"
    assert not at.exception and not at.error and not at.warning
    assert float(metric(at, "Held-out perplexity").replace(",", "")) > 1
    shown = every_chart(at)
    for name in ["next-words", "mass", "continuation", "left", "order", "k", "discount", "lambdas"]:
        assert f"chart-{name}" in shown
    assert "chart-scores" in shown
    # the San Francisco effect is found in the corpus itself
    gap_words = open_tab(at, "Kneser-Ney's idea").dataframe[0].value["word"].tolist()
    assert "york" in gap_words or "angeles" in gap_words
    # stupid backoff is never in the perplexity curves
    names = [trace.get("name") for trace in shown["chart-order"]["data"]]
    assert "Kneser-Ney" in names and not any("stupid" in str(n) for n in names)


def test_add_one_preset_changes_widgets_and_charts():
    at = run_page(PAGE)
    before_ppl = metric(at, "Held-out perplexity")
    before_scores = charts(open_tab(at, "Score a sentence"))["chart-scores"]
    at = click(at, "Lecture demo: add-one is terrible")
    assert not at.exception and not at.error
    assert at.selectbox(key="ngrams.smoothing").value == "add_k"
    assert at.number_input(key="ngrams.k").value == 1.0
    assert metric(at, "Held-out perplexity") != before_ppl
    unseen = next(t for t in charts(at)["chart-mass"]["data"] if t["name"].startswith("to words never"))
    by_smoothing = dict(zip(values(unseen["x"]), values(unseen["y"])))
    assert by_smoothing["add-k"] > 0.5 > by_smoothing["Kneser-Ney"], "add-one moves most of the mass"
    assert by_smoothing["MLE"] == 0
    rescored = charts(open_tab(at, "Score a sentence"))["chart-scores"]
    assert rescored != before_scores, "the sentence is rescored with add-one"


def test_zero_counts_break_mle_preset():
    at = click(run_page(PAGE), "Lecture demo: zero counts break MLE")
    assert not at.exception and not at.error
    assert metric(at, "Perplexity of this sentence") == "∞"
    assert any("probability 0" in w.value for w in at.warning)


def test_sentence_of_unknown_words_is_scored_with_oov_marks():
    at = reveal(run_page(PAGE), "ngrams.sentence.sentence")
    at.text_input(key="ngrams.sentence.sentence").set_value("zqxv wvvqz").run()
    assert not at.exception and not at.error
    assert any("outside the vocabulary" in w.value for w in at.warning)
    assert metric(at, "Out-of-vocabulary words") == "2"
    assert metric(at, "Perplexity of this sentence") not in ("∞", "not defined")
    assert "&lt;unk&gt;" in " ".join(m.value for m in at.markdown)


def test_bad_input_shows_a_message_and_keeps_results():
    at = run_page(PAGE)
    before = charts(at)
    ppl = metric(at, "Held-out perplexity")
    at.number_input(key="ngrams.k").set_value(0.0).run()
    assert not at.exception
    assert any("k (the add-k pseudo-count) must be above 0" in e.value for e in at.error)
    assert charts(at) == before and metric(at, "Held-out perplexity") == ppl
    at.number_input(key="ngrams.k").set_value(1.0)
    at.number_input(key="ngrams.discount").set_value(0.0).run()
    assert any("discount must be in (0, 1]" in e.value for e in at.error)
    at.number_input(key="ngrams.discount").set_value(0.75).run()
    reveal(at, "ngrams.counts.context").text_input(key="ngrams.counts.context").set_value("  ").run()
    assert any("context is empty" in e.value for e in at.error)
    assert "chart-next-words" in charts(at), "the earlier table and charts stay"
    reveal(at, "ngrams.sentence.sentence").text_input(key="ngrams.sentence.sentence").set_value("!!").run()
    assert any("sentence has no words" in e.value for e in at.error)
    assert "chart-scores" in charts(at)
    reveal(at, "ngrams.kneser_ney.word").text_input(key="ngrams.kneser_ney.word").set_value("zqxvw").run()
    assert any("not in this corpus's vocabulary" in e.value for e in at.error)
    assert not at.exception


def test_pinned_model_with_another_vocabulary_warns():
    at = click(open_tab(run_page(PAGE), "Vocabulary cut"), "📌 Pin this model (perplexity + vocabulary)")
    open_tab(at, "Perplexity curves")
    assert not at.exception and not at.warning, "the same vocabulary is comparable"
    assert any("📌" in str(t.get("name")) for t in charts(at)["chart-order"]["data"])
    open_tab(at, "Vocabulary cut")
    at.number_input(key="ngrams.min_count").set_value(2).run(timeout=180)  # recounts the corpus
    assert not at.exception and not at.error
    assert any("Not comparable" in w.value for w in at.warning)
    assert int(metric(at, "Vocabulary size").replace(",", "")) < 33_000


def test_user_text_too_small_to_split_is_a_message():
    at = open_tab(run_page(PAGE), "Perplexity curves")
    at.selectbox(key="ngrams.corpus").set_value("user").run()
    assert any("empty" in e.value for e in at.error)
    assert "chart-order" in charts(at), "the Wikipedia results stay"
    at.text_area(key="ngrams.user_text").set_value("One sentence only").run()
    assert any("at least 2 sentences" in e.value for e in at.error)
    assert not at.exception


def test_same_vocabulary_accepts_a_pinned_word_list():
    train = [["a", "b", "a"], ["a", "c"]]
    lm = NGramLM(order=2).fit(train)
    assert same_vocabulary(tuple(lm.vocab), lm)
    assert not same_vocabulary(lm.vocab[:-1], lm.counts)


def test_kneser_ney_presets_show_the_continuation_effect():
    at = click(run_page(PAGE), "Lecture demo: KN vs absolute discounting")
    assert not at.exception and not at.error
    table = at.dataframe[0].value.set_index("next word")
    assert table.loc["york", "Kneser-Ney"] < table.loc["york", "abs. discounting"]
    at = click(at, "Lecture demo: the San Francisco effect")
    assert at.text_input(key="ngrams.kneser_ney.word").value == "york"
    left = charts(at)["chart-left"]["data"][0]
    assert values(left["x"])[0] == "new"


def test_min_count_sweep_draws_its_curve():
    at = click(open_tab(run_page(PAGE), "Vocabulary cut"), "Sweep min_count (recounts the corpus 6 times)")
    assert not at.exception and not at.error
    sweep = charts(at)["chart-sweep"]["data"]
    sizes = [int(t.replace(",", "").split()[0]) for t in values(sweep[0]["text"])]
    assert sizes == sorted(sizes, reverse=True), "a harsher cut, a smaller vocabulary"


def test_url_reproduces_the_view_and_bad_url_values_are_messages():
    at = run_with_url(**{"ngrams.smoothing": "add-k", "ngrams.order": "2", "ngrams.counts.context": "new"})
    assert not at.exception and not at.error
    assert at.selectbox(key="ngrams.smoothing").value == "add_k" and at.slider(key="ngrams.order").value == 2
    assert "york" in at.dataframe[0].value["next word"].tolist()
    at = run_with_url(**{"ngrams.order": "9", "ngrams.k": "0"})  # out of the widgets' ranges
    assert not at.exception
    assert at.slider(key="ngrams.order").value == 3
    assert any("“Order n” to “9”, which it cannot take here" in w.value for w in at.warning)


def test_thousands_of_extra_next_words_are_capped():
    extra = " ".join(f"w{i}" for i in range(500))
    at = run_with_url(**{"ngrams.counts.extra": extra})
    assert not at.exception and not at.error
    assert any("first 20 of the 500 extra words" in i.value for i in at.info)
    assert len(at.dataframe[0].value) <= 30 + 20


def test_lowercase_user_text_explains_how_sentences_are_split():
    at = open_tab(run_page(PAGE), "Perplexity curves")
    at.selectbox(key="ngrams.corpus").set_value("user").run()
    at.text_area(key="ngrams.user_text").set_value("hello world. goodbye moon.").run()
    assert any("line break" in e.value for e in at.error)
    assert "chart-order" in charts(at) and not at.exception


def test_every_preset_lands_on_its_tab_with_the_number_that_shows_its_claim():
    from app.lessons.ngrams import PRESETS

    def fresh(preset: str) -> AppTest:
        at = click(run_page(PAGE), preset)
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert at.session_state["ngrams.tab"] == PRESETS[preset].tab
        return at

    at = fresh("Lecture demo: add-one is terrible")
    assert at.session_state["ngrams.tab"] == "Counts and smoothing"
    unseen = next(t for t in charts(at)["chart-mass"]["data"] if t["name"].startswith("to words never"))
    assert dict(zip(values(unseen["x"]), values(unseen["y"])))["add-k"] > 0.5
    at = fresh("Lecture demo: zero counts break MLE")
    assert at.session_state["ngrams.tab"] == "Score a sentence"
    assert metric(at, "Perplexity of this sentence") == "∞"
    at = fresh("Lecture demo: KN vs absolute discounting")
    table = at.dataframe[0].value.set_index("next word")
    assert table.loc["york", "Kneser-Ney"] < table.loc["york", "abs. discounting"] / 2
    at = fresh("Lecture demo: the San Francisco effect")
    assert at.session_state["ngrams.tab"] == "Kneser-Ney's idea"
    assert values(charts(at)["chart-left"]["data"][0]["x"])[0] == "new"
    at = fresh("Lecture demo: the vocabulary cut")
    assert at.session_state["ngrams.tab"] == "Vocabulary cut"
    assert metric(at, "min_count") == "5"
    assert int(metric(at, "Vocabulary size").replace(",", "")) < 20_000


def test_a_preset_resets_what_the_previous_one_set():
    at = click(run_page(PAGE), "Lecture demo: add-one is terrible")
    at = click(at, "Lecture demo: the San Francisco effect")
    assert at.selectbox(key="ngrams.smoothing").value == "kneser_ney", "no add-k left over"
    assert at.session_state["ngrams.counts.context"] == "of the"  # a setting of a tab not open
    assert at.session_state["ngrams.tab"] == "Kneser-Ney's idea"


def test_new_links_name_settings_by_their_config_fields():
    at = run_with_url(**{"ngrams.smoothing": "add-k", "ngrams.order": "2", "ngrams.tab": "Generate"})
    assert not at.exception and not at.error
    assert at.selectbox(key="ngrams.smoothing").value == "add_k"
    assert at.slider(key="ngrams.order").value == 2
    assert at.session_state["ngrams.tab"] == "Generate"


def test_every_chart_has_a_title_and_no_si_probability_ticks():
    at = click(run_page(PAGE), "Lecture demo: KN vs absolute discounting")  # log axis on
    shown = charts(at)
    for name, spec in shown.items():
        title = spec["layout"].get("title", {})
        assert title.get("text"), f"{name} has no title"
    y_axis = shown["chart-next-words"]["layout"]["yaxis"]
    assert y_axis["type"] == "log" and y_axis["exponentformat"] == "e" and y_axis["dtick"] == 1
