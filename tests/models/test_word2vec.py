"""Word2vec against trusted references: gensim's tables and queries, word2vec.c's update (numpy)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from models.word_embeddings.engine import Word2VecTrainer, alias_table, train_word2vec
from models.word_embeddings.evaluation import (
    KeyedVectors,
    WordNotInVocabularyError,
    evaluate_analogies,
    evaluate_word_pairs,
    explain_pair,
)
from models.word_embeddings.word2vec import (
    MAX_EXP,
    Word2VecConfig,
    build_vocab,
    cbow_update,
    keep_probabilities,
    noise_distribution,
    skipgram_update,
)

needs_gensim = pytest.mark.skipif(
    importlib.util.find_spec("gensim") is None, reason="the reference, gensim, is not installed"
)


def zipf_corpus(n_words=300, n_tokens=20_000, sentence_length=10, seed=0) -> list[list[str]]:
    """Sentences of words w0..w{n-1} with Zipfian frequencies (few frequent words, many rare)."""
    rng = np.random.default_rng(seed)
    p = 1 / np.arange(1, n_words + 1)
    tokens = rng.choice(n_words, size=n_tokens, p=p / p.sum())
    words = [f"w{i}" for i in tokens]
    return [words[i : i + sentence_length] for i in range(0, n_tokens, sentence_length)]


def gensim_vocab(sentences, **kwargs):
    from gensim.models import Word2Vec

    model = Word2Vec(vector_size=8, min_count=1, workers=1, seed=0, **kwargs)
    model.build_vocab(sentences)
    return model


# ---- the tables: noise distribution and subsampling ----------------------------------------------


@needs_gensim
@pytest.mark.parametrize("exponent", [0.75, 0.5, 1.0])
def test_noise_distribution_equals_gensim_cum_table(exponent):
    sentences = zipf_corpus()
    model = gensim_vocab(sentences, ns_exponent=exponent, negative=5)
    counts = np.array([model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key])
    vocab = build_vocab(sentences, min_count=1)
    assert dict(zip(vocab.words, vocab.counts.tolist())) == dict(zip(model.wv.index_to_key, counts.tolist()))
    domain = 2**31 - 1  # gensim's cum_table[i] = round(P(noise <= i) * domain)
    probabilities = noise_distribution(counts, exponent)
    table = np.round(np.cumsum(probabilities) * domain).astype(np.int64)
    assert np.abs(table - model.cum_table.astype(np.int64)).max() <= 1
    increments = np.diff(model.cum_table.astype(np.int64), prepend=0) / domain
    np.testing.assert_allclose(probabilities, increments, atol=2 / domain)


@needs_gensim
@pytest.mark.parametrize("sample", [1e-3, 1e-2, 0.0])
def test_keep_probabilities_equal_gensim(sample):
    sentences = zipf_corpus()
    model = gensim_vocab(sentences, sample=sample)
    words = model.wv.index_to_key
    counts = np.array([model.wv.get_vecattr(w, "count") for w in words])
    gensim_keep = np.array([model.wv.get_vecattr(w, "sample_int") for w in words]) / 2**32
    ours = keep_probabilities(counts, sample)
    np.testing.assert_allclose(ours, gensim_keep, atol=1e-8)
    if sample:
        assert ours.min() < 0.5  # the frequent words really are downsampled


def test_alias_sampler_draws_the_noise_distribution():
    probabilities = noise_distribution(np.array([500, 120, 60, 60, 9, 5, 5, 1]), 0.75)
    accept, alias = alias_table(probabilities)
    size = len(probabilities)
    implied = accept / size + np.bincount(alias, weights=(1 - accept) / size, minlength=size)
    np.testing.assert_allclose(implied, probabilities, atol=1e-12)
    # and the trainer's sampler, empirically, within 5 standard errors
    trainer = Word2VecTrainer(zipf_corpus(n_words=50), Word2VecConfig(dim=4, min_count=1))
    n = 400_000
    draws = trainer.sample_negatives((n,)).numpy()
    frequencies = np.bincount(draws, minlength=len(trainer.vocab.words)) / n
    p = trainer.noise_probabilities
    assert np.all(np.abs(frequencies - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-6)


# ---- examples: windows and subsampling -----------------------------------------------------------


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_examples_follow_word2vec_windows(arch):
    """The examples are word2vec.c's loop over the subsampled sentences with the drawn windows."""
    sentences = zipf_corpus(n_words=40, n_tokens=3_000, sentence_length=7)
    config = Word2VecConfig(arch=arch, dim=4, window=3, min_count=1, shuffle=False, batch_size=10**6)
    trainer = Word2VecTrainer(sentences, config)
    trainer._next_batch()
    ids, sentence_ids, windows, _ = (t.numpy() for t in trainer._epoch)
    expected = []  # word2vec.c: for each position, context positions within its reduced window
    for position in range(len(ids)):
        same = [
            c
            for c in range(position - windows[position], position + windows[position] + 1)
            if c != position and 0 <= c < len(ids) and sentence_ids[c] == sentence_ids[position]
        ]
        if arch == "skipgram":
            expected += [(ids[c], ids[position]) for c in same]
        elif same:
            expected.append((tuple(ids[c] for c in same), ids[position]))
    if arch == "skipgram":
        contexts, words = (t.numpy() for t in trainer._buffer)
        assert list(zip(contexts, words)) == expected
    else:
        contexts, _, starts, words = (t.numpy() for t in trainer._buffer)
        bounds = [*starts, len(contexts)]
        got = [(tuple(contexts[bounds[i] : bounds[i + 1]]), words[i]) for i in range(len(words))]
        assert got == expected
    assert set(np.unique(windows)) == {1, 2, 3}


def test_subsampling_keeps_words_at_word2vec_rate():
    sentences = zipf_corpus(n_words=100, n_tokens=60_000)
    trainer = Word2VecTrainer(sentences, Word2VecConfig(dim=4, min_count=1, subsample=1e-2, epochs=1))
    trainer._next_batch()
    kept = np.bincount(trainer._epoch[0].numpy(), minlength=len(trainer.vocab.words))
    counts, p = trainer.vocab.counts, trainer.keep_probabilities
    frequent = counts > 1000
    assert p[frequent].min() < 0.5  # the most frequent words are really downsampled
    tolerance = 5 * np.sqrt(counts * p * (1 - p)) + 1
    assert np.all(np.abs(kept - counts * p)[frequent] <= tolerance[frequent])


# ---- the update: word2vec.c's negative-sampling SGD in plain numpy -------------------------------


def sigmoid_like_word2vec_c(f: float) -> float:
    if f > MAX_EXP:
        return 1.0
    if f < -MAX_EXP:
        return 0.0
    return 1.0 / (1.0 + np.exp(-f))  # word2vec.c reads this from expTable


def reference_negative_sampling(syn0, syn1neg, hidden, word, negatives, alpha):
    """word2vec.c's loop for one example: returns neu1e and updates syn1neg in place."""
    neu1e = np.zeros_like(hidden)
    for d, target in enumerate([word, *negatives]):
        if d > 0 and target == word:
            continue
        label = 1.0 if d == 0 else 0.0
        f = hidden @ syn1neg[target]
        g = (label - sigmoid_like_word2vec_c(f)) * alpha
        neu1e += g * syn1neg[target]
        syn1neg[target] += g * hidden
    return neu1e


def reference_skipgram(syn0, syn1neg, context, word, negatives, alpha):
    neu1e = reference_negative_sampling(syn0, syn1neg, syn0[context].copy(), word, negatives, alpha)
    syn0[context] += neu1e


def reference_cbow(syn0, syn1neg, contexts, word, negatives, alpha):
    neu1 = syn0[contexts].mean(axis=0)  # cbow_mean = 1
    neu1e = reference_negative_sampling(syn0, syn1neg, neu1, word, negatives, alpha)
    for c in contexts:  # every context word gets the whole neu1e
        syn0[c] += neu1e


def random_vectors(trainer, scale, seed=0):
    rng = np.random.default_rng(seed)
    V, d = trainer.w_in.shape
    trainer.w_in.copy_(torch.tensor(rng.normal(0, scale, (V, d)), dtype=torch.float32))
    trainer.w_out.copy_(torch.tensor(rng.normal(0, scale, (V, d)), dtype=torch.float32))
    return trainer.w_in.numpy().astype(np.float64), trainer.w_out.numpy().astype(np.float64)


def small_trainer(arch="skipgram", negatives=3, **kwargs):
    sentences = zipf_corpus(n_words=200, n_tokens=5_000)
    config = Word2VecConfig(arch=arch, dim=16, negatives=negatives, min_count=1, **kwargs)
    return Word2VecTrainer(sentences, config)


def test_skipgram_batch_equals_word2vec_c_updates():
    """A batch of pairs sharing no row equals word2vec.c's updates applied pair after pair."""
    trainer = small_trainer(negatives=3)
    syn0, syn1neg = random_vectors(trainer, scale=1.0)  # large vectors: some |f| > MAX_EXP hit the clipping
    rows = np.random.default_rng(1).permutation(len(trainer.vocab.words))
    contexts, words, negatives = rows[:20], rows[20:40], rows[40:100].reshape(20, 3)
    negatives[0, 1] = words[0]  # a noise word equal to the word is skipped, as in word2vec.c
    alpha = 0.025
    for i in range(20):
        reference_skipgram(syn0, syn1neg, contexts[i], words[i], negatives[i], alpha)
    hidden = torch.tensor(syn0[contexts[0]])
    assert (torch.tensor(syn1neg[words]) @ hidden).abs().max() > MAX_EXP  # the clipping is exercised
    as_t = torch.from_numpy
    trainer._skipgram_step(as_t(contexts), as_t(words), alpha, negatives=as_t(negatives))
    np.testing.assert_allclose(trainer.w_in.numpy(), syn0, atol=1e-5)
    np.testing.assert_allclose(trainer.w_out.numpy(), syn1neg, atol=1e-5)


def test_cbow_batch_equals_word2vec_c_updates():
    trainer = small_trainer(arch="cbow", negatives=3)
    syn0, syn1neg = random_vectors(trainer, scale=0.5)
    rows = np.random.default_rng(2).permutation(len(trainer.vocab.words))
    windows = [list(rows[0:4]), list(rows[4:6]), [rows[6], rows[7], rows[6]], list(rows[8:13])]
    words, negatives = rows[20:24], rows[30:42].reshape(4, 3)
    alpha = 0.05
    for window, word, noise in zip(windows, words, negatives):
        reference_cbow(syn0, syn1neg, window, word, noise, alpha)
    contexts = torch.tensor([c for w in windows for c in w])
    slot_rows = torch.tensor([i for i, w in enumerate(windows) for _ in w])
    starts = torch.tensor(np.cumsum([0] + [len(w) for w in windows[:-1]]))
    trainer._cbow_step(contexts, slot_rows, starts, torch.tensor(words), alpha, negatives=torch.tensor(negatives))
    np.testing.assert_allclose(trainer.w_in.numpy(), syn0, atol=1e-5)
    np.testing.assert_allclose(trainer.w_out.numpy(), syn1neg, atol=1e-5)


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_batch_size_one_training_is_word2vec_c_sequential_sgd(arch):
    """With one example per step, training replays exactly as word2vec.c's sequential SGD.

    The noise words of one example are drawn distinct here: when a noise word comes twice in one
    example, word2vec.c scores the second draw against the vector the first one just updated, we
    against the same snapshot (a difference of order lr**2).
    """
    trainer = small_trainer(arch=arch, batch_size=1, epochs=1)
    syn0, syn1neg = (t.numpy().astype(np.float64) for t in (trainer.w_in, trainer.w_out))
    rng, log, V = np.random.default_rng(0), [], len(trainer.vocab.words)

    def distinct_noise(shape):
        log.append(torch.from_numpy(rng.choice(V, size=shape[1], replace=False)[None]))
        return log[-1]

    trainer.sample_negatives = distinct_noise
    step = trainer._cbow_step if arch == "cbow" else trainer._skipgram_step
    steps = []
    setattr(trainer, f"_{arch}_step", lambda *args, lr: steps.append((args, lr)) or step(*args, lr=lr))
    trainer.train_steps(300)
    for (args, lr), negatives in zip(steps, log):
        if arch == "skipgram":
            reference_skipgram(syn0, syn1neg, int(args[0]), int(args[1]), negatives[0].tolist(), lr)
        else:
            reference_cbow(syn0, syn1neg, args[0].tolist(), int(args[3]), negatives[0].tolist(), lr)
    assert len(steps) == 300 and steps[0][1] > steps[-1][1]  # the learning rate decays
    np.testing.assert_allclose(trainer.w_in.numpy(), syn0, atol=1e-6)
    np.testing.assert_allclose(trainer.w_out.numpy(), syn1neg, atol=1e-6)


def test_textbook_update_equals_word2vec_c():
    """models/word_embeddings/word2vec.py's plain update of one example is word2vec.c's loop (clipping included)."""
    trainer = small_trainer(negatives=3)
    for arch, scale in [("skipgram", 1.0), ("cbow", 1.0)]:
        syn0, syn1neg = random_vectors(trainer, scale=scale, seed=3)
        w_in, w_out = torch.tensor(syn0), torch.tensor(syn1neg)  # float64, as the reference
        assert np.abs(syn1neg @ syn0.T).max() > MAX_EXP  # the clipping is exercised
        rng = np.random.default_rng(4)
        for _ in range(30):
            rows = rng.choice(len(syn0), size=8, replace=False)
            word, noise, window = (
                int(rows[0]),
                [int(r) for r in rows[1:4]],
                [int(r) for r in rows[4:]],
            )
            noise[1] = word if _ % 5 == 0 else noise[1]  # a noise word equal to the word: skipped
            if arch == "skipgram":
                reference_skipgram(syn0, syn1neg, window[0], word, noise, 0.05)
                skipgram_update(w_in, w_out, window[0], word, noise, 0.05)
            else:
                reference_cbow(syn0, syn1neg, window, word, noise, 0.05)
                cbow_update(w_in, w_out, window, word, noise, 0.05)
        np.testing.assert_allclose(w_in.numpy(), syn0, atol=1e-12)
        np.testing.assert_allclose(w_out.numpy(), syn1neg, atol=1e-12)


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_engine_equals_the_textbook_update(arch):
    """The fast engine (models/word_embeddings/engine.py), one example per step, replays the textbook
    update of models/word_embeddings/word2vec.py example after example: equal vectors after 300 steps."""
    trainer = small_trainer(arch=arch, batch_size=1, epochs=1)
    w_in, w_out = trainer.w_in.clone(), trainer.w_out.clone()
    rng, log, V = np.random.default_rng(0), [], len(trainer.vocab.words)

    def distinct_noise(shape):
        log.append(torch.from_numpy(rng.choice(V, size=shape[1], replace=False)[None]))
        return log[-1]

    trainer.sample_negatives = distinct_noise
    step, steps = getattr(trainer, f"_{arch}_step"), []
    setattr(trainer, f"_{arch}_step", lambda *args, lr: steps.append((args, lr)) or step(*args, lr=lr))
    trainer.train_steps(300)
    for (args, lr), negatives in zip(steps, log):
        noise = negatives[0].tolist()
        if arch == "skipgram":
            skipgram_update(w_in, w_out, int(args[0]), int(args[1]), noise, lr)
        else:
            cbow_update(w_in, w_out, args[0].tolist(), int(args[3]), noise, lr)
    assert len(steps) == 300
    torch.testing.assert_close(trainer.w_in, w_in, atol=1e-6, rtol=0)
    torch.testing.assert_close(trainer.w_out, w_out, atol=1e-6, rtol=0)


def test_learning_rate_decays_linearly_with_words_processed():
    trainer = small_trainer(epochs=2, lr=0.05, min_lr=0.001)
    seen = []
    while not trainer.done:
        metrics = trainer.train_steps(3)
        seen.append((metrics["progress"], metrics["lr"]))
    progress, lrs = np.array(seen).T
    assert np.all(np.diff(progress) >= 0) and progress[-1] == 1.0
    np.testing.assert_allclose(lrs, np.maximum(0.001, 0.05 - 0.049 * progress))
    assert metrics["words_processed"] == 2 * trainer.vocab.total_words and metrics["done"]


def test_training_is_deterministic_and_chunking_does_not_matter():
    sentences = zipf_corpus(n_words=200, n_tokens=5_000)
    config = Word2VecConfig(dim=16, min_count=1, epochs=2, batch_size=64)
    a = Word2VecTrainer(sentences, config)
    while not a.done:
        a.train_steps(1)
    b = train_word2vec(sentences, config)
    np.testing.assert_array_equal(a.keyed_vectors().vectors, b.vectors)
    c = train_word2vec(sentences, Word2VecConfig(dim=16, min_count=1, epochs=2, batch_size=64, seed=1))
    assert not np.allclose(b.vectors, c.vectors)


# ---- queries and evaluation against gensim's KeyedVectors ----------------------------------------


def random_keyed_vectors(words, dim=16, seed=0) -> KeyedVectors:
    rng = np.random.default_rng(seed)
    return KeyedVectors(rng.normal(size=(len(words), dim)).astype(np.float32), list(words))


@needs_gensim
def test_most_similar_and_analogy_equal_gensim():
    kv = random_keyed_vectors([f"w{i}" for i in range(300)])
    reference = kv.to_gensim()
    for word in ["w0", "w17", "w299"]:
        ours, theirs = kv.most_similar(word, k=10), reference.most_similar(word, topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    ours, theirs = (
        kv.analogy("w1", "w2", "w3", k=5),
        reference.most_similar(["w2", "w3"], ["w1"], topn=5),
    )
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    assert kv.similarity("w4", "w5") == pytest.approx(float(reference.similarity("w4", "w5")), abs=1e-6)


@needs_gensim
def test_word_pair_scores_equal_gensim():
    from gensim.test.utils import datapath

    from models.corpora import load_word_pairs

    pair_words = sorted({w for a, b, _ in load_word_pairs("wordsim353") for w in (a, b)})
    kv = random_keyed_vectors(pair_words[::2] + [f"filler{i}" for i in range(50)], seed=3)
    ours = evaluate_word_pairs(kv, "wordsim353")
    pearson, spearman, oov_percent = kv.to_gensim().evaluate_word_pairs(datapath("wordsim353.tsv"))
    assert ours["spearman"] == pytest.approx(spearman[0], abs=1e-6)
    assert ours["pearson"] == pytest.approx(pearson[0], abs=1e-6)
    assert 0.1 < ours["coverage"] < 0.9
    assert ours["coverage"] == pytest.approx(1 - oov_percent / 100)


@needs_gensim
def test_analogy_accuracy_equals_gensim(tmp_path):
    """Structured vectors (b = a + relation + noise): some questions are solved, some are not."""
    from models.corpora import load_analogies

    sections = {k: v for k, v in load_analogies("google").items() if k in ("capital-common-countries", "family")}
    rng = np.random.default_rng(0)
    vectors, dim = {}, 32
    for questions in sections.values():
        relation = rng.normal(size=dim)
        for a, b, _, _ in questions:
            vectors.setdefault(a, rng.normal(size=dim))
            vectors.setdefault(b, vectors[a] + relation + rng.normal(scale=1.6, size=dim))
    words = sorted(vectors) + [f"filler{i}" for i in range(200)]
    matrix = np.array([vectors.get(w, rng.normal(size=dim)) for w in words], dtype=np.float32)
    kv = KeyedVectors(matrix, words)
    restrict = len(vectors) - 5  # the last few question words fall outside restrict_vocab
    ours = evaluate_analogies(kv, sections, restrict_vocab=restrict)
    questions_file = tmp_path / "questions.txt"
    questions_file.write_text(
        "".join(f": {name}\n" + "".join(" ".join(q) + "\n" for q in qs) for name, qs in sections.items())
    )
    score, theirs = kv.to_gensim().evaluate_word_analogies(str(questions_file), restrict_vocab=restrict)
    for row, section in zip(ours["sections"], theirs):
        assert row["correct"] == len(section["correct"])
        assert row["covered"] == len(section["correct"]) + len(section["incorrect"])
    assert ours["accuracy"] == pytest.approx(score)
    assert 0.2 < ours["accuracy"] < 0.95 and ours["coverage"] < 1.0


# ---- training end to end -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def toy_vectors():
    from models.corpora import load_corpus

    config = Word2VecConfig(dim=32, window=4, epochs=2, min_count=2, lr=0.025)
    return train_word2vec(load_corpus("toy")[:15_000], config)


def test_toy_world_analogies_are_solved(toy_vectors):
    # in the toy grammar queen and empress have the same contexts: either answer is right
    assert toy_vectors.analogy("man", "king", "woman", k=1)[0][0] in ("queen", "empress")
    assert toy_vectors.analogy("paris", "france", "berlin", k=1)[0][0] == "germany"
    result = evaluate_analogies(toy_vectors, "toy")
    assert result["coverage"] == 1.0
    assert result["accuracy"] >= 0.75, result["sections"]


def test_hogwild_workers_train_as_well():
    """Two workers share the vectors without locks, as word2vec.c's threads: not reproducible."""
    from models.corpora import load_corpus

    config = Word2VecConfig(dim=32, window=4, epochs=2, min_count=2, workers=2)
    trainer = Word2VecTrainer(load_corpus("toy")[:15_000], config)
    while not trainer.done:
        metrics = trainer.train_steps(50)
    assert metrics["words_processed"] == 2 * trainer.vocab.total_words
    assert evaluate_analogies(trainer.keyed_vectors(), "toy")["accuracy"] >= 0.75


def test_no_subsampling_with_large_batches_stays_stable():
    """Without subsampling "the" is hit hundreds of times a batch: the step limit keeps it sane."""
    from models.corpora import load_corpus

    config = Word2VecConfig(dim=32, window=4, epochs=3, min_count=2, subsample=0.0, batch_size=2048)
    kv = train_word2vec(load_corpus("toy")[:15_000], config)
    assert np.isfinite(kv.vectors).all()
    assert evaluate_analogies(kv, "toy")["accuracy"] >= 0.75


def test_explain_pair_matches_the_vectors():
    trainer = small_trainer(negatives=4)
    trainer.train_steps(20)
    out = explain_pair(trainer, "w3", "w5", negatives_k=4, seed=0)
    targets = [trainer.vocab.word_to_index[w] for w in out["target_words"]]
    hidden = trainer.w_in[trainer.vocab.word_to_index["w5"]].double()
    np.testing.assert_allclose(out["dots"], (trainer.w_out[targets].double() @ hidden).numpy(), atol=1e-9)
    p = 1 / (1 + np.exp(-out["dots"]))
    expected = -np.log(np.r_[p[0], 1 - p[1:]]) * ~out["skipped"]
    np.testing.assert_allclose(out["loss_terms"], expected, atol=1e-9)
    assert out["target_words"][0] == "w3" and len(out["target_words"]) == 5
    again = explain_pair(trainer, "w3", "w5", negatives_k=4, seed=0)
    assert again["target_words"] == out["target_words"]
    window = explain_pair(trainer, "w3", ["w5", "w7"], negatives_k=4, seed=0)  # CBOW: mean context
    rows = [trainer.vocab.word_to_index[w] for w in ("w5", "w7")]
    hidden = trainer.w_in[rows].double().mean(0)
    expected = (trainer.w_out[targets].double() @ hidden).numpy()
    np.testing.assert_allclose(window["dots"], expected, atol=1e-9)


def test_time_budget_stops_a_chunk_early():
    trainer = small_trainer(epochs=50, batch_size=16)
    metrics = trainer.train_steps(10**9, time_budget_s=0.05)
    assert 0 < metrics["steps"] and metrics["elapsed_s"] < 0.5 and not metrics["done"]


def test_training_loss_goes_down():
    from models.corpora import load_corpus

    config = Word2VecConfig(dim=16, epochs=1, min_count=2, batch_size=256)
    trainer = Word2VecTrainer(load_corpus("toy")[:3000], config)
    first = trainer.train_steps(3)["loss"]
    while not trainer.done:
        last = trainer.train_steps(50)["loss"]
    assert first > 4.0 and last < first - 1.0


# ---- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, phrase",
    [
        ("dim", 0, "dim"),
        ("window", 0, "window"),
        ("negatives", 0, "negatives"),
        ("arch", "glove", "arch"),
    ],
)
def test_bad_config_raises_clear_error(field, value, phrase):
    with pytest.raises(ValueError, match=phrase):
        Word2VecConfig(**{field: value})


def test_bad_corpus_raises_clear_error():
    with pytest.raises(ValueError, match="vocabulary is empty"):
        Word2VecTrainer([["a", "b"], ["c"]], Word2VecConfig(min_count=5))
    with pytest.raises(ValueError, match="No training pairs"):
        Word2VecTrainer([["a"], ["a"], ["b"], ["b"]], Word2VecConfig(min_count=1, window=10))
    with pytest.raises(ValueError, match="tokenised"):
        Word2VecTrainer(["the cat sat", "the dog"], Word2VecConfig(min_count=1))


def test_unknown_query_word_names_the_word():
    kv = random_keyed_vectors(["a", "b", "c"])
    for call in (lambda: kv.most_similar("zebra"), lambda: kv.analogy("a", "b", "zebra")):
        with pytest.raises(KeyError, match="zebra"):
            call()
        with pytest.raises(ValueError, match="zebra"):
            call()
    trainer = small_trainer()
    with pytest.raises(WordNotInVocabularyError, match="zebra"):
        explain_pair(trainer, "w1", "zebra")


# ---- slow and GPU checks -------------------------------------------------------------------------


@needs_gensim
@pytest.mark.slow
@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_wiki_quality_is_comparable_to_gensim(arch):
    from benchmarks.word_embeddings import _quality, _train_gensim
    from models.corpora import load_corpus

    sentences = load_corpus("wiki")
    config = Word2VecConfig(arch=arch, epochs=5)  # fewer epochs leave both near zero on this corpus
    ours = _quality(train_word2vec(sentences, config))
    theirs = _quality(_train_gensim(sentences, config, workers=1)[0])
    assert ours["wordsim"]["pairs_used"] == theirs["wordsim"]["pairs_used"]
    assert ours["wordsim"]["spearman"] > theirs["wordsim"]["spearman"] - 0.1
    assert ours["simlex"]["spearman"] > theirs["simlex"]["spearman"] - 0.1
    assert ours["analogies"]["accuracy"] > theirs["analogies"]["accuracy"] - 0.01


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_cuda_training_solves_toy_world(arch):
    from models.corpora import load_corpus

    config = Word2VecConfig(arch=arch, dim=32, window=4, epochs=2, min_count=2)
    kv = train_word2vec(load_corpus("toy")[:15_000], config, device="cuda")
    assert evaluate_analogies(kv, "toy")["accuracy"] >= 0.8
