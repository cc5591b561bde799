"""The embedding spaces of pretrained models: static token vectors, contextual vectors, sentence vectors.

What: three views of the vectors a pretrained transformer holds.
- `TokenEmbeddingSpace`: the rows of the input embedding matrix that are whole words (a BPE token with a
  leading space such as " king", or a WordPiece token that is not a "##" continuation), as word vectors with
  the same interface as the word2vec run's `KeyedVectors` (most_similar, analogy by 3CosAdd with the query
  words excluded, similarity), so the neighbour, analogy, projection and benchmark helpers of
  models/word_embeddings/evaluation.py work on either. Rows are in token-id order: BPE merges frequent strings first, so a
  low id is a frequent word (the `restrict_vocab` of the benchmarks relies on "most frequent first").
- `word_occurrences` / `contextual_embeddings`: the hidden state of one word at every layer, once per
  occurrence in a list of sentences. A static vector gives *bank* one point; a contextual one moves it with its
  sentence (Peters et al. 2018, https://arxiv.org/abs/1802.05365; Ethayarajh 2019,
  https://arxiv.org/abs/1909.00512).
- `sentence_embeddings`: MiniLM's token states mean-pooled over the attention mask and normalised to unit
  length, as sentence-transformers' all-MiniLM-L6-v2 pipeline does (Reimers & Gurevych 2019,
  https://arxiv.org/abs/1908.10084).

Why: a word2vec run on 430k words scores poorly on every benchmark; the same questions asked of a model trained
on trillions of tokens show what the method can do, and contextual vectors show what static ones cannot.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from models.word_embeddings.evaluation import KeyedVectors, WordNotInVocabularyError


class WordNotInSpaceError(WordNotInVocabularyError):
    """A query word that is not one whole-word token: how the tokenizer splits it, and close spellings."""

    def __init__(self, word: str, space: TokenEmbeddingSpace):
        self.word = word
        message = f"'{word}' is not a whole-word token of {space.name} ({len(space):,} words)"
        pieces = space.split(word)
        if len(pieces) > 1:
            message += f": the tokenizer splits it into {len(pieces)} pieces, " + " + ".join(repr(p) for p in pieces)
        close = space.close_spellings(word)
        message += f". Close spellings in the space: {', '.join(close)}." if close else "."
        KeyError.__init__(self, message)


@dataclass
class TokenEmbeddingSpace(KeyedVectors):
    """Whole-word rows of a model's input embedding matrix, as word vectors (KeyedVectors' interface)."""

    token_ids: np.ndarray | None = None  # (V,) the token id of each word
    name: str = "the model"  # shown in messages
    tokenizer: object = field(default=None, repr=False)  # to say how an unknown word is split

    @classmethod
    def from_model(cls, model, tokenizer, name: str | None = None) -> TokenEmbeddingSpace:
        """Every token that is a whole word (letters only) with its row of the input embedding matrix."""
        embedding = model.get_input_embeddings().weight.detach()  # (vocab, d)
        ids = list(range(min(len(tokenizer), embedding.shape[0])))
        decoded = tokenizer.batch_decode([[i] for i in ids])  # " king" (BPE) or "king" (WordPiece)
        raw = tokenizer.convert_ids_to_tokens(ids)
        special = set(tokenizer.all_special_ids)
        leading_space = sum(text.startswith(" ") for text in decoded) > len(ids) // 10
        words, kept = [], []
        for i, text, token in zip(ids, decoded, raw):
            if i in special or token.startswith(("##", "[")):  # continuations, [unused7]-like
                continue
            if leading_space:  # byte-level BPE: a word is " " + letters; "king" alone is a word piece
                if not text.startswith(" "):
                    continue
                text = text[1:]
            if text.isalpha():
                words.append(text)
                kept.append(i)
        unique = {}  # a word twice (rare normalisation clashes): keep the first (most frequent) id
        for word, i in zip(words, kept):
            unique.setdefault(word, i)
        token_ids = np.array(list(unique.values()), dtype=np.int64)  # (V,)
        rows = torch.as_tensor(token_ids, device=embedding.device)
        vectors = embedding[rows].float().cpu().numpy()  # (V, d)
        name = name or getattr(model.config, "_name_or_path", "") or type(model).__name__
        return cls(vectors, list(unique), None, token_ids, name, tokenizer)

    def index(self, word: str) -> int:
        if word not in self.word_to_index:
            raise WordNotInSpaceError(word, self)
        return self.word_to_index[word]

    def split(self, word: str) -> list[str]:
        """The pieces the tokenizer cuts `word` into (after a space, as inside a sentence)."""
        if self.tokenizer is None or not word:
            return [word]
        ids = self.tokenizer(" " + word, add_special_tokens=False)["input_ids"]
        return [self.tokenizer.decode([i]).strip() or self.tokenizer.decode([i]) for i in ids]

    def close_spellings(self, word: str, n: int = 5) -> list[str]:
        """Words of the space spelled like `word`: another case first, then difflib's closest (same initial)."""
        same_case = [w for w in (word.lower(), word.capitalize(), word.upper()) if w in self]
        initial = word[:1].lower()
        candidates = [w for w in self.index_to_word[:50_000] if w[:1].lower() == initial]
        close = difflib.get_close_matches(word, candidates, n=n, cutoff=0.75)
        return list(dict.fromkeys(same_case + close))[:n]


# ---------------------------------------------------------------------- contextual vectors
@dataclass
class Occurrences:
    """One word found in several sentences, with its hidden state at every layer for each occurrence."""

    word: str
    sentences: list[str]  # the sentences searched
    sentence_index: list[int]  # (N,) which sentence each occurrence is in
    pieces: list[list[str]]  # (N,) the tokens that spell it there (usually one)
    token_positions: list[list[int]]  # (N,) their positions in the tokenised sentence
    hidden: np.ndarray  # (L+1, N, d) layer 0 = the embedding layer's output

    def vectors(self, layer: int = -1) -> np.ndarray:
        """(N, d) one vector per occurrence at `layer` (negative counts from the top, as in Python)."""
        if not -len(self.hidden) <= layer < len(self.hidden):
            raise ValueError(f"layer must be in 0..{len(self.hidden) - 1}, got {layer}")
        return self.hidden[layer]


def _word_spans(sentence: str, word: str) -> list[tuple[int, int]]:
    """Character spans of `word` as a whole word, ignoring case ("Bank" and "bank", not "banks")."""
    pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
    return [m.span() for m in pattern.finditer(sentence)]


@torch.inference_mode()
def word_occurrences(model, tokenizer, sentences: list[str], word: str) -> Occurrences:
    """Every whole-word occurrence of `word` in `sentences`, its hidden states at every layer.

    A word split into several tokens is the mean of its tokens' states (one vector per occurrence).
    """
    word = (word or "").strip()
    sentences = [s.strip() for s in sentences if s and s.strip()]
    if not word:
        raise ValueError("Type a word to follow through the sentences.")
    if not sentences:
        raise ValueError("Give at least one sentence (one per line).")
    device = next(model.parameters()).device
    found, per_layer = [], []  # (sentence, pieces, positions), then (L+1, d) per occurrence
    for s, sentence in enumerate(sentences):
        spans = _word_spans(sentence, word)
        if not spans:
            continue
        encoded = tokenizer(sentence, return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded.pop("offset_mapping")[0].tolist()  # (T, 2) characters of each token
        states = model(**encoded.to(device), output_hidden_states=True).hidden_states
        states = torch.stack(states)[:, 0].float().cpu()  # (L+1, T, d)
        tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())
        for start, end in spans:
            positions = [t for t, (a, b) in enumerate(offsets) if b > start and a < end and b > a]
            found.append((s, [tokens[t] for t in positions], positions))
            per_layer.append(states[:, positions].mean(1))  # (L+1, d)
    if not found:
        raise ValueError(f"'{word}' does not occur as a whole word in any of the {len(sentences)} sentences.")
    hidden = torch.stack(per_layer, dim=1).numpy()  # (L+1, N, d)
    index, pieces, positions = (list(x) for x in zip(*found))
    return Occurrences(word, sentences, index, pieces, positions, hidden)


def contextual_embeddings(model, tokenizer, sentences: list[str], word: str, layer: int = -1):
    """(N, d): the hidden state of `word` at `layer`, one row per occurrence in `sentences`."""
    return word_occurrences(model, tokenizer, sentences, word).vectors(layer)


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """(N, N) cosine similarity of the rows of (N, d)."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)
    return unit @ unit.T


def sense_cosines(occurrences: Occurrences, senses: list[str]) -> list[dict]:
    """Per layer: the mean cosine between occurrences of the same sense, and of different senses.

    senses: (N,) a label per occurrence. Rows: layer, same_sense, different_sense (NaN if no such pair).
    """
    senses = np.asarray(senses)
    pairs = ~np.eye(len(senses), dtype=bool)
    same = (senses[:, None] == senses[None, :]) & pairs  # (N, N)
    different = senses[:, None] != senses[None, :]
    rows = []
    for layer, vectors in enumerate(occurrences.hidden):
        cosines = cosine_matrix(vectors)
        rows.append(
            {
                "layer": layer,
                "same_sense": float(cosines[same].mean()) if same.any() else float("nan"),
                "different_sense": float(cosines[different].mean()) if different.any() else float("nan"),
            }
        )
    return rows


# ---------------------------------------------------------------------- sentence vectors
@torch.inference_mode()
def sentence_embeddings(
    model, tokenizer, sentences: list[str], batch_size: int = 64, max_length: int = 256
) -> torch.Tensor:
    """(N, d) unit vectors: token states mean-pooled over the attention mask, as sentence-transformers.

    max_length: all-MiniLM-L6-v2's max_seq_length (longer sentences are truncated, as there).
    Sentences are batched by length (less padding); the rows come back in the order given.
    """
    if isinstance(sentences, str):
        sentences = [sentences]
    if not sentences:
        raise ValueError("Give at least one sentence.")
    device = next(model.parameters()).device
    order = np.argsort([-len(s) for s in sentences], kind="stable")
    out = [None] * len(sentences)
    for start in range(0, len(sentences), batch_size):
        batch = order[start : start + batch_size]
        encoded = tokenizer(
            [sentences[i] for i in batch],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        ).to(device)
        states = model(**encoded).last_hidden_state  # (B, T, d)
        mask = encoded["attention_mask"].unsqueeze(-1).to(states.dtype)  # (B, T, 1)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, d)
        pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
        for row, i in enumerate(batch):
            out[i] = pooled[row]
    return torch.stack(out)  # (N, d)


def semantic_search(query: torch.Tensor, corpus: torch.Tensor, k: int = 5) -> list[tuple[int, float]]:
    """The k rows of (M, d) unit vectors `corpus` closest to the unit vector `query` (d,): (index, cosine)."""
    scores = corpus @ query  # (M,)
    top = torch.topk(scores, min(k, len(scores)))
    return [(int(i), float(s)) for i, s in zip(top.indices, top.values)]
