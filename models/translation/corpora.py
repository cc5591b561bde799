"""Parallel corpora for the translation lesson: a synthetic pair with gold alignments, a hand-made English–German
set, the textbook's three "das Haus" pairs, and the user's own tab-separated pairs.

Every corpus is a list of pairs (foreign tokens, English tokens): the direction of the noisy channel, where the
English sentence e is "sent" and the foreign sentence f is what we receive, so IBM Model 1 learns t(f | e).

The synthetic language ("toy") is generated from a small grammar beside its English, so the true word alignment
of every pair is known:
- word order SOV, with adjectives after the noun and time adverbs first:
  "yesterday the big dog saw the cat" -> "kino kapo gada ga miru o mira ta";
- suffix morphology: a plural is the stem plus "li" (dogs -> kapoli);
- one-to-many: a past verb is the stem plus the separate tense word "ta" (saw -> mira ta);
- null-aligned words: the case particles "ga" (subject) and "o" (object) have no English word (they align to
  NULL), and English "the" / "a" have no foreign word at all.
A gold alignment is a list of (j, i) links, j = 1..m over the foreign words, i = 1..l over the English words, and
i = 0 for NULL (Brown et al.'s convention).
"""

from __future__ import annotations

import random
import unicodedata

from models.text import check_text, tokenize_words

Pair = tuple[list[str], list[str]]  # (foreign tokens, English tokens)
Alignment = list[tuple[int, int]]  # [(j, i)]: foreign position j (1..m) -> English position i (0 = NULL)

MAX_PAIRS = 2_000  # pairs on the live EM
MAX_TOKENS = 40  # words per sentence, either side
MAX_LINE_CHARS = 500  # characters per pasted line
MAX_TEXT_CHARS = 100_000  # the whole paste
MAX_VOCABULARY = 3_000  # distinct words per side

# ---- the synthetic pair -----------------------------------------------------------------------------------------
SUBJECTS = {"dog": "kapo", "cat": "miru", "bird": "tosi", "king": "rega", "farmer": "nodo", "horse": "kavo"}
OBJECTS = {"book": "sika", "apple": "mela", "house": "dora", "letter": "karta", "fish": "pesu", "cup": "tasa"}
ADJECTIVES = {"big": "gada", "small": "piti", "red": "ruso", "old": "vela", "happy": "felu"}
VERBS = {  # foreign stem: (English present singular, present plural, past)
    "mira": ("sees", "see", "saw"),
    "kome": ("eats", "eat", "ate"),
    "ama": ("likes", "like", "liked"),
    "tene": ("has", "have", "had"),
    "trova": ("finds", "find", "found"),
    "porta": ("carries", "carry", "carried"),
}
ADVERBS = {"yesterday": ("kino", "past"), "today": ("kyo", "present"), "now": ("ima", "present")}
PLURAL, PAST, SUBJECT_MARK, OBJECT_MARK = "li", "ta", "ga", "o"


def _noun_phrase(rng: random.Random, nouns: dict[str, str]) -> tuple[list[str], list[str], list[int], bool]:
    """English words, foreign words and, per foreign word, its English word's index in the phrase (-1 = none)."""
    noun = rng.choice(list(nouns))
    plural = noun != "fish" and rng.random() < 0.3  # "fish" has no plural form
    adjective = rng.choice(list(ADJECTIVES)) if rng.random() < 0.4 else None
    article = "the" if plural or rng.random() < 0.6 else "a"
    english = [article] + ([adjective] if adjective else []) + [noun + ("s" if plural else "")]
    foreign = [nouns[noun] + (PLURAL if plural else "")] + ([ADJECTIVES[adjective]] if adjective else [])
    links = [len(english) - 1] + ([1] if adjective else [])
    return english, foreign, links, plural


def toy_pair(rng: random.Random) -> tuple[Pair, Alignment]:
    """One generated pair and its gold alignment."""
    subject_e, subject_f, subject_links, plural = _noun_phrase(rng, SUBJECTS)
    object_e, object_f, object_links, _ = _noun_phrase(rng, OBJECTS)
    stem = rng.choice(list(VERBS))
    adverb = rng.choice(list(ADVERBS)) if rng.random() < 0.4 else None
    past = ADVERBS[adverb][1] == "past" if adverb else rng.random() < 0.4
    verb = VERBS[stem][2] if past else VERBS[stem][1 if plural else 0]
    english = subject_e + [verb] + object_e + ([adverb] if adverb else [])
    verb_i = len(subject_e)  # 0-based English positions below, shifted to 1-based at the end
    object_start = verb_i + 1
    foreign, gold = [], []
    if adverb:
        foreign.append(ADVERBS[adverb][0])
        gold.append(len(english) - 1)
    foreign += subject_f + [SUBJECT_MARK]
    gold += subject_links + [None]
    foreign += object_f + [OBJECT_MARK]
    gold += [object_start + i for i in object_links] + [None]
    foreign += [stem] + ([PAST] if past else [])
    gold += [verb_i] + ([verb_i] if past else [])
    alignment = [(j + 1, 0 if i is None else i + 1) for j, i in enumerate(gold)]
    return (foreign, english), alignment


def toy_corpus(n_pairs: int = 300, seed: int = 0) -> tuple[list[Pair], list[Alignment]]:
    rng = random.Random(seed)
    made = [toy_pair(rng) for _ in range(n_pairs)]
    return [pair for pair, _ in made], [alignment for _, alignment in made]


# ---- hand-made sets ---------------------------------------------------------------------------------------------
DAS_HAUS = """das Haus\tthe house
das Buch\tthe book
ein Buch\ta book"""  # Koehn, Statistical Machine Translation (2010), ch. 4: EM's textbook example

GERMAN = """das Haus\tthe house
das Buch\tthe book
ein Buch\ta book
ein Haus\ta house
das Haus ist klein\tthe house is small
das Haus ist groß\tthe house is big
das Buch ist klein\tthe book is small
das Buch ist alt\tthe book is old
das Haus ist sehr klein\tthe house is very small
das alte Haus ist groß\tthe old house is big
das Kind ist klein\tthe child is small
das Kind spielt\tthe child plays
das Kind liest ein Buch\tthe child reads a book
der Mann ist alt\tthe man is old
der Mann liest das Buch\tthe man reads the book
der Mann hat ein Haus\tthe man has a house
die Frau ist jung\tthe woman is young
die Frau liest ein Buch\tthe woman reads a book
die Frau hat ein Kind\tthe woman has a child
der Hund schläft\tthe dog sleeps
der Hund ist groß\tthe dog is big
der kleine Hund schläft\tthe small dog sleeps
die Katze schläft\tthe cat sleeps
die Katze ist klein\tthe cat is small
ich sehe das Haus\ti see the house
ich sehe ein Kind\ti see a child
er sieht die Katze\the sees the cat
sie sieht den Hund\tshe sees the dog
wir haben ein Haus\twe have a house
das Wetter ist gut\tthe weather is good
das ist gut\tthat is good
ich trinke Wasser\ti drink water
er trinkt Kaffee\the drinks coffee"""

CORPORA = {  # name: what it is, in one line (the page says it)
    "toy": "A generated language with gold alignments: SOV order, a plural suffix, a separate past-tense word "
    "(one English word to two) and case particles that align to NULL.",
    "german": "33 hand-made English–German pairs in the textbook's style (“das Haus ist klein”); no gold alignment.",
    "das_haus": "The textbook's three pairs: das Haus, das Buch, ein Buch (Koehn 2010, ch. 4).",
    "user": "Your own pairs: one per line, the foreign sentence, a tab, then the English sentence.",
}


def _clean(text: str) -> str:
    """NFKC, and format/control characters (zero-width spaces, bidi marks) dropped: they hide inside tokens."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) not in ("Cf", "Cc"))


def parse_pairs(text: str) -> list[Pair]:
    """Tab-separated lines, foreign then English, tokenised into lowercase words; a ValueError that names the first
    bad line (no tab, an empty side, too long), too many pairs or too large a vocabulary."""
    text = check_text(text, max_chars=MAX_TEXT_CHARS).replace("\r\n", "\n")
    pairs = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_CHARS:
            raise ValueError(f"Line {number} has {len(line):,} characters; the limit is {MAX_LINE_CHARS} a line.")
        if "\t" not in line:
            raise ValueError(
                f"Line {number} has no tab: “{line[:60]}”. Write the foreign sentence, a tab, then the English one."
            )
        foreign_text, english_text = line.split("\t", 1)
        foreign, english = tokenize_words(_clean(foreign_text)), tokenize_words(_clean(english_text.replace("\t", " ")))
        if not foreign or not english:
            side = "foreign" if not foreign else "English"
            raise ValueError(f"Line {number} has no {side} words: both sides of the tab need at least one word.")
        if max(len(foreign), len(english)) > MAX_TOKENS:
            raise ValueError(f"Line {number} has over {MAX_TOKENS} words on one side; split it into shorter pairs.")
        pairs.append((foreign, english))
    if not pairs:
        raise ValueError("No pairs: paste lines of the form “das Haus<TAB>the house”.")
    check_size(pairs)
    return pairs


def check_size(pairs: list[Pair]) -> None:
    """Refuse a corpus the live EM cannot afford, saying what it would cost."""
    if len(pairs) > MAX_PAIRS:
        raise ValueError(f"{len(pairs):,} pairs; the live EM takes at most {MAX_PAIRS:,}. Paste fewer lines.")
    foreign_words = {w for f, _ in pairs for w in f}
    english_words = {w for _, e in pairs for w in e}
    if max(len(foreign_words), len(english_words)) > MAX_VOCABULARY:
        cells = len(foreign_words) * (len(english_words) + 1)
        raise ValueError(
            f"{len(foreign_words):,} foreign and {len(english_words):,} English words: a full t(f | e) table would "
            f"hold {cells:,} entries ({cells * 8 / 1e6:,.0f} MB per EM iteration kept). The live EM takes at most "
            f"{MAX_VOCABULARY:,} words a side; paste fewer or shorter pairs."
        )


def parallel_corpus(name: str = "toy", text: str = "", n_pairs: int = 300, seed: int = 0):
    """(pairs, gold alignments or None) for a named corpus, or the user's `text` for name "user"."""
    if name == "toy":
        return toy_corpus(n_pairs, seed)
    if name == "german":
        return parse_pairs(GERMAN), None
    if name == "das_haus":
        return parse_pairs(DAS_HAUS), None
    if name == "user":
        return parse_pairs(text), None
    raise ValueError(f"No corpus {name!r}: pick one of {', '.join(CORPORA)}.")
