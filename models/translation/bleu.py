"""BLEU and chrF, computed by sacrebleu (Post 2018, https://aclanthology.org/W18-6319), opened up.

BLEU (Papineni et al. 2002, https://aclanthology.org/P02-1040) over a corpus:

    p_n = clipped n-gram matches / n-grams in the hypotheses      (n = 1..4, counts summed over all sentences)
    BP  = min(1, exp(1 - r / c))                                   (c: hypothesis length, r: reference length)
    BLEU = BP * exp(mean_n log p_n)                                (x 100)

Corpus BLEU sums the counts first; the mean of sentence BLEUs is another number (each sentence smoothed, short
sentences penalised one by one). chrF (Popović 2015, https://aclanthology.org/W15-3049) is an F-score over
character n-grams (n = 1..6, recall weighted twice), kinder to morphology than word n-grams.
"""

from __future__ import annotations

import math

from sacrebleu.metrics import BLEU, CHRF

MAX_LINES = 500
MAX_CHARS = 20_000


def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
    return BLEU().corpus_score(hypotheses, [references]).score


def corpus_chrf(hypotheses: list[str], references: list[str]) -> float:
    return CHRF().corpus_score(hypotheses, [references]).score


def sentence_scores(hypothesis: str, reference: str) -> dict[str, float]:
    """One sentence's BLEU (sacrebleu's effective order: orders with no n-gram left out) and chrF."""
    bleu = BLEU(effective_order=True).sentence_score(hypothesis, [reference])
    return {"bleu": bleu.score, "chrf": CHRF().sentence_score(hypothesis, [reference]).score}


def check_lines(hypothesis_text: str, reference_text: str) -> tuple[list[str], list[str]]:
    """Lines of hypotheses and references, one pair a line; a ValueError that says what is wrong."""
    if len(hypothesis_text) > MAX_CHARS or len(reference_text) > MAX_CHARS:
        raise ValueError(f"At most {MAX_CHARS:,} characters in each box, please.")
    hypotheses = [line.strip() for line in hypothesis_text.strip().splitlines()]
    references = [line.strip() for line in reference_text.strip().splitlines()]
    if not any(hypotheses) or not any(references):
        raise ValueError("Type at least one hypothesis and one reference, one sentence per line.")
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypothesis line(s) but {len(references)} reference line(s): one reference per "
            "hypothesis, on the same line number."
        )
    if len(hypotheses) > MAX_LINES:
        raise ValueError(f"At most {MAX_LINES} lines, please.")
    return hypotheses, references


def bleu_report(hypotheses: list[str], references: list[str]) -> dict:
    """Corpus BLEU with its parts, the geometric mean recomputed from them, per-sentence BLEU and chrF."""
    score = BLEU().corpus_score(hypotheses, [references])
    logs = [math.log(p / 100) if p > 0 else -math.inf for p in score.precisions]
    recomputed = 100 * score.bp * math.exp(sum(logs) / 4) if all(p > 0 for p in score.precisions) else 0.0
    sentences = [sentence_scores(h, r) for h, r in zip(hypotheses, references)]
    return {
        "bleu": score.score,
        "recomputed": recomputed,  # BP * exp(mean log p_n): equals sacrebleu's score
        "precisions": [p / 100 for p in score.precisions],  # p_1..p_4
        "matches": list(score.counts),
        "totals": list(score.totals),
        "bp": score.bp,
        "hypothesis_length": score.sys_len,
        "reference_length": score.ref_len,
        "chrf": CHRF().corpus_score(hypotheses, [references]).score,
        "sentence_bleu": [s["bleu"] for s in sentences],
        "sentence_chrf": [s["chrf"] for s in sentences],
        "mean_sentence_bleu": sum(s["bleu"] for s in sentences) / len(sentences),
    }
