"""What the n-gram lesson calls each smoothing, its colour, and how it writes numbers."""

from __future__ import annotations

import math

from models.ngrams.counts import EOS

TITLES = {  # smoothing -> what the page calls it
    "mle": "MLE (no smoothing)",
    "add_k": "add-k (Laplace at k = 1)",
    "interpolation": "Jelinek-Mercer interpolation",
    "absolute_discounting": "absolute discounting",
    "kneser_ney": "Kneser-Ney",
    "modified_kneser_ney": "modified Kneser-Ney",
    "stupid_backoff": "stupid backoff (a score, not a probability)",
}
CHOICES = {  # the smoothing menu (and its URL value) -> smoothing
    "MLE": "mle",
    "add-k": "add_k",
    "Jelinek-Mercer": "interpolation",
    "absolute discounting": "absolute_discounting",
    "Kneser-Ney": "kneser_ney",
    "modified Kneser-Ney": "modified_kneser_ney",
    "stupid backoff": "stupid_backoff",
}
MENU = {smoothing: name for name, smoothing in CHOICES.items()}  # smoothing -> menu name
SHORT = {  # smoothing -> column and legend name
    "mle": "MLE",
    "add_k": "add-k",
    "interpolation": "interpolation",
    "absolute_discounting": "abs. discounting",
    "kneser_ney": "Kneser-Ney",
    "modified_kneser_ney": "modified KN",
    "stupid_backoff": "stupid backoff (score)",
}
COLORS = {
    "mle": "#6c757d",
    "add_k": "#e76f51",
    "interpolation": "#f4a261",
    "absolute_discounting": "#8ab17d",
    "kneser_ney": "#2a9d8f",
    "modified_kneser_ney": "#264653",
    "stupid_backoff": "#b5838d",
}


def shown(word: str) -> str:
    """A token as the page writes it: </s> is the end of the sentence."""
    return "⟨end⟩" if word == EOS else word


def number(value: float | None, digits: int = 1) -> str:
    """A perplexity or log-probability as the page writes it: ∞, −∞, or not defined (None)."""
    if value is None:
        return "not defined"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:,.{digits}f}"
