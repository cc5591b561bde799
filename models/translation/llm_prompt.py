"""Machine translation by prompting a causal LM: few-shot English -> French, decoded by our beam search.

An instruction-tuned LM translates when asked, and better with a few solved examples in the prompt (few-shot, Brown
et al. 2020, https://arxiv.org/abs/2005.14165). The prompt here:

    system:    "You translate English to French. Answer with the French translation only."
    user:      "English: Good morning."                  assistant: "Bonjour."        (the solved examples)
    ...
    user:      ["Glossary: window = fenêtre" + newline]  "English: <the sentence>"
    assistant: <the model's answer, ended by its end-of-turn token, EOS>

through the tokenizer's chat template. A tokenizer without one gets the same turns as plain "English: ... /
French: ..." lines, and the answer is cut at its first line break. The glossary line (models/translation/glossary.py)
lists only the terms that occur in the sentence, in the examples too, so the model sees how the line is used.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from models.translation.beam import (
    MAX_BEAMS,
    MAX_NEW_TOKENS,
    BeamResult,
    PromptCache,
    beam_search_result,
    prompt_cache,
    prompt_ids,
)
from models.translation.bleu import sentence_scores

MAX_SENTENCE_CHARS = 200
SYSTEM = "You translate English to French. Answer with the French translation only."
SHOTS = [  # (English, French, the glossary terms shown with it when the prompt has a glossary)
    ("Good morning.", "Bonjour.", {}),
    ("The red car is in the garage.", "La voiture rouge est dans le garage.", {"car": "voiture"}),
    ("Where is the station?", "Où est la gare ?", {"station": "gare"}),
]
_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def clean_sentence(text: str, what: str = "The English sentence") -> str:
    """NFC, invisible and control characters removed, spaces collapsed; a ValueError when empty or too long."""
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text or ""))
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        raise ValueError(f"{what} is empty (no letters or digits). Type a short sentence.")
    if len(text) > MAX_SENTENCE_CHARS:
        raise ValueError(
            f"{what} has {len(text):,} characters; at most {MAX_SENTENCE_CHARS} here (a short sentence keeps "
            "the model's work to seconds)."
        )
    return text


def user_turn(english: str, terms: dict[str, str] | None = None) -> str:
    """The user's turn: the glossary line (when there are terms), then the sentence."""
    glossary = "Glossary: " + "; ".join(f"{s} = {t}" for s, t in terms.items()) + "\n" if terms else ""
    return f"{glossary}English: {english}"


def translation_prompt(tokenizer, english: str, terms: dict[str, str] | None = None) -> str:
    """The few-shot prompt for `english`; `terms` (None: no glossary) are its glossary entries, shown with it and
    with each example's own terms."""
    return _render(tokenizer, terms is not None, user_turn(english, terms))


def shared_start(model, tokenizer, with_glossary: bool) -> PromptCache:
    """The KV cache of what every sentence's prompt starts with (the system line and the examples): run once."""
    marker = "\u2063MARK"  # an invisible separator no sentence keeps (clean_sentence removes it)
    text = _render(tokenizer, with_glossary, marker)
    return prompt_cache(model, prompt_ids(model, tokenizer, text[: text.index(marker)]))


def _render(tokenizer, with_glossary: bool, last_user: str) -> str:
    turns = []
    for shot_english, shot_french, shot_terms in SHOTS:
        turns += [("user", user_turn(shot_english, shot_terms if with_glossary else None)), ("assistant", shot_french)]
    turns.append(("user", last_user))
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": SYSTEM}] + [{"role": r, "content": c} for r, c in turns]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    lines = [SYSTEM, ""]
    for role, content in turns:
        lines.append(content if role == "user" else f"French: {content}\n")
    return "\n".join(lines) + "\nFrench:"


def answer_text(tokenizer, ids: list[int]) -> str:
    """The generated ids as the answer: special tokens dropped, the first line, stripped."""
    text = tokenizer.decode(ids, skip_special_tokens=True).strip()
    return unicodedata.normalize("NFC", text.split("\n")[0].strip())


@dataclass
class DecodeConfig:
    num_beams: int = 1  # 1 = greedy
    max_new_tokens: int = 20  # the longest answer, in tokens

    def __post_init__(self):
        if not 1 <= self.num_beams <= MAX_BEAMS:
            raise ValueError(f"Between 1 and {MAX_BEAMS} beams, please (got {self.num_beams}).")
        if not 4 <= self.max_new_tokens <= min(32, MAX_NEW_TOKENS):
            raise ValueError(f"Between 4 and 32 new tokens, please (got {self.max_new_tokens}).")


def translate(
    model, tokenizer, english: str, terms: dict[str, str] | None, config: DecodeConfig, start: PromptCache | None = None
):
    """(answer, BeamResult): `english` translated by beam search (greedy at 1 beam) from the few-shot prompt; the
    prompt's shared start from `start` (`shared_start`) when given."""
    prompt = translation_prompt(tokenizer, english, terms)
    result = beam_search_result(model, tokenizer, prompt, config.num_beams, config.max_new_tokens, start=start)
    return answer_text(tokenizer, result.sequences[0]), result


@dataclass
class WidthRow:
    beams: int
    answer: str
    score: float  # sum log p / length (what beam search ranks finished hypotheses by)
    log_p: float  # sum log p
    tokens: int  # generated tokens, EOS included
    chrf: float | None  # against the reference, when one is given
    bleu: float | None


def beams_by_width(
    model, tokenizer, english: str, widths: list[int], max_new_tokens: int, reference: str = ""
) -> tuple[list[WidthRow], dict[int, BeamResult]]:
    """The best hypothesis at each beam width: its score, log p, length, and chrF / BLEU against `reference`.
    The prompt runs once; each width starts from a copy of its cache."""
    prompt = translation_prompt(tokenizer, english)
    start = prompt_cache(model, prompt_ids(model, tokenizer, prompt))
    rows, results = [], {}
    for width in widths:
        result = beam_search_result(model, tokenizer, prompt, width, max_new_tokens, start=start)
        answer = answer_text(tokenizer, result.sequences[0])
        scores = sentence_scores(answer, reference) if reference else {"chrf": None, "bleu": None}
        rows.append(
            WidthRow(
                width,
                answer,
                result.scores[0],
                result.log_probs[0],
                len(result.sequences[0]),
                scores["chrf"],
                scores["bleu"],
            )
        )
        results[width] = result
    return rows, results
