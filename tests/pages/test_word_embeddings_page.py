"""The word-embeddings lesson (pages/word_embeddings.py) driven by AppTest; training runs on the toy world."""

import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.lessons import PAGES_DIR
from app.lessons.word_embeddings import corpus_stats, evaluation, trainer, vector_space
from models.corpora import load_corpus
from models.word_embeddings.engine import Word2VecTrainer
from models.word_embeddings.word2vec import Word2VecConfig
from tests.conftest import ENTRY, open_tab, run_page

PAGE = "word_embeddings.py"
TOY_DEMO = "Lecture demo: toy world analogies"


def charts(at) -> list[str]:
    """Names of the plotly charts on screen (show_chart keys are 'chart-<name>')."""
    return [c.proto.id.rsplit("chart-", 1)[-1] for c in at.get("plotly_chart")]


def click(at, label: str):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def toy_run(steps: int = 1):
    """The page on the toy-world preset, trained for `steps` chunks with the Step button."""
    at = click(run_page(PAGE, timeout=60), TOY_DEMO)
    for _ in range(steps):
        click(at, "⏭ Step")
    return at


def neighbours_shown(at) -> list:
    tables = [d.value for d in at.dataframe if list(d.value.columns[:3]) == ["rank", "word", "cosine"]]
    return tables[0]["word"].tolist() if tables else []


# ----------------------------------------------------------------------------- the helpers behind the page


def test_ticked_trainer_counts_one_percent_of_an_epoch_per_step():
    sentences = load_corpus("toy")[:3000]
    config = Word2VecConfig(dim=8, epochs=2, min_count=2)
    ticked = trainer.TickedTrainer(Word2VecTrainer(sentences, config))
    assert ticked.total_ticks == 200
    metrics = ticked.train_steps(10)
    assert 0.1 <= metrics["epochs"] < 0.2 and metrics["loss"] > 0  # 10 ticks of 2 epochs
    metrics = ticked.train_steps(190)  # the last tick trains to the very end
    assert ticked.done and metrics["epochs"] == pytest.approx(2.0)
    assert metrics["words_processed"] == 2 * ticked.model.vocab.total_words


def test_projection_and_word_lists():
    sentences = load_corpus("toy")[:3000]
    kv = Word2VecTrainer(sentences, Word2VecConfig(dim=8, min_count=2)).keyed_vectors()
    groups = vector_space.parse_groups("King queen; paris, france; zebra")
    assert groups == [["king", "queen"], ["paris", "france"], ["zebra"]]
    points, missing = vector_space.projection_points(kv, groups, top_n=20)
    assert missing == ["zebra"] and points["highlighted"].sum() == 4
    assert len(points) == 4 + len(set(kv.index_to_word[:20]) - {"king", "queen", "paris", "france"})
    coords, axes = vector_space.project(kv.vectors[: len(points)], "pca", 3)
    assert coords.shape == (len(points), 3) and axes[0].startswith("PC1")
    with pytest.raises(ValueError, match="at least 3 words"):
        vector_space.project(kv.vectors[:2], "pca", 2)


def test_zipf_fit_and_keep_probabilities_on_the_wiki_sample():
    frame, stats = corpus_stats.vocabulary_stats(load_corpus("wiki"))
    assert stats["tokens"] == frame["count"].sum() and frame["rank"].iloc[0] == 1
    slope, _ = corpus_stats.zipf_fit(frame, 5)
    assert -1.3 < slope < -0.8  # Zipf's law
    rows = corpus_stats.keep_frame(frame, 5, 1e-3)
    assert rows["word"].iloc[0] == "the" and rows["keep_probability"].iloc[0] < 0.2
    assert rows["keep_probability"].iloc[-1] == 1.0  # rare words are always kept
    assert corpus_stats.kept_share(frame, 5, 0.0) == 1.0


# ----------------------------------------------------------------------------- the page


def test_default_render_is_quick_and_trains_nothing():
    run_page(PAGE, timeout=60)  # warm the corpus and vocabulary caches
    start = time.perf_counter()
    at = run_page(PAGE, timeout=60)
    assert time.perf_counter() - start < 10, "a cached rerun must be fast"
    assert not at.exception and not at.error and not at.warning, errors(at)
    assert [t.label for t in at.tabs] == views_tabs()
    assert at.number_input(key="word_embeddings.dim").min == 1  # a dimension of 0 cannot be typed
    shown, infos = charts(at), [i.value for i in at.info]  # only the open tab is drawn
    for title in views_tabs()[1:]:  # each other one when opened
        open_tab(at, title)
        assert not at.exception and not at.error and not at.warning, (title, errors(at))
        shown, infos = shown + charts(at), infos + [i.value for i in at.info]
    assert shown == [
        "w2v-zipf",
        "w2v-subsampling",
        "w2v-onehot-cosines",
        "w2v-noise",
        "w2v-example",
    ]
    assert "word_embeddings:run" not in at.session_state  # nothing trains on load
    assert any("Train first" in i for i in infos)
    # the example before training: zero output vectors, every loss term log 2
    explanation = at.session_state["word_embeddings:explain"][0]
    np.testing.assert_allclose(explanation["loss_terms"][~explanation["skipped"]], np.log(2))


def views_tabs() -> list[str]:
    return [
        "Corpus",
        "One-hot vs dense",
        "Negative sampling",
        "Train live",
        "Compare two runs",
        "Evaluate",
    ]


def test_toy_preset_sets_the_widgets_and_opens_the_training_tab():
    at = click(run_page(PAGE, timeout=60), TOY_DEMO)
    assert at.selectbox(key="word_embeddings.corpus").value == "toy"
    assert at.number_input(key="word_embeddings.dim").value == 32
    assert at.number_input(key="word_embeddings.epochs").value == 2
    assert at.number_input(key="word_embeddings.min_count").value == 2
    assert at.text_input(key="word_embeddings.train.query").value == "king"
    assert at.session_state["word_embeddings.tab"] == "Train live"
    assert not at.error, errors(at)
    click(at, "Lecture demo: 5 vs 15 negatives")
    assert (
        at.slider(key="word_embeddings.negatives").value == 15
        and at.selectbox(key="word_embeddings.corpus").value == "toy"
    )


def test_no_subsampling_preset_keeps_every_word():
    at = click(run_page(PAGE, timeout=60), "Lecture demo: no subsampling")
    assert (
        at.selectbox(key="word_embeddings.subsample").value == 0.0
        and at.session_state["word_embeddings.tab"] == "Corpus"
    )
    assert next(m.value for m in at.metric if m.label == "Kept by subsampling") == "100.0%"
    assert not at.error, errors(at)


def test_step_trains_one_chunk_and_draws_the_live_view():
    at = toy_run(steps=1)
    run = at.session_state["word_embeddings:run"]
    assert run.steps_done >= 1 and run.settings["corpus"] == "toy" and run.history
    assert 0 < run.history[-1]["epochs"] < 2
    assert len(neighbours_shown(at)) == 10
    assert not at.error, errors(at)
    assert "Epoch" in [m.label for m in at.metric]
    shown = charts(at)
    for title in ("One-hot vs dense", "Evaluate"):  # the run drawn by the other tabs too
        shown += charts(open_tab(at, title))
        assert not at.error, errors(at)
    assert "Our training time" in [m.label for m in at.metric]
    for name in ["w2v-loss", "w2v-projection", "w2v-dense-cosines", "w2v-scores"]:
        assert name in shown


def test_training_to_the_end_solves_toy_analogies():
    at = toy_run(steps=1)
    run = at.session_state["word_embeddings:run"]
    while not run.finished:  # the kit's chunks grow until each takes ~0.3 s
        click(at, "⏭ Step")
        run = at.session_state["word_embeddings:run"]
    assert run.trainer.done
    open_tab(at, "Evaluate")
    entry = at.session_state["word_embeddings:evals"][run.run_id]
    analogies = entry["scores"]["analogies"]
    assert entry["scores"]["analogy_set"] == "toy" and analogies["coverage"] == 1.0
    assert analogies["accuracy"] >= 0.7
    answer = at.session_state["word_embeddings:analogy"][2]["answer"].iloc[0]
    assert answer in ("queen", "empress")  # man : king :: woman : ?


def test_unknown_query_word_is_a_message_and_the_neighbours_stay():
    at = toy_run(steps=1)
    before = neighbours_shown(at)
    at.text_input(key="word_embeddings.train.query").set_value("zyzzyva").run()
    assert not at.exception
    assert any("'zyzzyva' is not in the vocabulary" in e for e in errors(at))
    assert neighbours_shown(at) == before, "the earlier neighbours stay on screen"
    at.text_input(key="word_embeddings.train.b").set_value("").run()
    assert any("three words of the analogy" in e for e in errors(at))


def test_min_count_too_large_is_a_clear_message():
    at = click(run_page(PAGE, timeout=60), TOY_DEMO)
    at.selectbox(key="word_embeddings.corpus").set_value("user").run()
    at.text_area(key="word_embeddings.user_text").set_value("The cat sat on the mat. The dog sat too.").run()
    at.number_input(key="word_embeddings.min_count").set_value(5).run()
    assert any("vocabulary is empty" in w.value for w in at.warning)
    assert not at.exception and not at.error, errors(at)
    click(at, "▶ Start")
    assert any("vocabulary is empty" in e for e in errors(at))
    assert "word_embeddings:run" not in at.session_state


def test_window_longer_than_every_sentence_and_no_training_pairs():
    at = click(run_page(PAGE, timeout=60), TOY_DEMO)
    at.slider(key="word_embeddings.window").set_value(15).run()
    assert any("reaches past every sentence" in w.value for w in at.warning)
    at.selectbox(key="word_embeddings.corpus").set_value("user").run()
    at.text_area(key="word_embeddings.user_text").set_value("Hello. World. Again. Words.").run()
    at.number_input(key="word_embeddings.min_count").set_value(1).run()
    assert not at.exception
    click(at, "▶ Start")
    assert any("No training pairs" in e for e in errors(at))
    assert "word_embeddings:run" not in at.session_state


def test_empty_user_text_keeps_the_last_corpus_on_screen():
    at = run_page(PAGE, timeout=60)
    before = charts(at)
    at.selectbox(key="word_embeddings.corpus").set_value("user").run()
    assert not at.exception
    assert any("empty" in e for e in errors(at))
    assert charts(at) == before, "the earlier corpus and charts stay"
    assert at.session_state["word_embeddings:corpus"][0] == "wiki"


def test_negative_sampling_example_and_a_bad_word():
    at = open_tab(click(run_page(PAGE, timeout=60), TOY_DEMO), "Negative sampling")
    click(at, "🎲 A real pair from the corpus")
    centre = at.text_input(key="word_embeddings.negative_sampling.centre").value
    assert centre and at.text_input(key="word_embeddings.negative_sampling.context").value
    explanation = at.session_state["word_embeddings:explain"][0]
    assert explanation["centre_word"] == centre and len(explanation["target_words"]) == 6
    at.text_input(key="word_embeddings.negative_sampling.centre").set_value("zyzzyva").run()
    assert any("'zyzzyva' is not in the vocabulary" in e for e in errors(at))
    assert at.session_state["word_embeddings:explain"][0]["centre_word"] == centre  # the example stays
    assert "w2v-example" in charts(at)


def test_tsne_is_computed_when_training_is_paused():
    at = toy_run(steps=1)
    at.selectbox(key="word_embeddings.train.projection").set_value("tsne").run()
    assert not at.exception and not at.error, errors(at)
    key, (coords, axes) = at.session_state["word_embeddings:projection"]
    assert key[2] == "tsne" and coords.shape[1] == 2 and axes[0] == "t-SNE 1"


def test_gensim_comparison_on_the_toy_world():
    at = open_tab(toy_run(steps=1), "Evaluate")
    click(at, "Train gensim with the same settings")
    assert not at.error, errors(at)
    labels = [m.label for m in at.metric]
    assert "gensim's training time" in labels
    table = next(d.value for d in at.dataframe if "benchmark" in d.value.columns)
    assert set(table["model"]) == {"ours", "gensim"}
    gensim_analogies = table[(table.model == "gensim") & table.benchmark.str.contains("toy")]
    assert float(gensim_analogies["score"].iloc[0]) > 0.5  # gensim's vectors solve toy analogies too


def test_vectors_download_is_word2vec_text_format(tmp_path):
    from gensim.models import KeyedVectors as GensimKeyedVectors

    kv = Word2VecTrainer(load_corpus("toy")[:2000], Word2VecConfig(dim=8, min_count=2)).keyed_vectors()
    path = tmp_path / "vectors.txt"
    path.write_bytes(evaluation.word2vec_text(kv))
    loaded = GensimKeyedVectors.load_word2vec_format(str(path), binary=False)
    assert loaded.index_to_key == kv.index_to_word
    np.testing.assert_allclose(loaded["king"], kv["king"], atol=1e-6)


# ----------------------------------------------------------------------------- audit regressions


def test_typed_words_are_tokenised_like_the_corpus():
    """'King.', '(man)' or a ligature name the corpus's word; invisible characters are no word."""
    assert vector_space.parse_words("King., (queen); ﬁsh café\u200b") == [
        "king",
        "queen",
        "fish",
        "café",
    ]
    assert vector_space.parse_words("cafe\u0301") == ["café"]  # decomposed (NFD) input, NFKC as the corpus
    at = toy_run(steps=1)
    at.text_input(key="word_embeddings.train.query").set_value("King.").run()
    at.text_input(key="word_embeddings.train.a").set_value("(man)").run()
    assert not at.exception and not at.error, errors(at)
    assert len(neighbours_shown(at)) == 10 and at.session_state["word_embeddings:neighbours"][0] == "king"
    assert at.session_state["word_embeddings:analogy"][0] == ("man", "king", "woman")


def test_tsne_of_a_tiny_space():
    """t-SNE with d < the drawn dimensions (PCA init impossible)."""
    vectors = np.random.default_rng(0).random((5, 1), dtype=np.float32)
    coords, _ = vector_space.project(vectors, "tsne", 3)
    assert coords.shape == (5, 3) and np.isfinite(coords).all()


@pytest.mark.slow  # numba compiles UMAP's kernels on a fresh machine: ~22 s of CPU alone, minutes under load
def test_umap_of_a_tiny_space():
    """UMAP of a handful of words (spectral init needs more points than three)."""
    vectors = np.random.default_rng(0).random((3, 1), dtype=np.float32)
    coords, _ = vector_space.project(vectors, "umap", 2)
    assert coords.shape == (3, 2) and np.isfinite(coords).all()


def test_every_step_on_a_small_text_trains_a_batch():
    """One batch spans more than a tick on a small text: each Step still trains (finite loss)."""
    at = run_page(PAGE, timeout=60)
    at.selectbox(key="word_embeddings.corpus").set_value("user").run()
    text = "The quick brown fox jumps over the lazy dog. " * 300
    at.text_area(key="word_embeddings.user_text").set_value(text).run()
    at.number_input(key="word_embeddings.min_count").set_value(1).run()
    open_tab(at, "Train live")
    for _ in range(3):
        click(at, "⏭ Step")
    history = at.session_state["word_embeddings:run"].history
    assert all(np.isfinite(row["loss"]) for row in history), history
    epochs = [row["epochs"] for row in history]
    assert epochs == sorted(epochs) and len(set(epochs)) == 3, epochs


# ----------------------------------------------------------------------------- lecture-ready (issue 15)


def metric(at, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


def test_unigram_noise_preset_lands_on_negative_sampling_with_noise_equal_to_unigram():
    at = click(run_page(PAGE, timeout=60), "Lecture demo: unigram noise (α = 1)")
    assert at.session_state["word_embeddings.tab"] == "Negative sampling"
    assert at.slider(key="word_embeddings.ns_exponent").value == 1.0
    share = metric(at, "10 most frequent words, share of the corpus")[0]
    assert metric(at, "… share of the noise draws (α = 1)") == [share]  # α = 1: noise = unigram


def test_five_vs_fifteen_negatives_lands_on_the_scores_of_both():
    at = click(run_page(PAGE, timeout=60), "Lecture demo: 5 vs 15 negatives")
    assert at.session_state["word_embeddings.tab"] == "Compare two runs"
    assert at.radio(key="word_embeddings.compare.compare").value == "negatives"
    next(b for b in at.button if b.key == "word_embeddings-compare:step").click().run()
    run = at.session_state["word_embeddings-compare:run"]
    assert list(run.trainer.configs) == ["K = 5", "K = 15"]
    while not run.trainer.done:  # train both to the end (the Step button does it chunk by chunk)
        run.trainer.train_steps(50)
    run.steps_done = run.total_steps
    at.run()
    assert not at.exception and not at.error, errors(at)
    solved = [float(v) for v in metric(at, "Analogies solved")]
    assert len(solved) == 2 and min(solved) > 0.6, solved  # both work; the scores compare them
    assert any("not comparable" in str(c.proto) for c in at.get("plotly_chart"))


def test_skipgram_vs_cbow_preset_lands_on_the_comparison_with_cbows_own_rate():
    at = click(run_page(PAGE, timeout=60), "Lecture demo: skip-gram vs CBOW")
    assert at.session_state["word_embeddings.tab"] == "Compare two runs"
    assert at.selectbox(key="word_embeddings.corpus").value == "wiki"
    assert at.number_input(key="word_embeddings.compare.compare_cbow_lr").value == 0.1
    assert at.number_input(key="word_embeddings.compare.compare_sg_lr").value == 0.025


@pytest.mark.slow
def test_skipgram_and_cbow_both_work_at_the_presets_rates():
    """The preset's claim on the Wikipedia sample: neither collapses (cosines of 'january''s
    neighbours below 1, months among them) and both score on WordSim-353."""
    from app.lessons.word_embeddings.trainer import CBOW_LR, PairTrainer
    from models.word_embeddings.evaluation import evaluate_word_pairs

    configs = {
        "sg": Word2VecConfig(epochs=3),
        "cbow": Word2VecConfig(arch="cbow", lr=CBOW_LR, epochs=3),
    }
    pair = PairTrainer(load_corpus("wiki"), configs, "cpu")
    while not pair.done:
        pair.train_steps(100)
    for ticked in pair.trainers.values():
        kv = ticked.keyed_vectors()
        neighbours = kv.most_similar("january", k=5)
        assert neighbours[0][1] < 0.999 and {"february", "november", "july"} & {w for w, _ in neighbours}
        assert evaluate_word_pairs(kv, "wordsim353")["spearman"] > 0.08


def test_query_words_follow_the_corpus():
    at = run_page(PAGE, timeout=60)
    assert at.session_state["word_embeddings.train.query"] == "january"  # on a tab not open yet
    at.selectbox(key="word_embeddings.corpus").set_value("toy").run()
    assert at.session_state["word_embeddings.train.query"] == "king"
    open_tab(at, "Train live")
    assert at.text_input(key="word_embeddings.train.query").value == "king"
    assert at.text_input(key="word_embeddings.train.a").value == "man"


def test_stale_neighbours_are_marked():
    at = toy_run(steps=1)
    at.text_input(key="word_embeddings.train.query").set_value("zyzzyva").run()
    assert any("stale" in m.value for m in at.markdown)


def test_a_link_sets_the_settings():
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.query_params.update({"word_embeddings.negatives": "15", "word_embeddings.ns_exponent": "0.5"})
    at.switch_page(str(PAGES_DIR / PAGE))
    at.run()
    assert at.slider(key="word_embeddings.negatives").value == 15
    assert at.slider(key="word_embeddings.ns_exponent").value == 0.5


def test_projection_labels_do_not_overlap():
    x = np.array([0.0, 0.001, 0.5, 1.0, 1.0])
    y = np.array([0.0, 0.0, 0.5, 1.0, 0.999])
    assert vector_space.spaced_labels(x, y).tolist() == [True, False, True, True, False]


def test_probability_axes_use_powers_of_ten():
    from app.lessons.word_embeddings import negative_sampling

    frame, _ = corpus_stats.vocabulary_stats(load_corpus("toy")[:2000])
    rows = negative_sampling.noise_frame(frame, 2, 0.75, top=20)
    fig = negative_sampling.noise_figure(rows, 0.75)
    assert fig.layout.yaxis.exponentformat == "power" and fig.layout.yaxis.dtick == 1
    assert fig.layout.title.text


def test_start_waits_while_the_text_is_not_valid():
    """Invalid text is a message, and Start does not train on the text before it (it says why it waits)."""
    at = open_tab(run_page(PAGE, timeout=60), "Train live")
    at.selectbox(key="word_embeddings.corpus").set_value("user").run()
    at.text_area(key="word_embeddings.user_text").set_value("The cat sat on the mat. The dog sat too. " * 20).run()
    assert not at.button(key="word_embeddings:start").disabled
    at.text_area(key="word_embeddings.user_text").set_value("\x00\xff\x01" * 50).run()
    assert any("binary" in e.value for e in at.error)
    assert at.button(key="word_embeddings:start").disabled
    assert any("Start waits" in c.value for c in at.caption)
