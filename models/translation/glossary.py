"""Prompt-based MT with a glossary: the same few-shot prompt with and without a term table, and whether the terms
made it into the output.

A glossary (term base) says how a domain's words must be translated. An LLM cannot be retrained for every client's
terms, but it can be told them in the prompt: list, before the sentence, the glossary entries whose source term
occurs in it (Ghazvininejad et al. 2023, dictionary-based prompting, https://arxiv.org/abs/2302.07856; Moslem et al.
2023, https://arxiv.org/abs/2301.13294). Measured per sentence and over the set:

    term accuracy = (glossary terms of the source whose target appears in the output) / (glossary terms of the source)

a match being case-insensitive, on NFC text, at word boundaries; beside it chrF and BLEU against references
(sacrebleu). Term accuracy says whether the terms were used, not whether the sentence is right.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from models.translation.bleu import corpus_bleu, corpus_chrf
from models.translation.llm_prompt import MAX_SENTENCE_CHARS, DecodeConfig, clean_sentence, shared_start, translate

MAX_TERMS = 30
MAX_TERM_CHARS = 60
MAX_SENTENCES = 6

DEFAULT_GLOSSARY = "\n".join(
    [
        "server = serveur",
        "invoice = facture",
        "window = fenêtre",
        "kitchen = cuisine",
        "nurse = infirmière",
        "platform = quai",
        "bicycle = vélo",
        "brother = frère",
    ]
)
DEFAULT_SENTENCES = "\n".join(
    [
        "The server is down. | Le serveur est en panne.",
        "Please send the invoice today. | Veuillez envoyer la facture aujourd'hui.",
        "Open the window in the kitchen. | Ouvrez la fenêtre de la cuisine.",
        "My brother has a new bicycle. | Mon frère a un nouveau vélo.",
    ]
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def contains_term(text: str, term: str) -> bool:
    """Whether `term` occurs in `text` as whole words (case-insensitive, NFC): "vélo" in "Le vélo." but not in
    "vélos"; "l'infirmière" contains "infirmière"."""
    return re.search(rf"(?<!\w){re.escape(_fold(term))}(?!\w)", _fold(text)) is not None


def parse_glossary(text: str) -> dict[str, str]:
    """Lines "source = target" -> {source: target}; a ValueError naming the first bad line."""
    glossary = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        if "=" not in line:
            raise ValueError(f"Glossary line {number} has no “=”: write “English term = French term”.")
        source, target = (clean_sentence(part, f"Glossary line {number}'s term") for part in line.split("=", 1))
        if max(len(source), len(target)) > MAX_TERM_CHARS:
            raise ValueError(f"Glossary line {number}: a term has over {MAX_TERM_CHARS} characters.")
        glossary[source] = target
    if not glossary:
        raise ValueError("The glossary is empty: one “English term = French term” a line.")
    if len(glossary) > MAX_TERMS:
        raise ValueError(f"The glossary has {len(glossary)} terms; at most {MAX_TERMS} here.")
    return glossary


def parse_sentences(text: str) -> list[tuple[str, str]]:
    """Lines "English sentence | French reference" (the reference may be left out) -> [(English, reference)]."""
    rows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        english, _, reference = line.partition("|")
        english = clean_sentence(english, f"Sentence {number}")
        reference = clean_sentence(reference, f"Reference {number}") if reference.strip() else ""
        rows.append((english, reference))
    if not rows:
        raise ValueError("No sentences: one “English sentence | French reference” a line.")
    if len(rows) > MAX_SENTENCES:
        raise ValueError(
            f"{len(rows)} sentences; at most {MAX_SENTENCES} here (each is translated twice, a second or two each)."
        )
    return rows


def terms_in(sentence: str, glossary: dict[str, str]) -> dict[str, str]:
    """The glossary entries whose source term occurs in the sentence."""
    return {source: target for source, target in glossary.items() if contains_term(sentence, source)}


@dataclass
class TermHit:
    source: str
    target: str
    found: bool  # the target appears in the translation


def term_hits(sentence: str, translation: str, glossary: dict[str, str]) -> list[TermHit]:
    return [TermHit(s, t, contains_term(translation, t)) for s, t in terms_in(sentence, glossary).items()]


def term_accuracy(hits: list[list[TermHit]]) -> float | None:
    """Found terms / terms, over every sentence (None when no sentence holds a glossary term)."""
    flat = [hit.found for sentence in hits for hit in sentence]
    return sum(flat) / len(flat) if flat else None


@dataclass
class GlossaryComparison:
    rows: list[dict]  # per sentence: english, reference, terms, and per condition its output and term hits
    term_accuracy: dict[str, float | None]  # {"without": ..., "with": ...}
    terms_found: dict[str, int]  # {"without": found terms, "with": ...}
    n_terms: int
    chrf: dict[str, float | None]  # corpus chrF over the sentences with a reference (None without any)
    bleu: dict[str, float | None]


CONDITIONS = ("without", "with")  # the prompt without, then with, the glossary line


def compare_glossary(
    model, tokenizer, sentences: list[tuple[str, str]], glossary: dict[str, str], config: DecodeConfig
) -> GlossaryComparison:
    """Translate each sentence from the same few-shot prompt without and with its glossary terms; score both.
    The examples, shared by every sentence's prompt, run once per condition (`shared_start`)."""
    starts = {c: shared_start(model, tokenizer, c == "with") for c in CONDITIONS}
    rows, hits = [], {c: [] for c in CONDITIONS}
    for english, reference in sentences:
        if len(english) > MAX_SENTENCE_CHARS:
            raise ValueError(f"A sentence has over {MAX_SENTENCE_CHARS} characters.")
        row = {"english": english, "reference": reference, "terms": terms_in(english, glossary)}
        for condition in CONDITIONS:
            terms = row["terms"] if condition == "with" else None
            output, _ = translate(model, tokenizer, english, terms, config, starts[condition])
            row[condition] = output
            row[f"{condition} hits"] = term_hits(english, output, glossary)
            hits[condition].append(row[f"{condition} hits"])
        rows.append(row)
    scored = [row for row in rows if row["reference"]]
    references = [row["reference"] for row in scored]
    return GlossaryComparison(
        rows=rows,
        term_accuracy={c: term_accuracy(hits[c]) for c in CONDITIONS},
        terms_found={c: sum(h.found for sentence in hits[c] for h in sentence) for c in CONDITIONS},
        n_terms=sum(len(row["terms"]) for row in rows),
        chrf={c: corpus_chrf([r[c] for r in scored], references) if scored else None for c in CONDITIONS},
        bleu={c: corpus_bleu([r[c] for r in scored], references) if scored else None for c in CONDITIONS},
    )
