"""Token labels for chart axes and the colour scale of attention weights, shared by every tab."""

from models.next_token.sampling import token_pieces

ZWSP = "\u200b"  # zero-width space: makes category labels unique without changing what is shown
WEIGHT_SCALE = "Viridis"


def token_label(piece: str) -> str:
    """A token as an axis label: spaces shown as · so that ' the' and 'the' differ."""
    return piece.replace(" ", "·").replace("\n", "↵") or "∅"


def unique_labels(labels: list[str]) -> list[str]:
    """Make labels unique for a categorical axis by appending zero-width spaces."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        n = seen.get(label, 0)
        seen[label] = n + 1
        out.append(label + ZWSP * n)
    return out


def readable(tokenizer, ids) -> list[str]:
    """One label per token id (the decoded piece)."""
    return [piece.replace("\n", "\\n") or str(i) for i, piece in zip(ids, token_pieces(tokenizer, ids))]
