"""Pre-training benchmarks: BERT's masking against transformers' DataCollatorForLanguageModeling on the same ids
(the same draws, checked), and a training step of each objective against a transformers model of the same size
(BertForMaskedLM for MLM and ELECTRA, GPT2LMHeadModel for CLM) on the same batches.

Ours computes the attention weights explicitly (the lesson reads them); transformers' models use PyTorch's fused
attention: the ratio says what the readable version costs. ELECTRA runs a generator and a discriminator per step,
so its row compares against BERT's single model: a lower ratio there is the objective's price, not overhead.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from benchmarks.timing import median_seconds, row
from models.corpora import load_corpus_text
from models.pretraining.masking import mask_tokens
from models.pretraining.objectives import ObjectiveConfig, ObjectiveTrainer


def _row(task, ours, reference, unit, note):
    return row("pretraining", task, ours, reference, unit, note)


def masking_rows(repeats: int) -> list[dict]:
    from transformers import DataCollatorForLanguageModeling

    from models.registry import load_model

    tokenizer = load_model("minilm")[1]
    ids = torch.randint(1000, 30000, (64, 128), generator=torch.Generator().manual_seed(0))
    special = torch.zeros_like(ids, dtype=torch.bool)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=0)
    collator.create_rng("pt")

    def theirs():
        return collator.torch_mask_tokens(ids.clone(), special_tokens_mask=special)

    generator = torch.Generator().manual_seed(0)

    def ours():
        return mask_tokens(ids, tokenizer.mask_token_id, len(tokenizer), 0.15, generator, special_mask=special)

    collator.create_rng("pt")
    generator.manual_seed(0)
    same = all(torch.equal(a, b) for a, b in zip(ours(), theirs()))
    t_ours, t_theirs = median_seconds(ours, repeats=repeats * 10), median_seconds(theirs, repeats=repeats * 10)
    note = f"64 × 128 token ids, p = 0.15, the same tensors from the same seed: {same}"
    return [_row("mask_tokens (BERT 80/10/10)", ids.numel() / t_ours, ids.numel() / t_theirs, "tokens/s", note)]


def reference_model(kind: str, config: ObjectiveConfig, vocab_size: int):
    from transformers import BertConfig, BertForMaskedLM, GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    if kind == "gpt2":
        cfg = GPT2Config(
            vocab_size=vocab_size,
            n_positions=config.block_size,
            n_embd=config.d_model,
            n_layer=config.n_layers,
            n_head=config.n_heads,
        )
        return GPT2LMHeadModel(cfg)
    cfg = BertConfig(
        vocab_size=vocab_size,
        hidden_size=config.d_model,
        num_hidden_layers=config.n_layers,
        num_attention_heads=config.n_heads,
        intermediate_size=4 * config.d_model,
        max_position_embeddings=config.block_size,
    )
    return BertForMaskedLM(cfg)


def objective_row(text: str, objective: str, kind: str, device: str, steps: int, repeats: int) -> dict:
    config = ObjectiveConfig(objective=objective)
    trainer = ObjectiveTrainer(text, config, seed=0, device=device)
    model = reference_model(kind, config, trainer.vocab.size).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    windows = trainer._windows()
    inputs = windows[:, :-1].to(device)
    _, labels = mask_tokens(inputs.cpu(), trainer.vocab.mask_id, trainer.vocab.size - 1)
    labels = labels.to(device)

    def ours():
        for _ in range(steps):
            out = trainer.losses(windows)
            trainer.optimizer.zero_grad(set_to_none=True)
            out["loss"].backward()
            trainer.optimizer.step()

    def theirs():
        for _ in range(steps):
            if kind == "gpt2":
                loss = model(inputs, labels=inputs).loss
            else:
                logits = model(inputs).logits
                loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    tokens = steps * inputs.numel()
    t_ours, t_theirs = median_seconds(ours, repeats=repeats), median_seconds(theirs, repeats=repeats)
    reference = "GPT2LMHeadModel" if kind == "gpt2" else "BertForMaskedLM"
    note = f"d_model {config.d_model}, {config.n_layers} layers, {config.batch_size} × {config.block_size} chars"
    return _row(f"train step, {objective} vs {reference}", tokens / t_ours, tokens / t_theirs, "tokens/s", note)


def training_rows(device: str, steps: int, repeats: int) -> list[dict]:
    text = load_corpus_text("wiki")[:200_000]
    pairs = (("clm", "gpt2"), ("mlm", "bert"), ("electra", "bert"))
    return [objective_row(text, objective, kind, device, steps, repeats) for objective, kind in pairs]


def run(quick: bool = True, device: str = "cpu") -> list[dict]:
    repeats = 3 if quick else 10
    return masking_rows(repeats) + training_rows(device, 2 if quick else 20, 2 if quick else repeats)


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
