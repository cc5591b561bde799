"""BERT's masking rule: which tokens a masked language model is asked to restore, and what it sees in their place.

BERT (Devlin et al. 2019, https://arxiv.org/abs/1810.04805, section 3.1) chooses each token with probability p
(0.15); of the chosen ones

    80 %  are replaced by [MASK]                 (the model must restore them from context)
    10 %  are replaced by a random token         (so it cannot trust that an unmasked token is right)
    10 %  are left unchanged                     (so that [MASK], never seen at fine-tuning, is not the only cue)

and only the chosen tokens carry a loss: their label is the original id, every other label is -100 (PyTorch's
`ignore_index`). The draws below are the same draws, in the same order, as transformers'
`DataCollatorForLanguageModeling.torch_mask_tokens`, so with the same generator state both give the same tensors
(tests/models/test_pretraining.py checks that). ELECTRA (Clark et al. 2020) replaces every chosen token by [MASK]:
`mask_replace_prob=1`.
"""

from __future__ import annotations

import torch

IGNORE = -100  # the label of a token that carries no loss
NOT_CHOSEN, MASKED, RANDOM, KEPT = 0, 1, 2, 3  # each token's fate
FATES = {NOT_CHOSEN: "not chosen", MASKED: "[MASK]", RANDOM: "random token", KEPT: "kept unchanged"}


def check_rate(p: float) -> float:
    if not 0.0 < p < 1.0:
        raise ValueError(
            f"The mask rate must be between 0 and 1, both excluded (got {p:g}): at 0 no token carries a loss, "
            "at 1 no context is left to restore them from. BERT uses 0.15."
        )
    return float(p)


def mask_with_fates(
    ids: torch.Tensor,
    mask_id: int,
    vocab_size: int,
    p: float = 0.15,
    generator: torch.Generator | None = None,
    special_mask: torch.Tensor | None = None,
    mask_replace_prob: float = 0.8,
    random_replace_prob: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`mask_tokens`, and each token's fate (NOT_CHOSEN, MASKED, RANDOM or KEPT), same shape as ids."""
    check_rate(p)
    if not (0 <= mask_replace_prob <= 1 and 0 <= random_replace_prob <= 1 - mask_replace_prob):
        raise ValueError("mask_replace_prob and random_replace_prob must be shares that add up to at most 1.")
    ids = ids.cpu()  # the draws happen on the CPU generator, as in transformers
    labels = ids.clone()
    probability = torch.full(ids.shape, float(p))
    if special_mask is not None:  # [CLS], [SEP], padding: never chosen
        probability.masked_fill_(special_mask.bool().cpu(), 0.0)
    chosen = torch.bernoulli(probability, generator=generator).bool()
    labels[~chosen] = IGNORE

    inputs = ids.clone()
    to_mask = torch.bernoulli(torch.full(ids.shape, float(mask_replace_prob)), generator=generator).bool() & chosen
    inputs[to_mask] = mask_id
    fates = torch.where(chosen, KEPT, NOT_CHOSEN)
    fates[to_mask] = MASKED
    if mask_replace_prob == 1 or random_replace_prob == 0:
        return inputs, labels, fates

    # 10 % of all chosen = half of the 20 % that were not masked
    scaled = random_replace_prob / (1 - mask_replace_prob)
    to_random = torch.bernoulli(torch.full(ids.shape, scaled), generator=generator).bool() & chosen & ~to_mask
    random_ids = torch.randint(vocab_size, ids.shape, dtype=torch.long, generator=generator)
    inputs[to_random] = random_ids[to_random]
    fates[to_random] = RANDOM
    return inputs, labels, fates


def mask_tokens(
    ids: torch.Tensor,
    mask_id: int,
    vocab_size: int,
    p: float = 0.15,
    generator: torch.Generator | None = None,
    special_mask: torch.Tensor | None = None,
    mask_replace_prob: float = 0.8,
    random_replace_prob: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """ids (B, T) -> (inputs, labels), both (B, T): BERT's 80/10/10 rule on the chosen p of the tokens, labels
    -100 on every token not chosen. `special_mask` (B, T), True where a token may never be chosen."""
    inputs, labels, _ = mask_with_fates(
        ids, mask_id, vocab_size, p, generator, special_mask, mask_replace_prob, random_replace_prob
    )
    return inputs, labels


def fate_counts(fates: torch.Tensor) -> dict[str, int]:
    """How many tokens met each fate, and how many there were."""
    counts = {name: int((fates == code).sum()) for code, name in FATES.items()}
    return counts | {"tokens": int(fates.numel())}
