"""Labelled data for the prompting lesson: the movie-review polarity sentences gensim's wheel ships (Pang & Lee 2005,
100 negative and 100 positive), or the user's own labelled lines.

Pairs are (text, label index). The evaluation set is balanced and fixed (seed 0); the rest is the pool the
demonstrations are drawn from. Reviews are cut to `max_words` words to keep a forward pass short on a CPU.
"""

from __future__ import annotations

import random
import re
import unicodedata

from models.corpora import load_polarity
from models.text import check_text

REVIEW_LABELS = ("negative", "positive")  # label index 0 and 1
MAX_LINES = 400
MAX_LINE_CHARS = 400
MAX_TEXT_CHARS = MAX_LINES * (MAX_LINE_CHARS + 40)
_SEPARATOR = re.compile(r"[:\t]")  # label: text, or label<TAB>text
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str, max_words: int = 0) -> str:
    """NFKC, control characters and the corpus' stray replacement characters dropped, cut to max_words words."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFKC", text)).replace("\ufffd", "e")  # "clich�s" -> "clichés"-ish
    words = text.split()
    return " ".join(words[:max_words] if max_words else words)


def movie_reviews(max_words: int = 16) -> list[tuple[str, int]]:
    """The 200 polarity sentences as (text, 0 negative / 1 positive), in the file's order."""
    return [(clean(sentence, max_words), 1 if label == "pos" else 0) for label, sentence in load_polarity()]


def split_pairs(pairs, n_eval: int, seed: int = 0) -> tuple[list, list]:
    """(train pool, eval set): an eval set with n_eval // n_labels examples of each label (seeded), the rest to train."""
    labels = sorted({y for _, y in pairs})
    rng = random.Random(seed)
    by_label = {y: [p for p in pairs if p[1] == y] for y in labels}
    for members in by_label.values():
        rng.shuffle(members)
    per_label = max(1, n_eval // len(labels))
    eval_pairs, train_pairs = [], []
    for y in labels:
        if len(by_label[y]) < 2:
            raise ValueError(f"Label {y} has {len(by_label[y])} example(s); give each label at least two lines.")
        take = min(per_label, len(by_label[y]) // 2)  # keep at least half of each label to draw shots from
        eval_pairs += by_label[y][:take]
        train_pairs += by_label[y][take:]
    rng.shuffle(eval_pairs)
    rng.shuffle(train_pairs)
    return train_pairs, eval_pairs


def parse_labelled_lines(text: str, max_words: int = 0) -> tuple[list[tuple[str, int]], tuple[str, ...]]:
    """Lines "label: text" (or label, a tab, text) -> (pairs, label names in order of first appearance)."""
    text = check_text(text, max_chars=MAX_TEXT_CHARS)
    pairs, names = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not _SEPARATOR.search(line):
            raise ValueError(f"Line {number} has no “:” (write the label, a colon, then the text): {line[:60]!r}")
        label, body = _SEPARATOR.split(line, maxsplit=1)
        label, body = label.strip(), clean(body, max_words)
        if not label or not body:
            raise ValueError(f"Line {number} needs a label before the colon and some text after it: {line[:60]!r}")
        if len(body) > MAX_LINE_CHARS:
            raise ValueError(f"Line {number} is {len(body):,} characters; keep each line under {MAX_LINE_CHARS}.")
        if label not in names:
            names.append(label)
        pairs.append((body, names.index(label)))
    if len(pairs) > MAX_LINES:
        raise ValueError(f"There are {len(pairs):,} lines; use at most {MAX_LINES}.")
    if not pairs:
        raise ValueError("The data set is empty: write one example a line, as “label: text”.")
    if len(names) < 2:
        raise ValueError(f"Every line has the label {names[0]!r}: a classifier needs at least two labels.")
    return pairs, tuple(names)
