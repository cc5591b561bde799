"""Next-token prediction and the sampling filters: temperature, top-k and top-p (nucleus) sampling.

A causal LM turns a prompt into logits over its vocabulary for the next token. Sampling reshapes that distribution
in the order transformers' `generate` applies its warpers: divide the logits by the temperature, keep the k most
likely tokens (top-k), then keep the smallest set of most likely tokens whose probability reaches p (top-p,
Holtzman et al. 2019, https://arxiv.org/abs/1904.09751), renormalise and draw. `filter_logits` returns every
intermediate so a page can show which tokens survive each filter.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass

import torch


@dataclass
class SamplingConfig:
    temperature: float = 1.0  # > 0; < 1 sharpens, > 1 flattens
    top_k: int = 0  # keep the k most likely tokens; 0 = off
    top_p: float = 1.0  # keep the smallest nucleus with this much probability; 1 = off
    seed: int = 0  # sampling is reproducible for a seed

    def __post_init__(self):
        if not self.temperature > 0:
            raise ValueError("The temperature must be greater than 0 (use a small value for greedy).")
        if self.top_k < 0:
            raise ValueError("top-k must be 0 (off) or a positive number of tokens.")
        if not 0 < self.top_p <= 1:
            raise ValueError("top-p must be in (0, 1]; 1 switches it off.")


@dataclass
class FilteredDistribution:
    probs: torch.Tensor  # (V,) softmax of the raw logits
    probs_tempered: torch.Tensor  # (V,) softmax of logits / temperature
    kept_top_k: torch.Tensor  # (V,) bool: survives top-k
    kept_top_p: torch.Tensor  # (V,) bool: survives top-k and then top-p
    final: torch.Tensor  # (V,) the distribution actually sampled from (zeros outside the kept set)


def filter_logits(logits: torch.Tensor, config: SamplingConfig) -> FilteredDistribution:
    """Apply temperature, top-k, top-p to one row of logits (V,) as transformers' warpers do."""
    logits = logits.float()
    scaled = logits / config.temperature  # (V,)
    kept_k = torch.ones_like(scaled, dtype=torch.bool)
    if config.top_k > 0 and config.top_k < scaled.numel():
        kth = torch.topk(scaled, config.top_k).values[-1]
        kept_k = scaled >= kth  # ties at the k-th value are kept, as TopKLogitsWarper does
    after_k = scaled.masked_fill(~kept_k, float("-inf"))
    kept_p = kept_k.clone()
    if config.top_p < 1.0:
        # sort ascending; drop the low tail whose cumulative probability is <= 1 - top_p
        sorted_logits, order = torch.sort(after_k, descending=False)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop_sorted = cumulative <= (1 - config.top_p)
        drop_sorted[-1] = False  # always keep the most likely token
        drop = torch.zeros_like(drop_sorted).scatter(0, order, drop_sorted)
        kept_p = kept_k & ~drop
    final = after_k.masked_fill(~kept_p, float("-inf")).softmax(-1)
    return FilteredDistribution(logits.softmax(-1), scaled.softmax(-1), kept_k, kept_p, final)


def sample_token(final: torch.Tensor, seed: int, step: int = 0) -> int:
    """Draw one token id from a filtered distribution; the same (seed, step) gives the same token."""
    generator = torch.Generator(device="cpu").manual_seed(seed * 1_000_003 + step)
    return int(torch.multinomial(final.detach().cpu(), 1, generator=generator).item())


@dataclass
class NextTokenResult:
    token_ids: list[int]  # the prompt's token ids (after any chat template)
    pieces: list[str]  # each token as text
    logits: torch.Tensor  # (V,) next-token logits, on the CPU
    loss: float | None  # mean next-token cross-entropy over the prompt (None for a 1-token prompt)
    seconds: float  # time of the forward pass


def encode_prompt(tokenizer, prompt: str, chat: bool = False) -> list[int]:
    if prompt is None or not prompt.strip():
        raise ValueError("The prompt is empty. Type some text for the model to continue.")
    if chat and getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=True
        )
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        return list(ids)
    return list(tokenizer(prompt, add_special_tokens=True)["input_ids"])


def _gpt2_byte_decoder() -> dict[str, int]:
    """Byte-level BPE's printable stand-in character for each byte (GPT-2's bytes_to_unicode), inverted."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    others = [b for b in range(256) if b not in printable]
    chars = printable + [256 + n for n in range(len(others))]
    return {chr(c): b for c, b in zip(chars, printable + others)}


BYTE_DECODER = _gpt2_byte_decoder()


def _bytes_label(data: bytes) -> str:
    """Decode what is valid UTF-8; bytes of an unfinished character become <0xE6> (as in Llama's vocab)."""
    out, i = [], 0
    while i < len(data):
        for width in (1, 2, 3, 4):
            try:
                out.append(data[i : i + width].decode("utf-8"))
                i += width
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append(f"<0x{data[i]:02X}>")
            i += 1
    return "".join(out)


def token_pieces(tokenizer, token_ids: list[int]) -> list[str]:
    """Readable text of each token (byte-level BPE pieces decoded one by one).

    A token holding part of a multi-byte character (a CJK character or an emoji is often split over
    two or three tokens) decodes to "\ufffd"; it is shown by its bytes instead, so distinct tokens
    keep distinct labels.
    """
    pieces = []
    for token_id in token_ids:
        piece = tokenizer.decode([token_id])
        if "\ufffd" in piece:
            raw = tokenizer.convert_ids_to_tokens(token_id) or piece
            if all(c in BYTE_DECODER for c in raw):
                piece = _bytes_label(bytes(BYTE_DECODER[c] for c in raw))
            else:  # not byte-level BPE (e.g. SentencePiece's <0xE6> byte tokens): the raw token
                piece = raw
        pieces.append(piece)
    return pieces


@torch.no_grad()
def next_token(model, tokenizer, token_ids: list[int], max_context: int) -> NextTokenResult:
    """One forward pass: the next-token logits after `token_ids`, and the prompt's own loss."""
    if not token_ids:
        raise ValueError("The prompt produced no tokens.")
    if len(token_ids) > max_context:
        raise ValueError(
            f"The text is {len(token_ids):,} tokens long; this model reads at most {max_context:,}. Shorten the prompt."
        )
    device = next(model.parameters()).device
    ids = torch.tensor([token_ids], device=device)  # (1, T)
    start = time.perf_counter()
    out = model(input_ids=ids, labels=ids if len(token_ids) > 1 else None)
    seconds = time.perf_counter() - start
    logits = out.logits[0, -1].float().cpu()  # (V,)
    loss = float(out.loss) if out.loss is not None else None
    return NextTokenResult(list(token_ids), token_pieces(tokenizer, token_ids), logits, loss, seconds)


@dataclass
class SampledToken:
    token_id: int
    p_final: float  # probability under the filtered distribution it was drawn from
    p_model: float  # probability under the model at T=1
    n_candidates: int  # how many tokens survived the filters at this step


@torch.no_grad()
def sample_continuation(
    model,
    token_ids: list[int],
    config: SamplingConfig,
    n_tokens: int,
    max_context: int,
    eos_token_id: int | None = None,
    first_step: int = 0,
) -> list[SampledToken]:
    """Sample n_tokens one at a time with a KV cache (as `generate` does); stops early at EOS.

    Step s uses `sample_token(..., seed, first_step + s)`, so sampling 10 then 10 more equals sampling 20.
    """
    if len(token_ids) + n_tokens > max_context:
        raise ValueError(
            f"Prompt and continuation would be {len(token_ids) + n_tokens:,} tokens; this model reads at "
            f"most {max_context:,} here. Clear the continuation or shorten the prompt."
        )
    device = next(model.parameters()).device
    # transformers >= 5.2x names the KV cache `cache`; older 5.x releases call it `past_key_values`
    cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    out = model(input_ids=torch.tensor([token_ids], device=device), use_cache=True)
    sampled = []
    for step in range(n_tokens):
        dist = filter_logits(out.logits[0, -1].float().cpu(), config)
        token_id = sample_token(dist.final, config.seed, first_step + step)
        sampled.append(
            SampledToken(
                token_id,
                float(dist.final[token_id]),
                float(dist.probs[token_id]),
                int(dist.kept_top_p.sum()),
            )
        )
        if token_id == eos_token_id or step == n_tokens - 1:
            break
        cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
        out = model(
            input_ids=torch.tensor([[token_id]], device=device),
            use_cache=True,
            **{cache_arg: cache},
        )
    return sampled
