"""Shared text handling: decoding user text, word tokenisation, sentence splitting, a held-out split.

Every lesson that counts words (word2vec, n-grams, ...) goes through these helpers so that the lessons agree on
what a corpus is: sentences of lowercase word tokens, split deterministically into train and held-out parts.
"""

from __future__ import annotations

import codecs
import random
import re
import unicodedata
from dataclasses import dataclass

MAX_UPLOAD_BYTES = 5_000_000  # user text larger than this is refused (5 MB is ~900k words)

# a word: letters/digits, with inner apostrophes or hyphens kept ("don't", "well-known")
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*", re.UNICODE)
# a sentence ends at . ! ? (optionally followed by quotes/brackets) before whitespace and an upper-case start,
# or at a blank line / line break
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n+")


_UNICODE_BOMS = (  # byte-order marks, UTF-32 first (its little-endian BOM starts like UTF-16's)
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass
class DecodedText:
    text: str
    notice: str | None  # set when the bytes were not clean UTF-8 and were decoded another way


def decode_text(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> DecodedText:
    """Turn uploaded bytes into text, refusing empty, binary or oversized input with a clear ValueError."""
    if len(data) > max_bytes:
        raise ValueError(
            f"The text is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. Upload a shorter text."
        )
    for bom, codec in _UNICODE_BOMS:  # UTF-16/32 (Notepad's "Unicode") are full of NUL bytes
        if data.startswith(bom):
            try:
                return DecodedText(check_text(data.decode(codec), max_chars=max_bytes), None)
            except UnicodeDecodeError as exc:
                raise ValueError(
                    f"The file starts like {codec.upper()} text but does not decode as "
                    f"{codec.upper()} ({exc.reason}). Save it as UTF-8 and upload it again."
                ) from None
    if b"\x00" in data[:65536]:
        raise ValueError("This file looks binary (it contains NUL bytes). Upload a plain .txt file.")
    notice = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
            notice = "The file was not valid UTF-8; it was decoded as Windows-1252 (Latin)."
        except UnicodeDecodeError:
            text = data.decode("utf-8", errors="replace")
            notice = "The file was not valid UTF-8; undecodable bytes were replaced by '�'."
    return DecodedText(check_text(text, max_chars=max_bytes), notice)


def check_text(text: str, max_chars: int = MAX_UPLOAD_BYTES, min_words: int = 1) -> str:
    """Normalise pasted text (NFKC) and refuse empty or oversized text with a ValueError."""
    if text is None or not text.strip():
        raise ValueError("The text is empty. Paste or upload some text first.")
    if len(text) > max_chars:
        raise ValueError(f"The text has {len(text):,} characters; the limit is {max_chars:,}. Use a shorter text.")
    if "\x00" in text[:65536]:  # what a binary file pasted or decoded as text looks like
        raise ValueError("This text looks binary (it contains NUL characters). Paste plain text.")
    text = unicodedata.normalize("NFKC", text)
    n_words = len(_WORD.findall(text))
    if n_words < min_words:
        raise ValueError(
            f"The text has {n_words} word(s); at least {min_words} are needed. "
            "(Only letters and digits count as words.)"
        )
    return text


def tokenize_words(text: str, lowercase: bool = True) -> list[str]:
    """Word-level tokens: runs of letters/digits with inner apostrophes or hyphens; punctuation dropped."""
    text = unicodedata.normalize("NFKC", text)
    if lowercase:
        text = text.lower()
    return _WORD.findall(text)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences at end punctuation followed by a capital, and at line breaks."""
    parts = _SENTENCE_END.split(text)
    return [p.strip() for p in parts if p and p.strip()]


def sentences_from_text(text: str, lowercase: bool = True, min_tokens: int = 1) -> list[list[str]]:
    """Text -> list of tokenised sentences (sentences with fewer than min_tokens words are dropped)."""
    out = []
    for sentence in split_sentences(text):
        tokens = tokenize_words(sentence, lowercase=lowercase)
        if len(tokens) >= min_tokens:
            out.append(tokens)
    return out


def train_heldout_split(sentences: list, heldout_fraction: float = 0.1, seed: int = 0) -> tuple[list, list]:
    """Deterministic split: a seeded shuffle of sentence indices, the first fraction held out.

    Order inside each part follows the original order, so neighbouring sentences stay readable.
    """
    if not 0.0 < heldout_fraction < 1.0:
        raise ValueError("The held-out fraction must be between 0 and 1 (exclusive).")
    n = len(sentences)
    if n < 2:
        raise ValueError(
            f"Need at least 2 sentences to split into train and held-out; got {n}. (In a text, a "
            "sentence ends at a line break, or at . ! ? followed by a capital letter.)"
        )
    indices = list(range(n))
    random.Random(seed).shuffle(indices)
    n_heldout = max(1, min(n - 1, round(n * heldout_fraction)))
    heldout_ids = set(indices[:n_heldout])
    train = [s for i, s in enumerate(sentences) if i not in heldout_ids]
    heldout = [s for i, s in enumerate(sentences) if i in heldout_ids]
    return train, heldout


def count_words(sentences: list[list[str]]) -> int:
    return sum(len(s) for s in sentences)
