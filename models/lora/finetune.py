"""LoRA on a real model: SmolLM2 adapted at several ranks, beside full fine-tuning of the same matrices.

Every run starts from the same frozen base and sees the same batches of the user's text:

- "r=1", "r=4", ...: LoRA (models/lora/adapters.py) on the target matrices of the top `top_layers` decoder layers;
- "full": those same matrices trained directly (every number in them);
- "QLoRA r=k" (optional): LoRA over a base whose linear weights were rounded to NF4 (models/lora/quantize.py).

The bundled SmolLM2 is itself 4-bit: it ships as a Q4_1 GGUF file dequantised to float32 on load (every block of
32 weights holds at most 16 distinct values), so "the base as loaded" is that dequantised model, not a
full-precision one, and the QLoRA run rounds it again, onto NF4's levels in blocks of 64.

Speed on a CPU: only the top layers are adapted, so the frozen layers below compute the same hidden states for
every run and every step. They are computed once per text chunk (`hidden_states[start]`) and each step runs only
the top layers and the LM head: the same numbers as the whole model (tests/models/test_lora.py checks it), far less work.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
from torch import nn

from models.lora.adapters import count_parameters, inject_lora, linear_names, lora_layers
from models.lora.quantize import fake_quantize_linears


@dataclass
class FineTuneConfig:
    ranks: tuple[int, ...] = (1, 4, 16)  # LoRA ranks trained side by side
    full: bool = True  # also fine-tune the same matrices in full
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")  # which linear layers get adapters
    top_layers: int = 2  # adapt only the last n decoder layers (the rest are frozen and cached)
    alpha_over_r: float = 2.0  # alpha = alpha_over_r · r for each rank (the common alpha = 2r)
    rslora: bool = False  # scale alpha/sqrt(r) instead of alpha/r
    lr: float = 2e-3  # AdamW learning rate of the LoRA runs
    full_lr: float = 2e-4  # AdamW learning rate of full fine-tuning (usually ~10x lower)
    qlora_rank: int = 0  # also train LoRA at this rank over an NF4-rounded base (0 = no QLoRA run)
    seq_len: int = 32  # tokens per training sequence
    batch_size: int = 4  # sequences per step
    heldout_sequences: int = 8  # sequences kept aside for the held-out loss
    max_train_sequences: int = 48  # training sequences taken from the text (their hidden states are cached)
    eval_every: int = 5  # steps between held-out evaluations
    seed: int = 0  # batches and adapter init

    def __post_init__(self):
        self.ranks = tuple(sorted({int(r) for r in self.ranks}))
        if isinstance(self.target_modules, str):  # "q_proj, v_proj" from a text box
            self.target_modules = self.target_modules.replace(",", " ").split()
        self.target_modules = tuple(t.strip() for t in self.target_modules if t.strip())
        if not self.ranks and not self.full and not self.qlora_rank:
            raise ValueError("Pick at least one rank, full fine-tuning or QLoRA.")
        if any(r < 1 for r in self.ranks) or self.qlora_rank < 0:
            raise ValueError("Ranks must be at least 1.")
        if not self.target_modules:
            raise ValueError("Name at least one target module, e.g. q_proj.")
        if self.top_layers < 1:
            raise ValueError("Adapt at least one layer (top_layers ≥ 1).")
        if not self.alpha_over_r > 0:
            raise ValueError(f"alpha must be positive (alpha/r = {self.alpha_over_r}).")
        if not (self.lr > 0 and self.full_lr > 0):
            raise ValueError("Learning rates must be positive.")
        if (
            self.seq_len < 4
            or self.batch_size < 1
            or self.heldout_sequences < 1
            or (self.max_train_sequences < self.batch_size)
        ):
            raise ValueError(
                "Use sequences of at least 4 tokens, at least one per batch, and at least a batch of "
                "training sequences."
            )
        if self.eval_every < 1:
            raise ValueError("eval_every must be at least 1.")


def chunk_text(tokenizer, text: str, config: FineTuneConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, heldout) token chunks (n, seq_len): the last `heldout_sequences` chunks are held out."""
    chars = 12 * config.seq_len * (config.max_train_sequences + config.heldout_sequences)
    ids = tokenizer(text[:chars], return_tensors="pt")["input_ids"][0]  # ~4 characters per token
    n = ids.numel() // config.seq_len
    need = config.heldout_sequences + config.batch_size
    if n < need:
        raise ValueError(
            f"The text has {ids.numel():,} tokens: too short for {need} sequences of {config.seq_len} "
            f"tokens ({need * config.seq_len:,} tokens). Use a longer text or shorter sequences."
        )
    chunks = ids[: n * config.seq_len].view(n, config.seq_len)
    train, heldout = chunks[: n - config.heldout_sequences], chunks[n - config.heldout_sequences :]
    return train[: config.max_train_sequences], heldout


def _decoder_layers(model: nn.Module) -> nn.ModuleList:
    try:
        return model.model.layers
    except AttributeError as exc:
        raise ValueError("This trainer expects a Llama-style causal LM (model.model.layers).") from exc


def _sharing_copy(model: nn.Module, clone: set[int] = frozenset()) -> nn.Module:
    """A copy of the module tree that shares every parameter except those whose id is in `clone`."""
    memo = {id(p): p for p in model.parameters() if id(p) not in clone}
    return copy.deepcopy(model, memo)


@torch.no_grad()
def hidden_at(model: nn.Module, ids: torch.Tensor, start: int, batch: int = 16) -> torch.Tensor:
    """The input of decoder layer `start` for token ids (n, T): (n, T, C)."""
    out = []
    body = getattr(model, "model", model)  # the decoder stack without the LM head: no logits to compute
    for i in range(0, len(ids), batch):
        states = body(input_ids=ids[i : i + batch], output_hidden_states=True).hidden_states
        out.append(states[start])
    return torch.cat(out)


def forward_top(model: nn.Module, hidden: torch.Tensor, labels: torch.Tensor, start: int):
    """Run layers start.. and the LM head on cached hidden states; returns the mean next-token loss."""
    layers = _decoder_layers(model)
    model.model.layers = layers[start:]
    try:
        return model(inputs_embeds=hidden, labels=labels, use_cache=False).loss
    finally:
        model.model.layers = layers


class LoRAFineTuner:
    """Trains every run on the same batches; `train_steps(n)` advances all of them by n steps."""

    def __init__(self, base_model, tokenizer, text: str, config: FineTuneConfig, device="cpu"):
        self.config, self.tokenizer, self.device = config, tokenizer, device
        c = config
        layers = _decoder_layers(base_model)
        self.start = max(0, len(layers) - c.top_layers)
        names = set(linear_names(layers[-1]))
        missing = [t for t in c.target_modules if t not in names]
        if missing:
            raise ValueError(
                f"No linear layer is called {', '.join(missing)}. The decoder layers have: {', '.join(sorted(names))}."
            )
        width = min(min(m.weight.shape) for m in layers[-1].modules() if isinstance(m, nn.Linear))
        too_big = [r for r in (*c.ranks, c.qlora_rank) if r > width]
        if too_big:
            raise ValueError(f"Ranks {too_big} exceed the target layers' smaller side ({width}).")
        self.train_ids, self.heldout_ids = chunk_text(tokenizer, text, c)
        self.base = base_model
        self.train_hidden = hidden_at(base_model, self.train_ids.to(device), self.start)
        self.heldout_hidden = hidden_at(base_model, self.heldout_ids.to(device), self.start)
        self.runs, self.optimizers, self.hidden = {}, {}, {}
        torch.manual_seed(c.seed)
        for r in c.ranks:
            self._add_lora(f"r={r}", r, base_model, self.train_hidden, self.heldout_hidden)
        if c.full:
            targets = self._target_weights(base_model)
            model = _sharing_copy(base_model, clone={id(w) for w in targets})
            for p in model.parameters():
                p.requires_grad_(False)
            trainable = self._target_weights(model)
            for w in trainable:
                w.requires_grad_(True)
            self.runs["full"] = model
            self.optimizers["full"] = torch.optim.AdamW(trainable, lr=c.full_lr, weight_decay=0.0)
            self.hidden["full"] = (self.train_hidden, self.heldout_hidden)
        if c.qlora_rank:
            quantized = fake_quantize_linears(_sharing_copy(base_model, clone=set(map(id, base_model.parameters()))))
            train_h = hidden_at(quantized, self.train_ids.to(device), self.start)
            heldout_h = hidden_at(quantized, self.heldout_ids.to(device), self.start)
            self._add_lora(f"QLoRA r={c.qlora_rank}", c.qlora_rank, quantized, train_h, heldout_h)
        self.generator = torch.Generator().manual_seed(c.seed)
        self.step = 0
        self.done = False
        self.history: dict[str, list[tuple[int, float]]] = {name: [] for name in self.runs}
        self.seconds: dict[str, float] = {name: 0.0 for name in self.runs}
        self.peak_memory: dict[str, float] = {}
        self.initial_heldout = self.evaluate()
        for name, loss in self.initial_heldout.items():
            self.history[name].append((0, loss))

    def _target_weights(self, model) -> list[nn.Parameter]:
        layers = _decoder_layers(model)[self.start :]
        return [
            m.weight
            for layer in layers
            for name, m in layer.named_modules()
            if isinstance(m, nn.Linear) and name.rsplit(".", 1)[-1] in self.config.target_modules
        ]

    def _add_lora(self, name, r, base_model, train_hidden, heldout_hidden):
        c = self.config
        model = _sharing_copy(base_model)
        for p in model.parameters():
            p.requires_grad_(False)
        for layer in _decoder_layers(model)[self.start :]:
            inject_lora(layer, c.target_modules, r=r, alpha=c.alpha_over_r * r, rslora=c.rslora)
        params = [p for p in model.parameters() if p.requires_grad]
        self.runs[name] = model
        self.optimizers[name] = torch.optim.AdamW(params, lr=c.lr, weight_decay=0.0)
        self.hidden[name] = (train_hidden, heldout_hidden)

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Held-out next-token loss (nats per token) of every run."""
        losses = {}
        for name, model in self.runs.items():
            model.eval()
            hidden = self.hidden[name][1]
            losses[name] = forward_top(model, hidden, self.heldout_ids.to(self.device), self.start).item()
        return losses

    def train_steps(self, n: int) -> dict:
        metrics = {}
        for _ in range(n):
            rows = torch.randint(len(self.train_ids), (self.config.batch_size,), generator=self.generator)
            labels = self.train_ids[rows].to(self.device)
            for name, model in self.runs.items():
                model.train()
                if self.device.startswith("cuda"):
                    torch.cuda.reset_peak_memory_stats()
                started = time.perf_counter()
                loss = forward_top(model, self.hidden[name][0][rows], labels, self.start)
                if not torch.isfinite(loss):
                    self.done = True
                    raise FloatingPointError(
                        f"The loss of {name} became NaN/inf at step {self.step + 1}: lower the learning rate and reset."
                    )
                self.optimizers[name].zero_grad(set_to_none=True)
                loss.backward()
                self.optimizers[name].step()
                if self.device.startswith("cuda"):
                    torch.cuda.synchronize()
                    peak = torch.cuda.max_memory_allocated() / 2**20
                    self.peak_memory[name] = max(self.peak_memory.get(name, 0.0), peak)
                self.seconds[name] += time.perf_counter() - started
                metrics[f"train {name}"] = loss.item()
            self.step += 1
            if self.step % self.config.eval_every == 0:
                for name, loss in self.evaluate().items():
                    self.history[name].append((self.step, loss))
                    metrics[f"heldout {name}"] = loss
        return metrics

    def summary(self) -> list[dict]:
        """One row per run: trained parameters and their share, final held-out loss, time and memory."""
        rows = []
        for name, model in self.runs.items():
            trainable, total = count_parameters(model)
            opt_bytes = 4 * trainable * 4  # fp32 weights, gradients and AdamW's two moments
            rows.append(
                dict(
                    run=name,
                    trained_parameters=trainable,
                    share_percent=100 * trainable / total,
                    heldout_loss=self.history[name][-1][1],
                    seconds_per_step=self.seconds[name] / max(1, self.step),
                    training_state_mb=opt_bytes / 2**20,
                    peak_memory_mb=self.peak_memory.get(name),
                )
            )
        return rows

    def delta_weights(self, layer: int, module: str) -> dict[str, torch.Tensor]:
        """ΔW of every run for one target matrix of decoder layer `layer` (counted from the bottom)."""
        out = {}
        base_layers = _decoder_layers(self.base)
        w0 = dict(base_layers[layer].named_modules())[_module_path(base_layers[layer], module)].weight
        for name, model in self.runs.items():
            target = _decoder_layers(model)[layer]
            found = dict(target.named_modules())[_module_path(target, module)]
            if name.startswith("QLoRA"):
                continue  # its base differs: compare like with like
            if name == "full":
                out[name] = (found.weight - w0).detach().float().cpu()
            else:
                out[name] = lora_layers(found)[""].delta_weight().detach().float().cpu()
        return out

    def lora_A(self, name: str, layer: int, module: str) -> torch.Tensor:
        target = _decoder_layers(self.runs[name])[layer]
        return dict(target.named_modules())[_module_path(target, module)].lora_A.detach().float().cpu()

    @torch.no_grad()
    def sample(self, name: str | None, prompt: str, max_new_tokens: int = 24) -> str:
        """Greedy continuation of `prompt` by one run (None: the base model)."""
        model = self.base if name is None else self.runs[name]
        model.eval()
        ids = self.tokenizer(prompt, return_tensors="pt")["input_ids"].to(self.device)
        out = model.generate(
            ids,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=self.tokenizer.eos_token_id,
        )
        return self.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


def _module_path(layer: nn.Module, module: str) -> str:
    for name, _ in layer.named_modules():
        if name == module or name.endswith("." + module):
            return name
    raise ValueError(f"No module {module!r} in this layer.")


def subspace_similarity(a1: torch.Tensor, a2: torch.Tensor) -> torch.Tensor:
    """The LoRA paper's grid φ(i, j) = ||U_i^T U_j||_F² / min(i, j) (Hu et al. 2021, section 7.2).

    U are the right singular vectors of A (r, d), i.e. the input directions the adapter reads; (r1, r2) grid.
    """
    u1 = torch.linalg.svd(a1.double(), full_matrices=False).Vh  # (r1, d)
    u2 = torch.linalg.svd(a2.double(), full_matrices=False).Vh  # (r2, d)
    overlap = (u1 @ u2.T).pow(2)  # (r1, r2)
    cumulative = overlap.cumsum(0).cumsum(1)
    i = torch.arange(1, len(u1) + 1)[:, None]
    j = torch.arange(1, len(u2) + 1)[None, :]
    return (cumulative / torch.minimum(i, j)).float()


def random_subspace_similarity(i: int, j: int, d: int) -> float:
    """E[φ(i, j)] for an i- and a j-dimensional subspace of R^d drawn at random (the chance level of the grid).

    E||U_i^T U_j||_F² = i·j/d (each of the i·j squared cosines has mean 1/d), so E φ(i, j) = max(i, j)/d:
    1/d for φ(1, 1), max(r1, r2)/d for the whole grid's corner φ(r1, r2).
    """
    return max(i, j) / d
