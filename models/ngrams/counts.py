"""N-gram counts of every order, counted once with numpy, shared by all smoothings.

What: the vocabulary cut (words seen fewer than min_count times become <unk>), then the distinct n-grams of
orders 1..max_order with their counts, the id of each n-gram's context (its first n-1 words) and of its suffix
(its last n-1 words). Why: re-scoring with another smoothing, k or discount only re-weights these arrays, so the
lesson's perplexity curves never re-count (Chen & Goodman 1998, https://arxiv.org/abs/cmp-lg/9606011).

How: tokens become integer ids, sentences are padded (<s> w1 .. wm </s>, as KenLM does) and concatenated. An
n-gram of order k is numbered by one int64 key, (id of its first k-1 words as a (k-1)-gram) * V + last word, so
np.unique over the keys of all windows counts order k, and np.searchsorted finds held-out n-grams. Order 0 is the
empty context (one "n-gram", id 0); order 1 ids are word ids, so every word has an entry, even with count 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2


@dataclass
class OrderCounts:
    """The distinct n-grams of one order k, sorted by key."""

    keys: np.ndarray  # (n_k,) int64, sorted: context id * V + last word id
    counts: np.ndarray  # (n_k,) int64 raw counts (order 1: 0 for words never seen, e.g. <unk>)
    context: np.ndarray  # (n_k,) id of the first k-1 words as a (k-1)-gram (order 1: 0, empty)
    word: np.ndarray  # (n_k,) id of the last word
    suffix: np.ndarray  # (n_k,) id of the last k-1 words as a (k-1)-gram (order 1: 0)
    first_word: np.ndarray  # (n_k,) id of the first word (KenLM's rule for n-grams starting <s>)

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class NGramLookup:
    """Where each token of some text (or each candidate next word) sits in the counts, order by order."""

    words: np.ndarray  # (T,) word id of each scored token
    ngram_ids: dict  # k -> (T,) id of the k-gram ending at the token; -1: unseen or unavailable
    context_ids: dict  # k -> (T,) id of its k-1 words of context as a (k-1)-gram, -1 likewise
    has_context: dict  # k -> (T,) bool: k-1 words precede the token in its sentence (incl. <s>)
    is_oov: np.ndarray  # (T,) bool: the token was not in the vocabulary (scored as <unk>)
    sentence: np.ndarray  # (T,) index of the sentence each token belongs to
    counts: NGramCounts  # the counts these ids refer to


class NGramCounts:
    """Counts of all n-grams up to max_order; build with NGramCounts.from_sentences."""

    def __init__(self, vocab, max_order, min_count, orders, continuation):
        self.vocab: list[str] = vocab  # id -> word: <unk>, <s>, </s>, then words by count
        self.word_to_id = {w: i for i, w in enumerate(vocab)}
        self.max_order, self.min_count = max_order, min_count
        self.orders: dict[int, OrderCounts] = orders  # k -> counts of order k, k = 1..max_order
        self.continuation = continuation  # k -> (n_k,) distinct left extensions (k < max_order)

    # ---- building -------------------------------------------------------------------------------

    @classmethod
    def from_sentences(cls, sentences, max_order=5, min_count=1) -> NGramCounts:
        """Count n-grams of orders 1..max_order in tokenised sentences (a list of lists of words)."""
        if not 1 <= int(max_order) <= 5:
            raise ValueError(f"The n-gram order must be between 1 and 5, got {max_order}.")
        if int(min_count) < 1:
            raise ValueError(f"min_count must be at least 1 (1 keeps every word), got {min_count}.")
        if isinstance(sentences, str) or any(isinstance(s, str) for s in sentences[:100]):
            raise ValueError("Expected tokenised sentences (a list of lists of words), not strings.")
        frequency = Counter(w for sentence in sentences for w in sentence)
        if not frequency:
            raise ValueError("The training set is empty: give at least one sentence with words.")
        for reserved in (BOS, EOS):
            if reserved in frequency:
                raise ValueError(f"The training text contains the reserved token {reserved!r}.")
        kept = [w for w, c in frequency.items() if c >= min_count and w != UNK]
        kept.sort(key=lambda w: (-frequency[w], w))  # most frequent first, ties alphabetical
        vocab = [UNK, BOS, EOS] + kept
        counts = cls(vocab, int(max_order), int(min_count), {}, {})
        left, right = counts.sentence_padding()
        tokens, sentence_of = counts._pad(sentences, left=left, right=right)
        counts._count(tokens, sentence_of)
        return counts

    # ---- conventions: KenLM's (a subclass may change them, as the tests do to match nltk.lm) -----

    def sentence_padding(self) -> tuple[int, int]:
        """How many <s> and </s> surround each sentence: one of each, <s> w1 .. wm </s>."""
        return 1, 1

    def predictable_words(self) -> np.ndarray:
        """(V,) bool: the words a model predicts: all but <s>, which only ever starts a sentence."""
        mask = np.ones(len(self.vocab), bool)
        mask[BOS_ID] = False
        return mask

    def usable_context(self, context, order: int) -> tuple:
        """The last order-1 words of context, and nothing before the last <s> (a sentence starts there)."""
        context = tuple(context)
        if BOS in context:
            context = context[len(context) - 1 - context[::-1].index(BOS) :]
        return context[max(0, len(context) - (order - 1)) :]

    def raw_counts(self, k: int) -> np.ndarray:
        """(n_k,) float counts c(h w) of order k; at order 1, 0 for words never predicted (<s>)."""
        a = self.orders[k].counts.astype(np.float64)
        return a * self.predictable_words() if k == 1 else a

    def adjusted_counts(self, k: int, order: int) -> np.ndarray:
        """(n_k,) the counts Kneser-Ney smooths in a model of `order` (KenLM's "adjusted counts"): raw
        counts at the top order; below it, N1+(. h w), the number of distinct words seen just before the
        n-gram, except for n-grams that start with <s>: nothing can precede them, they keep raw counts."""
        if k == order:
            return self.raw_counts(k)
        level = self.orders[k]
        a = np.where(level.first_word == BOS_ID, level.counts, self.continuation[k])
        a = a.astype(np.float64)
        return a * self.predictable_words() if k == 1 else a

    def _pad(self, sentences, left: int, right: int):
        """Flat (N,) token ids of the padded sentences and (N,) the sentence of each position."""
        ids = np.fromiter((self.word_to_id.get(w, UNK_ID) for s in sentences for w in s), dtype=np.int64)
        lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
        padded = lengths + left + right
        starts = np.concatenate([[0], np.cumsum(padded)[:-1]])  # (S,) first position of a sentence
        tokens = np.full(int(padded.sum()), EOS_ID, dtype=np.int64)
        for i in range(left):
            tokens[starts + i] = BOS_ID
        word_start = np.repeat(starts + left - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        tokens[np.arange(len(ids)) + word_start] = ids
        return tokens, np.repeat(np.arange(len(sentences)), padded)

    def _count(self, tokens, sentence_of):
        """np.unique over window keys, order by order; ids[s] = id of the current-order n-gram at s."""
        V, N = len(self.vocab), len(tokens)
        all_words = np.arange(V)
        empty = np.zeros(V, np.int64)
        unigram_counts = np.bincount(tokens, minlength=V)
        self.orders[1] = OrderCounts(all_words, unigram_counts, empty, all_words, empty, all_words)
        ids = tokens.copy()  # (N,) order-1 id of the window starting at each position
        for k in range(2, self.max_order + 1):
            starts = np.arange(max(N - k + 1, 0))  # windows of k tokens that fit in the text
            valid = (ids[starts] >= 0) & (sentence_of[starts] == sentence_of[starts + k - 1])
            starts = starts[valid]
            keys = ids[starts] * V + tokens[starts + k - 1]
            unique, first, inverse, count = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
            first_start = starts[first]  # one occurrence of each distinct n-gram
            self.orders[k] = OrderCounts(
                unique, count, unique // V, unique % V, ids[first_start + 1], tokens[first_start]
            )
            ids = np.full(N, -1, dtype=np.int64)
            ids[starts] = inverse.reshape(-1)
        # distinct left extensions: how many (k+1)-grams end with each k-gram
        for k in range(1, self.max_order):
            self.continuation[k] = np.bincount(self.orders[k + 1].suffix, minlength=len(self.orders[k]))

    # ---- lookups --------------------------------------------------------------------------------

    def word_ids(self, words) -> np.ndarray:
        return np.array([self.word_to_id.get(w, UNK_ID) for w in words], dtype=np.int64)

    def find(self, k: int, context_ids: np.ndarray, word_ids: np.ndarray) -> np.ndarray:
        """Ids of the k-grams (context, word), -1 where never seen or the context id is -1."""
        level = self.orders[k]
        if len(level) == 0:
            return np.full(len(word_ids), -1, dtype=np.int64)
        keys = context_ids * len(self.vocab) + word_ids
        at = np.minimum(np.searchsorted(level.keys, keys), len(level) - 1)
        return np.where((context_ids >= 0) & (level.keys[at] == keys), at, -1)

    def seen(self, k: int, ngram_ids: np.ndarray) -> np.ndarray:
        """(T,) bool: the k-gram ids (-1 allowed) have a training count above 0."""
        counts = self.orders[k].counts
        if len(counts) == 0:
            return np.zeros(len(ngram_ids), bool)
        return (ngram_ids >= 0) & (counts[np.maximum(ngram_ids, 0)] > 0)

    def lookup_sentences(self, sentences, order: int | None = None) -> NGramLookup:
        """Every token of the sentences plus each </s> (not <s>), with its n-gram ids up to `order`."""
        order = self.max_order if order is None else order
        if len(sentences) == 0:
            raise ValueError("The held-out set is empty: give at least one sentence.")
        if isinstance(sentences, str) or any(isinstance(s, str) for s in sentences[:100]):
            raise ValueError("Expected tokenised sentences (a list of lists of words), not strings.")
        left, _ = self.sentence_padding()  # only the first </s> is scored
        tokens, sentence_of = self._pad(sentences, left=left, right=1)
        oov = np.fromiter((w not in self.word_to_id or w == UNK for s in sentences for w in s), bool)
        N = len(tokens)
        sentence_start = np.searchsorted(sentence_of, sentence_of)  # (N,) first position of its sentence
        scored = np.flatnonzero(tokens != BOS_ID)  # (T,) positions of words and </s>
        is_oov = np.zeros(N, bool)
        is_oov[np.flatnonzero((tokens != BOS_ID) & (tokens != EOS_ID))] = oov
        ids_by_start = {1: tokens}  # k -> (N,) id of the k-gram starting at each position
        for k in range(2, order + 1):
            prev = ids_by_start[k - 1]
            ids = np.full(N, -1, dtype=np.int64)
            starts = np.arange(N - k + 1)
            ok = sentence_of[starts] == sentence_of[starts + k - 1]
            ids[starts[ok]] = self.find(k, prev[starts[ok]], tokens[starts[ok] + k - 1])
            ids_by_start[k] = ids
        lookup = NGramLookup(tokens[scored], {}, {}, {}, is_oov[scored], sentence_of[scored], self)
        for k in range(1, order + 1):
            start = scored - k + 1
            available = start >= sentence_start[scored]
            safe = np.where(available, start, 0)
            lookup.has_context[k] = available
            lookup.ngram_ids[k] = np.where(available, ids_by_start[k][safe], -1)
            context = ids_by_start[k - 1][safe] if k > 1 else np.zeros(len(scored), np.int64)
            lookup.context_ids[k] = np.where(available, context, -1)
        return lookup

    def context_ids(self, context) -> list[int]:
        """[id of the last j words of context as a j-gram, for j = 0..len(context)], -1 if never seen."""
        ids, words = [0], self.word_ids(context)
        for j in range(1, len(words) + 1):
            gram = words[len(words) - j :]
            g = int(gram[0])
            for i in range(1, j):
                g = int(self.find(i + 1, np.array([g]), gram[i : i + 1])[0]) if g >= 0 else -1
            ids.append(g)
        return ids

    def lookup_next_words(self, context, order: int) -> NGramLookup:
        """Every vocabulary word as a candidate next word after `context` (at most order-1 words used)."""
        context = self.usable_context(context, order)
        context_ids, V = self.context_ids(context), len(self.vocab)
        lookup = NGramLookup(np.arange(V), {}, {}, {}, np.zeros(V, bool), np.zeros(V, np.int64), self)
        for k in range(1, order + 1):
            available = k - 1 <= len(context)
            context_id = context_ids[k - 1] if available else -1
            ngram_ids = np.full(V, -1, dtype=np.int64)
            if k == 1:
                ngram_ids = np.arange(V)
            elif context_id >= 0:
                level = self.orders[k]
                lo, hi = np.searchsorted(level.keys, [context_id * V, (context_id + 1) * V])
                ngram_ids[level.word[lo:hi]] = np.arange(lo, hi)
            lookup.has_context[k] = np.full(V, available)
            lookup.context_ids[k] = np.full(V, context_id, dtype=np.int64)
            lookup.ngram_ids[k] = ngram_ids
        return lookup

    # ---- what the lesson page shows -------------------------------------------------------------

    def next_word_counts(self, context) -> dict[str, int]:
        """Raw counts of each word seen right after `context` (all of it), most frequent first."""
        k = len(context) + 1
        if k > self.max_order:
            raise ValueError(f"The counts go up to order {self.max_order}: use a shorter context.")
        lookup = self.lookup_next_words(context, k)
        ids = lookup.ngram_ids[k]
        seen = np.flatnonzero(self.seen(k, ids))
        counts = self.orders[k].counts[ids[seen]]
        order = np.argsort(-counts, kind="stable")
        return {self.vocab[seen[i]]: int(counts[i]) for i in order}

    def continuation_table(self) -> list[tuple[str, int, int]]:
        """(word, count, distinct left contexts) per word: Kneser-Ney's "San Francisco" effect."""
        if self.max_order < 2:
            raise ValueError("Continuation counts need bigrams: count with max_order >= 2.")
        counts, left = self.orders[1].counts, self.continuation[1]
        rows = [(w, int(counts[i]), int(left[i])) for i, w in enumerate(self.vocab) if i != BOS_ID and counts[i] > 0]
        return sorted(rows, key=lambda r: (-r[1], r[0]))

    def unk_rate(self, sentences) -> float:
        """Fraction of the words of `sentences` (not </s>) that are outside the vocabulary."""
        n_words = sum(len(s) for s in sentences)
        if n_words == 0:
            raise ValueError("No words to measure the <unk> rate on.")
        oov = sum(1 for s in sentences for w in s if w not in self.word_to_id or w == UNK)
        return oov / n_words
