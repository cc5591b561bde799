"""The parameter-efficient fine-tuning families side by side, each built by PEFT (https://github.com/huggingface/peft).

Each family trains a different small set of numbers beside a frozen model (d: hidden size, L: adapted layers):

- LoRA (Hu et al. 2021, https://arxiv.org/abs/2106.09685): a rank-r update B·A beside chosen matrices,
  r·(in + out) numbers per matrix (`LoraConfig`).
- IA³ (Liu et al. 2022, https://arxiv.org/abs/2205.05638): learned vectors that rescale the keys, the values and
  the feed-forward's inner activations, one number per channel (`IA3Config`).
- Prompt tuning (Lester et al. 2021, https://arxiv.org/abs/2104.08691): n trainable vectors placed before the
  input, n·d numbers (`PromptTuningConfig`).
- Prefix tuning (Li & Liang 2021, https://arxiv.org/abs/2101.00190): n trainable keys and values in every adapted
  layer's attention, n·L·2·(kv heads·head dim) numbers (`PrefixTuningConfig`, without the reparametrising MLP).
- LN tuning (Zhao et al. 2023, https://arxiv.org/abs/2312.11420): only the normalisation layers' gains
  (`LNTuningConfig`). PEFT has no bottleneck adapters (Houlsby et al. 2019); LN tuning stands in for "train a few
  numbers inside each layer" and the page says so.
- full: every weight of the adapted layers, the reference point.

Speed, as in models/lora/finetune.py: only the top `top_layers` decoder layers are adapted. The frozen layers below
are run once per text chunk, and every family wraps `top_model(base, top_layers)`, a copy of the model cut to its
top layers (sharing the frozen weights) that takes the cached hidden states as `inputs_embeds` and gives the same
loss as the whole model (tests/models/test_lora_families.py). So prompt tuning's vectors enter at the input of the first
adapted layer rather than at the embeddings, and prefix tuning adds keys and values to the adapted layers only;
with top_layers = all layers both are exactly the published methods.

    model = build_family(top_model(base, 2), "prefix", 16)   # a PeftModel; size: r, or virtual tokens
    trainable, total = count_parameters(model)               # == model.get_nb_trainable_parameters()
    assert trainable == formula_count("prefix", 16, base.config, 2)
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
from peft import (
    IA3Config,
    LNTuningConfig,
    LoraConfig,
    PrefixTuningConfig,
    PromptTuningConfig,
    get_peft_model,
)
from torch import nn
from torch.nn import functional as F

from models.lora.adapters import count_parameters, linear_names
from models.lora.finetune import _decoder_layers, _sharing_copy, chunk_text, hidden_at

FAMILIES = ("lora", "ia3", "prompt", "prefix", "ln", "full")
IA3_TARGETS = ("k_proj", "v_proj", "down_proj")  # PEFT's default for Llama models
IA3_FEEDFORWARD = ("down_proj",)  # scaled on its input (the FFN's inner activations), not its output
LN_TARGETS = (
    "input_layernorm",
    "post_attention_layernorm",
    "norm",
)  # PEFT's default for Llama models


@dataclass
class FamiliesConfig:
    lora_ranks: tuple[int, ...] = (1, 8)  # one LoRA run per rank
    prompt_tokens: tuple[int, ...] = (16,)  # one prompt-tuning run per number of virtual tokens
    prefix_tokens: tuple[int, ...] = (16,)  # one prefix-tuning run per number of virtual tokens
    ia3: bool = True  # an IA³ run (keys, values, FFN activations)
    ln: bool = True  # an LN-tuning run (the RMSNorm gains)
    full: bool = True  # full fine-tuning of the adapted layers
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")  # LoRA's matrices
    top_layers: int = 2  # adapt only the last n decoder layers (the rest are frozen and cached)
    steps: int = 20  # optimiser steps per run
    lora_lr: float = 2e-3  # AdamW learning rate of the LoRA runs (alpha = 2r; 5e-3 overfit r=8 in 20 steps)
    ia3_lr: float = 1e-2  # of IA³ (its vectors start at 1)
    prompt_lr: float = 3e-2  # of prompt tuning (Lester et al. used 0.3 with Adafactor)
    prefix_lr: float = 3e-2  # of prefix tuning (random keys and values, no reparametrising MLP)
    ln_lr: float = 1e-2  # of LN tuning
    full_lr: float = 2e-4  # of full fine-tuning (usually ~10x lower than LoRA's)
    seq_len: int = 32  # tokens per training sequence
    batch_size: int = 4  # sequences per step
    heldout_sequences: int = 8  # sequences kept aside for the held-out loss
    max_train_sequences: int = 48  # training sequences taken from the text (their hidden states are cached)
    eval_every: int = 5  # steps between held-out evaluations of a run
    seed: int = 0  # batches and the adapters' initialisation

    def __post_init__(self):
        for name in ("lora_ranks", "prompt_tokens", "prefix_tokens"):
            setattr(self, name, tuple(sorted({int(v) for v in getattr(self, name)})))
        if isinstance(self.target_modules, str):  # "q_proj, v_proj" from a text box
            self.target_modules = self.target_modules.replace(",", " ").split()
        self.target_modules = tuple(t.strip() for t in self.target_modules if t.strip())
        if not self.runs():
            raise ValueError("Pick at least one run: a LoRA rank, a prompt or prefix size, IA³, LN or full.")
        if any(v < 1 for v in (*self.lora_ranks, *self.prompt_tokens, *self.prefix_tokens)):
            raise ValueError("Ranks and numbers of virtual tokens must be at least 1.")
        if self.lora_ranks and not self.target_modules:
            raise ValueError("Name at least one target module for LoRA, e.g. q_proj.")
        if self.top_layers < 1 or self.steps < 1 or self.eval_every < 1:
            raise ValueError("Adapt at least one layer and train at least one step (eval every ≥ 1 step).")
        lrs = (self.lora_lr, self.ia3_lr, self.prompt_lr, self.prefix_lr, self.ln_lr, self.full_lr)
        if not all(lr > 0 for lr in lrs):
            raise ValueError("Learning rates must be positive.")
        if self.seq_len < 4 or self.batch_size < 1 or self.heldout_sequences < 1:
            raise ValueError("Use sequences of at least 4 tokens and at least one per batch.")
        if self.max_train_sequences < self.batch_size:
            raise ValueError("Take at least a batch of training sequences (max_train_sequences ≥ batch_size).")

    def runs(self) -> list[tuple[str, str, int]]:
        """(name, family, size) of every run, in the order they train; size is r or virtual tokens (else 0)."""
        runs = [(f"LoRA r={r}", "lora", r) for r in self.lora_ranks]
        runs += [("IA³", "ia3", 0)] if self.ia3 else []
        runs += [(f"prompt n={n}", "prompt", n) for n in self.prompt_tokens]
        runs += [(f"prefix n={n}", "prefix", n) for n in self.prefix_tokens]
        runs += [("LN tuning", "ln", 0)] if self.ln else []
        runs += [("full", "full", 0)] if self.full else []
        return runs

    def lr(self, family: str) -> float:
        return getattr(self, f"{family}_lr")


def top_model(base: nn.Module, top_layers: int) -> nn.Module:
    """A copy of a Llama-style causal LM that keeps only its top `top_layers` decoder layers.

    It shares every weight with `base` and takes the input of the first kept layer as `inputs_embeds`.
    """
    layers = _decoder_layers(base)
    if not 1 <= top_layers <= len(layers):
        raise ValueError(f"top_layers must be between 1 and the model's {len(layers)} layers.")
    start = len(layers) - top_layers
    model = _sharing_copy(base)
    model.config = copy.deepcopy(base.config)  # the copy's own; the base keeps its number of layers
    model.model.config = model.config
    model.model.layers = nn.ModuleList(list(model.model.layers)[start:])
    model.config.num_hidden_layers = top_layers
    if getattr(model.config, "layer_types", None):
        model.config.layer_types = model.config.layer_types[start:]
    for i, layer in enumerate(model.model.layers):
        layer.self_attn.layer_idx = i  # index into the (prefix) cache of the cut model
    return model


def peft_config(family: str, size: int, target_modules=("q_proj", "v_proj")):
    """PEFT's config for one family at one size (r for LoRA, virtual tokens for prompt and prefix)."""
    if family == "lora":
        return LoraConfig(r=size, lora_alpha=2 * size, target_modules=list(target_modules), task_type="CAUSAL_LM")
    if family == "ia3":
        return IA3Config(
            target_modules=list(IA3_TARGETS),
            feedforward_modules=list(IA3_FEEDFORWARD),
            task_type="CAUSAL_LM",
        )
    if family == "prompt":
        return PromptTuningConfig(num_virtual_tokens=size, task_type="CAUSAL_LM")
    if family == "prefix":
        return PrefixTuningConfig(num_virtual_tokens=size, task_type="CAUSAL_LM")
    if family == "ln":
        return LNTuningConfig(target_modules=list(LN_TARGETS), task_type="CAUSAL_LM")
    raise ValueError(f"Unknown family {family!r}; pick one of {', '.join(FAMILIES[:-1])}.")


def build_family(model: nn.Module, family: str, size: int = 0, target_modules=("q_proj", "v_proj")):
    """`model` (e.g. a `top_model`) with one family's trainable numbers added, everything else frozen.

    "full" makes every decoder-layer weight of its own copy trainable; the others return PEFT's model.
    """
    for p in model.parameters():
        p.requires_grad_(False)
    if family != "full":
        return get_peft_model(model, peft_config(family, size, target_modules))
    weights = list(model.model.layers.parameters())
    model = _sharing_copy(model, clone={id(p) for p in weights})
    for p in model.model.layers.parameters():
        p.requires_grad_(True)
    return model


def formula_count(family: str, size: int, config, top_layers: int, target_modules=("q_proj", "v_proj")) -> int:
    """The trained numbers of a family by formula, from the model's shapes (a HF config or a dict)."""
    get = config.get if isinstance(config, dict) else lambda k, d=None: getattr(config, k, d)
    d, inner = get("hidden_size"), get("intermediate_size")
    heads, kv_heads = (
        get("num_attention_heads"),
        get("num_key_value_heads") or get("num_attention_heads"),
    )
    head_dim = get("head_dim") or d // heads
    shapes = {  # (in, out) of each linear layer of a decoder layer
        "q_proj": (d, heads * head_dim),
        "k_proj": (d, kv_heads * head_dim),
        "v_proj": (d, kv_heads * head_dim),
        "o_proj": (heads * head_dim, d),
        "gate_proj": (d, inner),
        "up_proj": (d, inner),
        "down_proj": (inner, d),
    }
    if family == "lora":  # A: (r, in), B: (out, r)
        return top_layers * sum(size * (shapes[t][0] + shapes[t][1]) for t in target_modules)
    if family == "ia3":  # one vector per target: its output's width, or its input's for feed-forward ones
        widths = [shapes[t][0] if t in IA3_FEEDFORWARD else shapes[t][1] for t in IA3_TARGETS]
        return top_layers * sum(widths)
    if family == "prompt":  # n vectors of the model's width
        return size * d
    if family == "prefix":  # n keys and n values per layer, each kv_heads·head_dim wide
        return size * top_layers * 2 * kv_heads * head_dim
    if family == "ln":  # two RMSNorm gains per layer and the final norm's
        return top_layers * 2 * d + d
    if family == "full":  # every matrix and both norms of each layer
        return top_layers * (sum(i * o for i, o in shapes.values()) + 2 * d)
    raise ValueError(f"Unknown family {family!r}.")


def next_token_loss(model: nn.Module, hidden: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Mean next-token loss (nats) and accuracy of `model` fed hidden states (n, T, C) for tokens ids (n, T)."""
    T = ids.shape[1]
    # the LM head only over the text's last T-1 positions: prompt tuning's virtual ones predict nothing
    logits = model(inputs_embeds=hidden, use_cache=False, logits_to_keep=T).logits  # (n, T, V)
    predicted, targets = logits[:, :-1], ids[:, 1:]  # (n, T-1, V), (n, T-1)
    loss = F.cross_entropy(predicted.reshape(-1, predicted.shape[-1]).float(), targets.reshape(-1))
    accuracy = (predicted.argmax(-1) == targets).float().mean().item()
    return loss, accuracy


class FamiliesTrainer:
    """Every run sees the same batches; one unit of `train_steps` is one optimiser step of one run.

    Runs take turns (run 1 step 1, run 2 step 1, ..., run 1 step 2, ...), so a chunk of training can be as
    short as one run's step. `done` once every run has taken `config.steps` steps.
    """

    def __init__(self, base_model, tokenizer, text: str, config: FamiliesConfig, device="cpu"):
        self.config, self.device = config, device
        c = config
        layers = _decoder_layers(base_model)
        if c.top_layers > len(layers):
            raise ValueError(f"This model has {len(layers)} decoder layers; adapt at most that many.")
        self.start = len(layers) - c.top_layers
        names = set(linear_names(layers[-1]))
        missing = [t for t in c.target_modules if t not in names] if c.lora_ranks else []
        if missing:
            raise ValueError(
                f"No linear layer is called {', '.join(missing)}. The decoder layers have: {', '.join(sorted(names))}."
            )
        self.train_ids, self.heldout_ids = chunk_text(tokenizer, text, c)
        self.train_ids, self.heldout_ids = self.train_ids.to(device), self.heldout_ids.to(device)
        self.train_hidden = hidden_at(base_model, self.train_ids, self.start)  # (n, T, C)
        self.heldout_hidden = hidden_at(base_model, self.heldout_ids, self.start)
        self.total_parameters = count_parameters(base_model)[1]
        cut = top_model(base_model, c.top_layers)
        # the frozen model's own held-out loss: where the identity-initialised runs start
        with torch.no_grad():
            base_loss, _ = next_token_loss(cut.eval(), self.heldout_hidden, self.heldout_ids)
        self.base_heldout = base_loss.item()
        self.runs, self.optimizers, self.family, self.size = {}, {}, {}, {}
        for name, family, size in c.runs():
            torch.manual_seed(c.seed)
            model = build_family(_sharing_copy(cut), family, size, c.target_modules).to(device)
            params = [p for p in model.parameters() if p.requires_grad]
            self.runs[name], self.family[name], self.size[name] = model, family, size
            self.optimizers[name] = torch.optim.AdamW(params, lr=c.lr(family), weight_decay=0.0)
        self.names = list(self.runs)
        self.generator = torch.Generator().manual_seed(c.seed)
        self.rows = None  # the batch of the current round (every run trains on it)
        self.units = 0
        self.steps = {name: 0 for name in self.names}
        self.seconds = {name: 0.0 for name in self.names}
        self.history: dict[str, list[tuple[int, float]]] = {}
        self.accuracy: dict[str, float] = {}
        for name in self.names:
            loss, self.accuracy[name] = self.evaluate(name)
            self.history[name] = [(0, loss)]
        self.initial_heldout = {name: rows[0][1] for name, rows in self.history.items()}

    @property
    def total_units(self) -> int:
        return self.config.steps * len(self.names)

    @property
    def done(self) -> bool:
        return self.units >= self.total_units

    @torch.no_grad()
    def evaluate(self, name: str) -> tuple[float, float]:
        """Held-out next-token loss (nats per token) and accuracy of one run."""
        model = self.runs[name]
        model.eval()
        loss, accuracy = next_token_loss(model, self.heldout_hidden, self.heldout_ids)
        return loss.item(), accuracy

    def train_steps(self, n: int) -> dict:
        metrics = {}
        for _ in range(n):
            if self.done:
                break
            round_, index = divmod(self.units, len(self.names))
            if index == 0:  # a new round: one batch for every run
                self.rows = torch.randint(len(self.train_ids), (self.config.batch_size,), generator=self.generator)
            name = self.names[index]
            model = self.runs[name]
            model.train()
            started = time.perf_counter()
            rows = self.rows.to(self.device)
            loss, _ = next_token_loss(model, self.train_hidden[rows], self.train_ids[rows])
            if not torch.isfinite(loss):
                self.units = self.total_units
                raise FloatingPointError(
                    f"The loss of {name} became NaN/inf at its step {round_ + 1}: lower its learning rate."
                )
            self.optimizers[name].zero_grad(set_to_none=True)
            loss.backward()
            self.optimizers[name].step()
            self.seconds[name] += time.perf_counter() - started
            self.steps[name] += 1
            self.units += 1
            metrics[f"train {name}"] = loss.item()
            step = self.steps[name]
            if step % self.config.eval_every == 0 or step == self.config.steps:
                heldout, self.accuracy[name] = self.evaluate(name)
                self.history[name].append((step, heldout))
                metrics[f"heldout {name}"] = heldout
        return metrics

    def summary(self) -> list[dict]:
        """One row per run: family, size, trained parameters (counted and by formula), held-out loss, time."""
        rows = []
        for name, model in self.runs.items():
            trainable, _ = count_parameters(model)
            rows.append(
                dict(
                    run=name,
                    family=self.family[name],
                    size=self.size[name],
                    trained_parameters=trainable,
                    share_percent=100 * trainable / self.total_parameters,
                    steps=self.steps[name],
                    heldout_loss=self.history[name][-1][1],
                    heldout_accuracy=self.accuracy[name],
                    seconds_per_step=self.seconds[name] / max(1, self.steps[name]),
                )
            )
        return rows
