"""Attention benchmarks: ours against PyTorch's, and all-layer extraction from a SmolLM2-shaped model.

- scaled_dot_product_attention (it materialises the weights) against torch's fused
  F.scaled_dot_product_attention;
- MultiHeadAttention with weights against torch.nn.MultiheadAttention(need_weights=True, per
  head), with the same weights;
- extract_attention + per-head measures for 256 tokens of a LlamaForCausalLM with SmolLM2-135M's
  shapes and random weights (speed does not depend on them), against a bare transformers forward
  with output_attentions=True;
- one training step of the tiny transformer (ours only).
"""

from __future__ import annotations

import torch
from torch import nn

from benchmarks.timing import median_seconds
from models.attention.mechanism import MultiHeadAttention, scaled_dot_product_attention
from models.attention.probes import attention_by_offset, extract_attention, head_measures
from models.attention.tiny_transformer import TinyTrainer, TinyTransformerConfig, make_task
from models.registry import random_smollm2


class _WordTokenizer:
    """Stand-in tokenizer: one id per word. Tokenising is not what is measured."""

    def __init__(self, vocab_size: int):
        self.vocab_size = vocab_size

    def __call__(self, text):
        return {"input_ids": [hash(word) % self.vocab_size for word in text.split()]}

    def convert_ids_to_tokens(self, ids):
        return [str(i) for i in ids]

    def decode(self, ids):
        return str(ids[0])


def _row(task, ours, reference, unit, note, lower_is_better=True):
    ratio = None
    if reference is not None and ours:
        ratio = reference / ours if lower_is_better else ours / reference
    return dict(
        lesson="attention",
        task=task,
        ours=ours,
        reference=reference,
        unit=unit,
        ratio=ratio,
        note=note,
    )


@torch.inference_mode()
def _attention_rows(batch, seq_len, d_model, n_heads, device: str, repeats: int) -> list[dict]:
    torch.manual_seed(0)
    shape = f"B={batch} T={seq_len} C={d_model} H={n_heads}"
    head_dim = d_model // n_heads
    q, k, v = (torch.randn(batch, n_heads, seq_len, head_dim, device=device) for _ in range(3))
    ours = median_seconds(lambda: scaled_dot_product_attention(q, k, v, causal=True), device, repeats)
    fused = median_seconds(lambda: nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True), device, repeats)
    sdpa_note = "ours also returns the weights; reference: fused F.scaled_dot_product_attention"

    mha = MultiHeadAttention(d_model, n_heads).to(device).eval()
    reference = nn.MultiheadAttention(d_model, n_heads, batch_first=True).to(device).eval()
    reference.in_proj_weight.copy_(mha.in_proj.weight)
    reference.in_proj_bias.copy_(mha.in_proj.bias)
    reference.out_proj.load_state_dict(mha.out_proj.state_dict())
    x = torch.randn(batch, seq_len, d_model, device=device)
    future = torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).triu(1)

    def torch_mha():
        return reference(x, x, x, attn_mask=future, need_weights=True, average_attn_weights=False)

    ours_mha = median_seconds(lambda: mha(x, causal=True), device, repeats)
    reference_mha = median_seconds(torch_mha, device, repeats)
    error = (mha(x, causal=True)[0] - torch_mha()[0]).abs().max().item()
    mha_note = f"reference: nn.MultiheadAttention(need_weights=True); max |diff| {error:.1e}"
    return [
        _row(f"causal attention, {shape}", ours * 1e3, fused * 1e3, "ms", sdpa_note),
        _row(
            f"multi-head attention + weights, {shape}",
            ours_mha * 1e3,
            reference_mha * 1e3,
            "ms",
            mha_note,
        ),
    ]


def _extraction_row(quick: bool, device: str) -> dict:
    model = random_smollm2(device)
    tokenizer = _WordTokenizer(model.config.vocab_size)
    text = " ".join(f"word{i}" for i in range(256))  # 256 tokens

    def ours():
        trace = extract_attention(model, tokenizer, text, max_tokens=256)
        head_measures(trace.weights)
        attention_by_offset(trace.weights, max_offset=32)

    ids = torch.tensor([tokenizer(text)["input_ids"]], device=device)

    def bare_forward():
        with torch.inference_mode():
            model(ids, output_attentions=True)

    repeats = 2 if quick else 5
    ours_s, reference_s = (
        median_seconds(ours, device, repeats),
        median_seconds(bare_forward, device, repeats),
    )
    goal = "; goal < 2 s on the CPU" if device == "cpu" else ""
    return _row(
        "all 30 layers' attention + head measures, 256 tokens (SmolLM2 shape)",
        ours_s,
        reference_s,
        "s",
        f"reference: transformers forward(output_attentions=True) alone, random weights{goal}",
    )


def _training_row(quick: bool, device: str) -> dict:
    task = make_task("reverse", length=8, n_symbols=10)
    trainer = TinyTrainer(TinyTransformerConfig(positional="learned", causal=False), task, device=device)
    steps = 20 if quick else 100
    seconds = median_seconds(lambda: trainer.train_steps(steps), device, 1 if quick else 3) / steps
    accuracy = trainer.evaluate()["accuracy"]
    return _row(
        "tiny transformer training step (reverse, d=64, 2 layers, batch 32)",
        seconds * 1e3,
        None,
        "ms",
        f"accuracy after {trainer.step} steps: {accuracy:.2f}",
    )


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    sizes = [(8, 128, 256, 8)] if quick else [(8, 128, 256, 8), (4, 512, 512, 8), (1, 1024, 768, 12)]
    rows = []
    for size in sizes:
        rows += _attention_rows(*size, device=device, repeats=3 if quick else 10)
    try:
        rows.append(_extraction_row(quick, device))
    except ImportError:  # transformers missing: the rows that need it are skipped
        pass
    rows.append(_training_row(quick, device))
    return rows
