"""Write an interpolated n-gram model as an ARPA back-off file (the format of SRILM, KenLM and Kaldi).

An interpolated model p_k(w | h) = alpha_k(h w) + gamma_k(h) p_{k-1}(w | h') is exactly a back-off model: for a
seen n-gram h w the file stores log10 p_k(w | h) (the full interpolated probability), and for a context h its
back-off weight log10 gamma_k+1(h); a reader that does not find h w uses gamma(h) * p(w | h'), which is what the
interpolation gives for an unseen (h, w). This is how KenLM's lmplz writes its Kneser-Ney models.
Format: http://www.speech.sri.com/projects/srilm/manpages/ngram-format.5.html
"""

from __future__ import annotations

import numpy as np

from models.ngrams.counts import NGramCounts
from models.ngrams.smoothing import Interpolated

LOG10_ZERO = -99.0  # how ARPA files write log10(0), e.g. for <s>, which is never predicted


def interpolated_probabilities(counts: NGramCounts, tables: Interpolated) -> dict[int, np.ndarray]:
    """k -> (n_k,) p_k(w | h) of every seen n-gram: P_k = alpha_k + gamma_k[context] * P_{k-1}[suffix]."""
    probs = {1: tables.alpha[1] + tables.gamma[1][0] * tables.uniform}
    for k in range(2, tables.order + 1):
        level = counts.orders[k]
        probs[k] = tables.alpha[k] + tables.gamma[k][level.context] * probs[k - 1][level.suffix]
    return probs


def ngram_texts(counts: NGramCounts, order: int) -> dict[int, list[str]]:
    """k -> the n-grams of order k as space-separated words, rebuilt from their context ids."""
    texts = {1: list(counts.vocab)}
    for k in range(2, order + 1):
        level, lower = counts.orders[k], texts[k - 1]
        texts[k] = [f"{lower[c]} {counts.vocab[w]}" for c, w in zip(level.context.tolist(), level.word.tolist())]
    return texts


def _log10(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(p > 0, np.log10(np.maximum(p, 1e-300)), LOG10_ZERO)


def write_arpa(counts: NGramCounts, tables, path) -> None:
    if not isinstance(tables, Interpolated):
        raise ValueError(
            "Only the interpolated smoothings (interpolation, absolute_discounting, kneser_ney, "
            "modified_kneser_ney) can be written as an ARPA back-off model."
        )
    order = tables.order
    probs, texts_by_order = interpolated_probabilities(counts, tables), ngram_texts(counts, order)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n")
        for k in range(1, order + 1):
            f.write(f"ngram {k}={len(probs[k])}\n")
        for k in range(1, order + 1):
            f.write(f"\n\\{k}-grams:\n")
            texts, log_probs = texts_by_order[k], _log10(probs[k]).tolist()
            if k == order:
                f.writelines(f"{lp:.7f}\t{t}\n" for lp, t in zip(log_probs, texts))
                continue
            # a back-off weight for each n-gram that is the context of a longer one
            is_context = np.bincount(counts.orders[k + 1].context, minlength=len(probs[k])) > 0
            backoffs = _log10(tables.gamma[k + 1]).tolist()
            f.writelines(
                f"{lp:.7f}\t{t}\t{bo:.7f}\n" if c else f"{lp:.7f}\t{t}\n"
                for lp, t, bo, c in zip(log_probs, texts, backoffs, is_context.tolist())
            )
        f.write("\n\\end\\\n")
