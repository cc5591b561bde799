"""The embedding-spaces page driven by AppTest: default render, presets on their tab with the number that shows
their claim, semantic search, the word2vec run as a space, and bad input kept to a message."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ENTRY, open_tab, reveal

ROOT = Path(__file__).resolve().parents[2]
SLUG = "embedding_spaces"


def open_page(**state) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=180)
    at.switch_page(str(ROOT / "pages" / f"{SLUG}.py"))
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def click_preset(at, name: str) -> AppTest:
    return at.button(key=f"{SLUG}:preset-{name}").click().run()


def test_default_render_answers_the_analogy_and_follows_bank(smollm2, minilm):
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert metrics(at)["man : king :: woman : ?"] == "queen"
    drawn = len(at.get("plotly_chart"))  # only the open tab is drawn; each other one when opened
    for tab in at.tabs[1:]:
        drawn += len(open_tab(at, tab.label).get("plotly_chart"))
        assert not at.exception and not at.error, (tab.label, [e.value for e in at.error])
        if tab.label == "Static vs contextual":
            shown = metrics(at)
            assert float(shown["Same sense, layer 6"]) > float(shown["Different senses, layer 6"])
    assert drawn >= 8


def test_presets_open_their_tab_with_their_number(smollm2, minilm):
    at = open_page()
    click_preset(at, "Lecture demo: Play: a game, a theatre, the piano (SmolLM2)")
    assert not at.exception and not at.error
    assert at.session_state[f"{SLUG}.tab"] == "Static vs contextual"
    shown = metrics(at)
    assert float(shown["Same sense, layer 12"]) > float(shown["Different senses, layer 12"])
    click_preset(at, "Lecture demo: Grammar as a direction: walk → walked, go → ?")
    assert at.session_state[f"{SLUG}.tab"] == "Neighbours and analogies"
    assert at.session_state[f"{SLUG}.contextual.context_word"] == "bank", (
        "a preset resets what it does not name (a setting of a tab that is not open)"
    )
    assert metrics(at)["walk : walked :: go : ?"] in ("goes", "went")
    click_preset(at, "Lecture demo: 430k words against 2 trillion tokens")
    assert at.session_state[f"{SLUG}.tab"] == "Benchmarks"
    scores = next(d.value for d in at.dataframe if "WordSim-353" in d.value.columns)
    assert scores.loc["MiniLM-L6 tokens", "WordSim-353"] > 0.5
    assert scores.loc["SmolLM2-135M tokens", "WordSim-353"] > 0.3
    click_preset(at, "Lecture demo: Paraphrases find each other (sentence vectors)")
    assert at.session_state[f"{SLUG}.tab"] == "Sentence vectors"
    assert float(metrics(at)["Mean cosine to the nearest other sentence"]) > 0.6


def test_bad_input_gives_a_message_and_keeps_the_last_result(smollm2, minilm):
    at = open_page()
    charts = len(at.get("plotly_chart"))
    at.text_input(key=f"{SLUG}.neighbours.word").set_value("kingg").run()
    assert not at.exception
    assert any("'king' + 'g'" in e.value and "Close spellings" in e.value for e in at.error)
    assert len(at.get("plotly_chart")) == charts, "the earlier neighbours stay on screen"
    at.text_input(key=f"{SLUG}.neighbours.word").set_value("king").run()
    reveal(at, f"{SLUG}.contextual.context_word")
    at.text_input(key=f"{SLUG}.contextual.context_word").set_value("banks").run()
    assert any("does not occur" in e.value for e in at.error)
    assert metrics(at)["Occurrences found"] == "6", "the last contextual result stays"
    at.text_input(key=f"{SLUG}.contextual.context_word").set_value("bank").run()
    reveal(at, f"{SLUG}.sentences.sentences")
    at.text_area(key=f"{SLUG}.sentences.sentences").set_value("  \n ").run()
    assert any("empty" in e.value for e in at.error)
    at.text_area(key=f"{SLUG}.sentences.sentences").set_value("x\n" * 100).run()
    assert any("at most 40" in e.value for e in at.error)
    assert "Mean cosine to the nearest other sentence" in metrics(at), "the last sentences stay"
    at.text_area(key=f"{SLUG}.sentences.sentences").set_value("The cat sat.\nA kitten rested.").run()
    at.button(key=f"{SLUG}:search-button").click().run()
    assert not at.exception and not at.error
    hits = at.dataframe[-1].value
    assert len(hits) == 5 and hits["cosine"].is_monotonic_decreasing


@pytest.fixture
def word2vec_run():
    from app.lessons.word_embeddings.trainer import TickedTrainer
    from app.training import TrainingRun
    from models.word_embeddings.engine import Word2VecTrainer
    from models.word_embeddings.word2vec import Word2VecConfig

    sentences = [["the", "king", "and", "the", "queen", "rule", "the", "land"]] * 50
    # what the Word embeddings page keeps in its run: the engine wrapped in ticks of 1 % of an epoch
    trainer = TickedTrainer(Word2VecTrainer(sentences, Word2VecConfig(dim=16, min_count=1, epochs=1)))
    trainer.train_steps(2)
    return TrainingRun(trainer=trainer, total_steps=10, settings={}, steps_done=2)


def test_word2vec_run_of_this_session_is_a_space(smollm2, minilm, word2vec_run):
    at = open_page(**{"word_embeddings:run": word2vec_run})
    assert not at.exception, [e.value for e in at.exception]
    assert any("Your word2vec run (2 steps" in o for o in at.selectbox(key=f"{SLUG}.space").options)
    at.selectbox(key=f"{SLUG}.space").select_index(2).run()
    assert at.session_state[f"{SLUG}.space"] == "word2vec"
    assert not at.exception
    assert any("is not in the vocabulary" in e.value for e in at.error), [e.value for e in at.error]
    assert len(at.dataframe[0].value.columns) == 3, "the compare table has a column per space"
