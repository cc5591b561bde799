"""N-gram language models against trusted references.

- nltk.lm (Laplace, Lidstone, MLE, KneserNeyInterpolated, AbsoluteDiscountingInterpolated, StupidBackoff) on
  the same padded toy corpus, every (context, word), to 1e-9, with nltk's conventions on top of our model
  (tests/models/nltk_conventions.py: its padding, <s> as a word, undiscounted unigrams).
- kenlm: our ARPA export loaded by kenlm scores held-out sentences as we do (log10, ~1e-4: ARPA/float32).
- plain-Python implementations written from the formulas (KenLM's Kneser-Ney conventions, count-of-counts
  discounts), scipy's optimiser for the interpolation weights, closed forms for add-k.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.ngrams.counts import BOS_ID, NGramCounts
from models.ngrams.curves import perplexity_by_discount, perplexity_by_k, perplexity_by_order
from models.ngrams.model import NGramLM, same_vocabulary
from tests.models.nltk_conventions import nltk_model

DISTRIBUTIONS = (
    "add_k",
    "interpolation",
    "absolute_discounting",
    "kneser_ney",
    "modified_kneser_ney",
)


def markov_corpus(seed, n_sentences, vocab_size, max_len, chain=None) -> list[list[str]]:
    """Sentences from a random, peaked bigram chain (seeded by `chain`, default `seed`), so that longer
    contexts carry information."""
    rng, chain_rng = random.Random(seed), random.Random(seed if chain is None else chain)
    words = [f"w{i}" for i in range(vocab_size)]
    weights = {w: [chain_rng.random() ** 3 for _ in words] for w in words + ["<s>"]}
    sentences = []
    for _ in range(n_sentences):
        previous, sentence = "<s>", []
        for _ in range(rng.randint(1, max_len)):
            previous = rng.choices(words, weights=weights[previous])[0]
            sentence.append(previous)
        sentences.append(sentence)
    return sentences


def all_contexts(words, max_length):
    return [c for n in range(max_length + 1) for c in itertools.product(words, repeat=n)]


@pytest.fixture(scope="module")
def lee_split():
    from models.corpora import load_corpus
    from models.text import train_heldout_split

    return train_heldout_split(load_corpus("lee"), heldout_fraction=0.1, seed=0)


# ---- nltk.lm ------------------------------------------------------------------------------------

NLTK_CASES = [
    ("Laplace", {}, {"smoothing": "add_k", "k": 1.0}),
    ("Lidstone", {"gamma": 0.3}, {"smoothing": "add_k", "k": 0.3}),
    ("MLE", {}, {"smoothing": "mle"}),
    ("KneserNeyInterpolated", {}, {"smoothing": "kneser_ney", "discount": 0.1}),  # nltk's default
    ("KneserNeyInterpolated", {"discount": 0.75}, {"smoothing": "kneser_ney", "discount": 0.75}),
    (
        "AbsoluteDiscountingInterpolated",
        {"discount": 0.6},
        {"smoothing": "absolute_discounting", "discount": 0.6},
    ),
    ("StupidBackoff", {"alpha": 0.4}, {"smoothing": "stupid_backoff", "backoff": 0.4}),
]


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize("name,nltk_kwargs,our_kwargs", NLTK_CASES)
def test_matches_nltk_for_every_context_and_word(order, name, nltk_kwargs, our_kwargs):
    nltk_lm = pytest.importorskip("nltk.lm")
    from nltk.lm.preprocessing import padded_everygram_pipeline

    train = markov_corpus(seed=3, n_sentences=12, vocab_size=4 if order == 4 else 5, max_len=6)
    reference = getattr(nltk_lm, name)(order=order, **nltk_kwargs)
    reference.fit(*padded_everygram_pipeline(order, train))
    lm = nltk_model(train, order, **our_kwargs)
    words = lm.vocab + ["never-seen"]  # <unk>, <s>, </s>, the words, and an unknown word
    to_nltk = {"<unk>": "<UNK>"}  # nltk's label for unknown words
    ours, theirs = [], []
    for context in all_contexts(words, order - 1):
        distribution = lm.distribution(context)
        nltk_context = [to_nltk.get(w, w) for w in context]
        for word in words:
            ours.append(distribution[lm.counts.word_to_id.get(word, 0)])
            theirs.append(reference.score(to_nltk.get(word, word), nltk_context))
    assert len(ours) == sum(len(words) ** (n + 1) for n in range(order))  # every (context, word)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert lm.prob("never-seen", ("w0",)) == pytest.approx(reference.score("never-seen", ["w0"]))


# ---- Kneser-Ney with KenLM's conventions, from the formulas --------------------------------------


def reference_adjusted_counts(train, order):
    """KenLM's adjusted counts on <s> w1 .. wm </s>: raw counts at the top order and for n-grams that start
    with <s>, else the number of distinct words seen just before the n-gram."""
    raw = {k: Counter() for k in range(1, order + 1)}
    for sentence in train:
        tokens = ["<s>", *sentence, "</s>"]
        for k in range(1, order + 1):
            for i in range(len(tokens) - k + 1):
                raw[k][tuple(tokens[i : i + k])] += 1
    adjusted = {order: dict(raw[order])}
    for k in range(1, order):
        left = defaultdict(set)
        for gram in raw[k + 1]:
            left[gram[1:]].add(gram[0])
        adjusted[k] = {g: (c if g[0] == "<s>" else len(left[g])) for g, c in raw[k].items()}
    adjusted[1].pop(("<s>",))  # never predicted
    return adjusted


def reference_discounts(adjusted_k):
    """Chen & Goodman eq. 26 from count-of-counts; lmplz's fallback (0.5, 1, 1.5) when out of range."""
    n = Counter(adjusted_k.values())
    if min(n[1], n[2], n[3]) == 0:
        return (0.5, 1.0, 1.5)
    y = n[1] / (n[1] + 2 * n[2])
    d = tuple(j - (j + 1) * y * n[j + 1] / n[j] for j in (1, 2, 3))
    return d if all(0 <= d[j - 1] <= j for j in (1, 2, 3)) else (0.5, 1.0, 1.5)


class ReferenceKneserNey:
    """Interpolated (modified) Kneser-Ney, unigrams interpolated with the uniform distribution, in dicts."""

    def __init__(self, train, order, discount=None):  # discount None: modified KN
        self.order, adjusted = order, reference_adjusted_counts(train, order)
        self.vocab = {w for s in train for w in s} | {"</s>", "<unk>"}
        self.followers = {k: defaultdict(dict) for k in adjusted}  # k -> context -> word -> count
        for k, grams in adjusted.items():
            for gram, count in grams.items():
                self.followers[k][gram[:-1]][gram[-1]] = count
        self.discounts = {k: (discount,) * 3 if discount else reference_discounts(adjusted[k]) for k in adjusted}

    def prob(self, word, context):
        known = self.vocab | {"<s>"}
        context = tuple(w if w in known else "<unk>" for w in context)
        context = context[max(0, len(context) - self.order + 1) :]
        return self._p(word if word in self.vocab else "<unk>", context)

    def _p(self, word, context):
        k = len(context) + 1
        lower = 1 / len(self.vocab) if k == 1 else self._p(word, context[1:])
        followers = self.followers[k].get(context, {})
        total = sum(followers.values())
        if total == 0:
            return lower
        d = self.discounts[k]
        gamma = sum(d[min(a, 3) - 1] for a in followers.values()) / total
        a = followers.get(word, 0)
        return (max(a - d[min(a, 3) - 1], 0) / total if a else 0.0) + gamma * lower


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize(
    "smoothing,discount", [("kneser_ney", 0.75), ("kneser_ney", 0.3), ("modified_kneser_ney", None)]
)
def test_kneser_ney_matches_formula_reference(order, smoothing, discount):
    train = markov_corpus(seed=11, n_sentences=40, vocab_size=5, max_len=6)
    reference = ReferenceKneserNey(train, order, discount)
    lm = NGramLM(order=order, smoothing=smoothing, discount=discount or 0.75).fit(train)
    words = [w for w in lm.vocab if w != "<s>"] + ["never-seen"]
    for context in all_contexts(lm.vocab + ["never-seen"], order - 1):
        ours = [lm.distribution(context)[lm.counts.word_to_id.get(w, 0)] for w in words]
        theirs = [reference.prob(w, context) for w in words]
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12, err_msg=str(context))


def test_modified_kneser_ney_discounts_follow_count_of_counts(lee_split):
    train, _ = lee_split
    lm = NGramLM(order=5, smoothing="modified_kneser_ney").fit(train)
    adjusted = reference_adjusted_counts(train, 5)
    assert lm.tables.fallback_orders == []  # real text: every order has its own estimate
    for k in range(1, 6):
        n = Counter(adjusted[k].values())
        y = n[1] / (n[1] + 2 * n[2])
        expected = [j - (j + 1) * y * n[j + 1] / n[j] for j in (1, 2, 3)]
        np.testing.assert_allclose(lm.discounts[k], expected, rtol=1e-12)
    assert len(set(lm.discounts[3])) == 3  # three different discounts


# ---- every smoothing that claims to be a distribution sums to 1 --------------------------------


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 10**6), order=st.integers(1, 5), min_count=st.integers(1, 2))
def test_distributions_sum_to_one(seed, order, min_count):
    rng = random.Random(seed)
    train = markov_corpus(seed, rng.randint(1, 12), rng.randint(1, 6), rng.randint(1, 7))
    counts = NGramCounts.from_sentences(train, max_order=order, min_count=min_count)
    words = counts.vocab + ["never-seen"]
    padded = [["<s>", *s] for s in train]
    seen = {tuple(p[i : i + n]) for p in padded for n in range(order) for i in range(len(p) - n + 1)}
    contexts = sorted(seen) + [tuple(rng.choices(words, k=rng.randint(0, order - 1))) for _ in range(8)]
    lambdas = np.random.default_rng(seed).dirichlet(np.ones(order + 1))
    for smoothing in DISTRIBUTIONS:
        lm = NGramLM.from_counts(
            counts,
            order=order,
            smoothing=smoothing,
            k=rng.uniform(0.01, 2),
            discount=rng.uniform(0.05, 1),
            lambdas=tuple(lambdas),
        )
        for context in contexts:
            p = lm.distribution(context)
            assert p.min() >= 0 and p[BOS_ID] == 0
            assert p.sum() == pytest.approx(1.0, abs=1e-12), (smoothing, context)
    mle = NGramLM.from_counts(counts, order=order, smoothing="mle")
    for context in seen:  # mle is a distribution only after a context seen in training
        assert mle.distribution(context).sum() == pytest.approx(1.0, abs=1e-12)
    stupid = NGramLM.from_counts(counts, order=order, smoothing="stupid_backoff")
    assert not stupid.is_distribution


# ---- kenlm reads our ARPA files and scores like us ----------------------------------------------


@pytest.mark.parametrize("order", [2, 3, 5])  # kenlm refuses unigram-only models
@pytest.mark.parametrize("smoothing", ["kneser_ney", "modified_kneser_ney", "absolute_discounting", "interpolation"])
def test_arpa_scores_match_kenlm(order, smoothing, lee_split, tmp_path):
    kenlm = pytest.importorskip("kenlm")
    train, heldout = lee_split
    heldout = heldout[:150] + [["qwertyuiop", "asdfgh"], []]  # plus only unknown words, and empty
    lm = NGramLM(order=order, smoothing=smoothing).fit(train, heldout=heldout[:50])
    lm.to_arpa(tmp_path / "model.arpa")
    model = kenlm.Model(str(tmp_path / "model.arpa"))
    ours = [lm.sentence_log10(s) for s in heldout]
    theirs = [model.score(" ".join(s), bos=True, eos=True) for s in heldout]
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)  # ARPA text + float32 in kenlm
    assert sum(ours) == pytest.approx(sum(theirs), rel=1e-6)
    n_tokens = sum(len(s) + 1 for s in heldout)
    assert lm.perplexity(heldout) == pytest.approx(10 ** (-sum(theirs) / n_tokens), rel=1e-6)
    for sentence in heldout[:40] + heldout[-2:]:
        full = list(model.full_scores(" ".join(sentence)))
        tokens = lm.score_tokens(sentence)
        assert [max(t.order_used, 1) for t in tokens] == [n for _, n, _ in full]
        assert [t.is_oov for t in tokens] == [oov for _, _, oov in full]


def test_arpa_refuses_non_interpolated(tmp_path):
    lm = NGramLM(order=2, smoothing="add_k").fit([["a", "b"]])
    with pytest.raises(ValueError, match="ARPA"):
        lm.to_arpa(tmp_path / "x.arpa")


# ---- interpolation weights, add-k mass, the page's helpers --------------------------------------


def test_interpolation_weights_maximise_heldout_likelihood():
    optimize = pytest.importorskip("scipy.optimize")
    train = markov_corpus(seed=5, n_sentences=300, vocab_size=12, max_len=8)
    dev = markov_corpus(seed=6, n_sentences=60, vocab_size=12, max_len=8, chain=5)
    dev += [["w1", "unknown", "w2"], ["never", "seen"]]
    counts = NGramCounts.from_sentences(train, max_order=3)
    dev_lookup = counts.lookup_sentences(dev)
    fitted = NGramLM.from_counts(counts, heldout=dev_lookup, order=3, smoothing="interpolation")

    def negative_log10_likelihood(weights):
        lm = NGramLM.from_counts(counts, order=3, smoothing="interpolation", lambdas=tuple(weights))
        return -lm.evaluate(dev_lookup)["log10_total"]

    def softmax(theta):
        e = np.exp(theta - theta.max())
        return e / e.sum()

    best = optimize.minimize(
        lambda theta: negative_log10_likelihood(softmax(theta)),
        np.zeros(4),
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 4000},
    )
    assert fitted.lambdas.sum() == pytest.approx(1.0)
    assert negative_log10_likelihood(fitted.lambdas) <= best.fun + 1e-6
    np.testing.assert_allclose(fitted.lambdas, softmax(best.x), atol=2e-3)


def test_interpolation_without_heldout_uses_a_tenth_of_training():
    train = markov_corpus(seed=7, n_sentences=100, vocab_size=8, max_len=8)
    lm = NGramLM(order=3, smoothing="interpolation").fit(train)
    assert lm.lambdas.shape == (4,) and lm.lambdas.sum() == pytest.approx(1.0)
    assert lm.counts.orders[1].counts.sum() == sum(len(s) + 2 for s in train)  # all counted


def test_add_k_unseen_mass_closed_form():
    train = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"]]
    lm = NGramLM(order=2, smoothing="add_k", k=0.5).fit(train)
    vocab_size = len(lm.vocab) - 1  # all but <s>
    # after "the": 2 tokens, 2 distinct followers
    assert lm.unseen_mass(("the",)) == pytest.approx((vocab_size - 2) * 0.5 / (2 + 0.5 * vocab_size))
    assert lm.next_word_counts(("the",)) == {"cat": 1, "dog": 1}
    assert lm.prob("cat", ("the",)) == pytest.approx(1.5 / (2 + 0.5 * vocab_size))
    kn = NGramLM(order=2, smoothing="kneser_ney", discount=0.5).fit(train)
    p = kn.distribution(("the",))
    seen = [kn.counts.word_to_id[w] for w in ("cat", "dog")]
    assert kn.unseen_mass(("the",)) == pytest.approx(1 - p[seen].sum())
    assert kn.unseen_mass(("zebra",)) == pytest.approx(1.0)  # unseen context: everything is unseen
    assert NGramLM(order=2, smoothing="mle").fit(train).unseen_mass(("the",)) == 0.0


def test_continuation_counts_show_the_san_francisco_effect():
    train = [["i", "like", "san", "francisco"]] * 6 + [["i", "like", "tea"], ["you", "like", "tea"]]
    train += [["tea", "is", "good"], ["good", "tea"]]
    table = {w: (c, left) for w, c, left in NGramCounts.from_sentences(train, 2).continuation_table()}
    for word, (count, left) in table.items():
        padded = [["<s>", *s, "</s>"] for s in train]
        before = {p[i - 1] for p in padded for i in range(1, len(p)) if p[i] == word}
        assert count == sum(p.count(word) for p in padded) and left == len(before), word
    assert table["francisco"] == (6, 1) and table["tea"] == (4, 3)


def test_score_tokens_agrees_with_prob_and_flags_oov():
    train = markov_corpus(seed=8, n_sentences=50, vocab_size=6, max_len=6)
    lm = NGramLM(order=3, smoothing="kneser_ney").fit(train)
    sentence = ["w1", "w2", "zzz", "w1"]
    scores = lm.score_tokens(sentence)
    assert [t.word for t in scores] == sentence + ["</s>"]
    assert [t.is_oov for t in scores] == [False, False, True, False, False]
    history = ["<s>"] + sentence
    for i, t in enumerate(scores):
        assert t.prob == pytest.approx(lm.prob(t.word, tuple(history[max(0, i - 1) : i + 1])))
        assert t.logprob == pytest.approx(math.log(t.prob))
    assert scores[3].order_used == 1  # after an unknown word only the unigram is known
    assert lm.perplexity([sentence]) == pytest.approx(math.exp(-np.mean([t.logprob for t in scores])))


def test_vocabulary_cut_unk_rate_and_shared_vocabulary():
    train = [["a", "b", "a"], ["a", "c"], ["b", "d"]]
    counts = NGramCounts.from_sentences(train, max_order=2, min_count=2)
    assert counts.vocab == ["<unk>", "<s>", "</s>", "a", "b"]
    assert counts.unk_rate([["a", "c", "x"], ["b"]]) == pytest.approx(2 / 4)
    lm = NGramLM(order=2, min_count=2).fit(train)
    assert lm.counts.orders[1].counts[0] == 2  # c and d became <unk>
    assert same_vocabulary(lm, NGramLM.from_counts(counts, order=1, smoothing="add_k"))
    assert not same_vocabulary(lm, NGramLM(order=2).fit(train))
    everything_unknown = [["x", "y", "z"]]
    assert math.isfinite(lm.perplexity(everything_unknown))
    assert NGramLM(order=2, smoothing="mle").fit(train).perplexity(everything_unknown) == math.inf


def test_counting_once_gives_the_same_models():
    train = markov_corpus(seed=9, n_sentences=80, vocab_size=7, max_len=7)
    heldout = markov_corpus(seed=10, n_sentences=20, vocab_size=7, max_len=7, chain=9)
    counts = NGramCounts.from_sentences(train, max_order=5)
    for smoothing in ("kneser_ney", "modified_kneser_ney", "add_k", "absolute_discounting"):
        direct = NGramLM(order=3, smoothing=smoothing).fit(train)
        shared = NGramLM.from_counts(counts, order=3, smoothing=smoothing)
        assert shared.perplexity(heldout) == pytest.approx(direct.perplexity(heldout), rel=1e-12)
    curves = perplexity_by_order(counts, heldout, dev=train[:20])
    kneser_ney = NGramLM(order=3, smoothing="kneser_ney").fit(train).perplexity(heldout)
    assert curves["perplexity"]["kneser_ney"][2] == pytest.approx(kneser_ney, rel=1e-12)
    assert curves["perplexity"]["mle"][1] == math.inf and len(curves["lambdas"][5]) == 6
    assert curves["perplexity"]["kneser_ney"][2] < curves["perplexity"]["add_k"][2]
    by_k = perplexity_by_k(counts, heldout, order=2, ks=[0.01, 1.0])
    by_d = perplexity_by_discount(counts, heldout, order=2, discounts=[0.1, 0.9])
    assert len(by_k["perplexity"]) == 2 and len(by_d["perplexity"]) == 2


def test_generate_is_seeded_and_respects_temperature():
    train = markov_corpus(seed=12, n_sentences=60, vocab_size=6, max_len=6)
    lm = NGramLM(order=3, smoothing="kneser_ney").fit(train)
    assert lm.generate(30, seed=1) == lm.generate(30, seed=1)
    assert lm.generate(30, seed=1) != lm.generate(30, seed=2)
    greedy = lm.generate(6, seed=0, temperature=1e-3, stop_at_end=True)
    history = ["<s>"]
    for word in greedy:
        assert word == lm.vocab[int(np.argmax(lm.distribution(tuple(history[-2:]))))]
        history.append(word)
    mle = NGramLM(order=3, smoothing="mle").fit(train)
    seen = {tuple(g) for s in train for g in zip(["<s>", *s], s, [*s[1:], "</s>"])}
    text = ["<s>"] + mle.generate(200, seed=3)
    for i in range(1, len(text) - 1):
        if text[i] != "</s>" and text[i - 1] != "</s>":
            assert (text[i - 1], text[i], text[i + 1]) in seen or text[i - 1] == "<s>"


# ---- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"order": 0}, "order must be"),
        ({"order": 6}, "order must be"),
        ({"smoothing": "witten_bell"}, "Unknown smoothing"),
        ({"smoothing": "add_k", "k": 0}, "k \\(the add-k"),
        ({"smoothing": "add_k", "k": -1}, "k \\(the add-k"),
        ({"discount": 0}, "discount"),
        ({"discount": 1.5}, "discount"),
        ({"min_count": 0}, "min_count"),
        ({"order": 2, "lambdas": (0.5, 0.5)}, "Give 3"),
        ({"order": 2, "lambdas": (0.5, 0.5, 0.5)}, "sum to 1"),
    ],
)
def test_bad_config_raises_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NGramLM(**kwargs)


def test_bad_data_raises_clear_error():
    with pytest.raises(ValueError, match="training set is empty"):
        NGramLM().fit([])
    with pytest.raises(ValueError, match="training set is empty"):
        NGramLM().fit([[], []])
    with pytest.raises(ValueError, match="not strings"):
        NGramLM().fit(["a sentence as a string"])
    with pytest.raises(ValueError, match="reserved token"):
        NGramLM().fit([["a", "</s>"]])
    with pytest.raises(ValueError, match="not trained"):
        NGramLM().perplexity([["a"]])
    lm = NGramLM(order=2).fit([["a", "b"]])
    with pytest.raises(ValueError, match="held-out set is empty"):
        lm.perplexity([])
    with pytest.raises(ValueError, match="temperature"):
        lm.generate(3, temperature=0)
    with pytest.raises(ValueError, match="not probabilities"):
        NGramLM(order=2, smoothing="stupid_backoff").fit([["a", "b"]]).perplexity([["a"]])
    with pytest.raises(ValueError, match="held-out"):
        NGramLM.from_counts(lm.counts, order=2, smoothing="interpolation")
    with pytest.raises(ValueError, match="order 2"):
        NGramLM.from_counts(lm.counts, order=3)


# ---- the full Wikipedia sample (slow) -------------------------------------------------------------


@pytest.mark.slow
def test_wikipedia_curves_are_fast_and_kenlm_agrees(tmp_path):
    import time

    kenlm = pytest.importorskip("kenlm")
    from models.corpora import load_corpus
    from models.text import train_heldout_split

    train, heldout = train_heldout_split(load_corpus("wiki"))
    start = time.perf_counter()
    counts = NGramCounts.from_sentences(train, max_order=5)
    curves = perplexity_by_order(counts, heldout)
    assert time.perf_counter() - start < 10.0  # "a few seconds" on 2 CPU cores
    kn = curves["perplexity"]["modified_kneser_ney"]
    assert kn[2] < kn[1] < kn[0] and kn[2] < curves["perplexity"]["add_k"][2]
    lm = NGramLM.from_counts(counts, order=5, smoothing="modified_kneser_ney")
    lm.to_arpa(tmp_path / "wiki.arpa")
    model = kenlm.Model(str(tmp_path / "wiki.arpa"))
    ours = [lm.sentence_log10(s) for s in heldout[:300]]
    theirs = [model.score(" ".join(s)) for s in heldout[:300]]
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
