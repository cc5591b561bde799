"""Read attention out of real transformers models, and measure what each head does.

`extract_attention` runs a Hugging Face model (loaded with attn_implementation="eager", the only
implementation that returns attention weights) and returns the weights of every layer and head.
The measures turn a weights tensor (L, H, T, T) into one number per head, an (L, H) array a page
draws as a layer-by-head map:

- entropy: how spread out a head's attention is (0 = always one token).
- sink share: attention on the first token, the "attention sink" (Xiao et al. 2023,
  https://arxiv.org/abs/2309.17453) that most heads of causal LMs use as a no-op.
- previous-token score: weight on position i-1; attention by relative offset generalises it.
- induction score (Olsson et al. 2022, https://arxiv.org/abs/2209.11895): on a random sequence
  repeated twice, attention from a token of the second copy to the token that followed its earlier
  occurrence. Induction heads copy that next token; they make in-context repetition possible.
"""

from dataclasses import dataclass

import numpy as np
import torch

from models.next_token.sampling import token_pieces

NO_WEIGHTS_HINT = (
    "The model returned no attention weights. Load it with attn_implementation='eager' "
    "(sdpa and flash attention do not compute the weights)."
)


@dataclass
class AttentionTrace:
    tokens: list[str]  # readable token pieces, one per position
    token_ids: list[int]  # the ids the model saw
    weights: torch.Tensor  # (L, H, T, T) float32 on the CPU, rows sum to 1
    truncated: bool  # True when the text was cut to max_tokens or the model's context


def _readable_tokens(tokenizer, ids: list[int]) -> list[str]:
    """One label per id: the decoded piece (bytes of a split character as <0xE6>), else the raw token."""
    raw = tokenizer.convert_ids_to_tokens(ids)
    pieces = token_pieces(tokenizer, ids)
    return [(piece or raw_piece).replace("\n", "\\n") for piece, raw_piece in zip(pieces, raw)]


def _context_length(model) -> int | None:
    return getattr(model.config, "max_position_embeddings", None)


@torch.inference_mode()
def attention_for_ids(model, input_ids: torch.Tensor | list[int]) -> torch.Tensor:
    """All layers' attention for one sequence of ids. Returns (L, H, T, T) float32 on the CPU."""
    device = next(model.parameters()).device
    ids = torch.as_tensor(input_ids, dtype=torch.long, device=device).reshape(1, -1)  # (1, T)
    was_training = model.training
    model.eval()  # no attention dropout: rows must sum to 1
    try:
        body = getattr(model, "base_model", model)  # skip the LM head: only attention is needed
        outputs = body(input_ids=ids, output_attentions=True)
    finally:
        model.train(was_training)
    attentions = getattr(outputs, "attentions", None)  # empty or None under sdpa / flash attention
    if not attentions or any(layer is None for layer in attentions):
        raise ValueError(NO_WEIGHTS_HINT)
    return torch.stack([layer[0] for layer in attentions]).float().cpu()  # (L, H, T, T)


def extract_attention(model, tokenizer, text: str, max_tokens: int = 512) -> AttentionTrace:
    """Tokenise text, run the model, return every layer's and head's attention.

    Text longer than max_tokens or the model's context is cut (truncated=True). Works for causal
    LMs (Llama) and encoders (BERT); the tokenizer adds its usual special tokens.
    """
    if not text or not text.strip():
        raise ValueError("Enter some text to see its attention.")
    ids = list(tokenizer(text)["input_ids"])
    limit = min(max_tokens, _context_length(model) or max_tokens)
    truncated = len(ids) > limit
    ids = ids[:limit]
    weights = attention_for_ids(model, ids)
    return AttentionTrace(_readable_tokens(tokenizer, ids), ids, weights, truncated)


# ----------------------------------------------------------------------------- per-head measures
# Each takes weights (L, H, T, T) (a tensor or an array) and returns an (L, H) float array.


def _as_tensor(weights) -> torch.Tensor:
    return torch.as_tensor(weights).float()


def head_entropy(weights) -> np.ndarray:
    """Entropy of each query row in nats, averaged over the rows."""
    w = _as_tensor(weights)
    row_entropy = -(w * torch.log(w.clamp_min(1e-30))).sum(dim=-1)  # (L, H, T)
    return row_entropy.mean(dim=-1).numpy()


def sink_share(weights) -> np.ndarray:
    """Mean weight on the first token over query rows 1..T-1 (row 0 of a causal LM has no choice)."""
    w = _as_tensor(weights)
    rows = w[..., 1:, 0] if w.shape[-2] > 1 else w[..., :, 0]  # (L, H, T-1)
    return rows.mean(dim=-1).numpy()


def attention_by_offset(weights, max_offset: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean weight at relative offset key - query, for offsets -max_offset .. +max_offset.

    Returns (offsets (K,), means (L, H, K)); offset -1 is the previous token, 0 the token itself.
    """
    w = _as_tensor(weights)
    n = w.shape[-1]
    max_offset = n - 1 if max_offset is None else min(max_offset, n - 1)
    offsets = np.arange(-max_offset, max_offset + 1)
    means = [torch.diagonal(w, offset=int(d), dim1=-2, dim2=-1).mean(dim=-1) for d in offsets]
    return offsets, torch.stack(means, dim=-1).numpy()


def previous_token_score(weights) -> np.ndarray:
    """Mean weight on position i-1, over rows 1..T-1: 1 for a head that always looks one back."""
    w = _as_tensor(weights)
    return torch.diagonal(w, offset=-1, dim1=-2, dim2=-1).mean(dim=-1).numpy()


def induction_sequence(tokenizer_or_vocab_size, length: int, seed: int = 0) -> torch.Tensor:
    """A random sequence of `length` distinct tokens, repeated twice: ([BOS] r r), shape (T,).

    With a tokenizer, special tokens are avoided and its BOS token (if any) is put first.
    """
    generator = torch.Generator().manual_seed(seed)
    if isinstance(tokenizer_or_vocab_size, int):
        candidates, prefix = torch.arange(tokenizer_or_vocab_size), []
    else:
        tokenizer = tokenizer_or_vocab_size
        special = set(tokenizer.all_special_ids)
        candidates = torch.tensor([i for i in range(len(tokenizer)) if i not in special])
        prefix = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    if length > len(candidates):
        raise ValueError(f"length {length} exceeds the {len(candidates)} usable tokens")
    random_tokens = candidates[torch.randperm(len(candidates), generator=generator)[:length]]
    return torch.cat([torch.tensor(prefix, dtype=torch.long), random_tokens, random_tokens])


def induction_score(weights, length: int) -> np.ndarray:
    """Mean weight from each token of the second copy to the token after its first occurrence.

    The sequence ends with two copies of `length` tokens (anything before them, e.g. BOS, is
    ignored). Query at position i of the second copy looks at key i - length + 1.
    """
    w = _as_tensor(weights)
    n = w.shape[-1]
    first_copy_start = n - 2 * length
    if first_copy_start < 0 or length < 1:
        raise ValueError(f"a sequence of {n} tokens cannot hold two copies of {length}")
    queries = torch.arange(first_copy_start + length, n)  # the second copy
    keys = queries - length + 1  # the token after the earlier occurrence
    return w[..., queries, keys].mean(dim=-1).numpy()


def head_measures(weights) -> dict[str, np.ndarray]:
    """Entropy, sink share and previous-token score of every head, each (L, H)."""
    return {
        "entropy": head_entropy(weights),
        "sink_share": sink_share(weights),
        "previous_token": previous_token_score(weights),
    }
