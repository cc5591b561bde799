"""LoRA: fine-tune a low-rank update beside frozen weights (Hu et al. 2021, https://arxiv.org/abs/2106.09685).

A frozen linear layer y = x W^T (W: (out, in)) gets a trainable update of rank r:

    y = x W^T + s · x A^T B^T          A: (r, in), B: (out, r), s = alpha / r

A starts kaiming-uniform and B at zero (as PEFT does), so the adapted model starts *exactly* equal to the base.
Only A and B train: r·(in + out) numbers instead of in·out. rsLoRA (Kalajdzievski 2023,
https://arxiv.org/abs/2312.03732) uses s = alpha / sqrt(r), so a higher rank does not shrink the update.
Merging folds the update into the weight, W' = W + s·B·A, so inference costs nothing extra.

    model = inject_lora(base_model, target_modules=["q_proj", "v_proj"], r=4, alpha=8)
    trainable, total = count_parameters(model)
    merged = merge_lora(model)  # plain nn.Linear layers holding W + (alpha/r)·B·A
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class LoRAConfig:
    r: int = 4  # rank of the update B·A
    alpha: float = 8.0  # scale numerator: the update is multiplied by alpha / r (or alpha / sqrt(r))
    dropout: float = 0.0  # dropout on the adapter's input only (the base path is untouched)
    rslora: bool = False  # rank-stabilised scale alpha / sqrt(r) instead of alpha / r
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")  # names (or name endings) of the layers

    def __post_init__(self):
        if int(self.r) != self.r or self.r < 1:
            raise ValueError(f"The rank r must be a whole number of at least 1 (got {self.r}).")
        if not self.alpha > 0:  # also rejects NaN
            raise ValueError(f"alpha must be positive (got {self.alpha}); try alpha = 2·r.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1) (got {self.dropout}).")
        if isinstance(self.target_modules, str):
            self.target_modules = (self.target_modules,)
        self.target_modules = tuple(t.strip() for t in self.target_modules if t.strip())
        if not self.target_modules:
            raise ValueError("Name at least one target module, e.g. q_proj.")

    @property
    def scaling(self) -> float:
        return lora_scaling(self.r, self.alpha, self.rslora)


def lora_scaling(r: int, alpha: float, rslora: bool = False) -> float:
    """The factor s in W + s·B·A: alpha / r (LoRA) or alpha / sqrt(r) (rsLoRA)."""
    return alpha / math.sqrt(r) if rslora else alpha / r


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable rank-r update: y = base(x) + s · B(A(dropout(x)))."""

    def __init__(
        self,
        base: nn.Linear,
        r: int,
        alpha: float,
        dropout: float = 0.0,
        rslora: bool = False,
    ):
        super().__init__()
        out_features, in_features = base.weight.shape
        if r < 1 or r > min(in_features, out_features):
            raise ValueError(
                f"The rank r={r} must be between 1 and the layer's smaller side "
                f"{min(in_features, out_features)} (the layer is {in_features} -> {out_features})."
            )
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.r, self.alpha, self.rslora = r, alpha, rslora
        self.scaling = lora_scaling(r, alpha, rslora)
        factory = dict(device=base.weight.device, dtype=base.weight.dtype)
        self.lora_A = nn.Parameter(torch.empty(r, in_features, **factory))  # (r, in)
        self.lora_B = nn.Parameter(torch.zeros(out_features, r, **factory))  # (out, r)
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # PEFT's init of lora_A
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def delta_weight(self) -> torch.Tensor:
        """The update s·B·A, shaped like the base weight (out, in)."""
        return self.scaling * (self.lora_B @ self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = self.dropout(x) @ self.lora_A.T  # (..., r)
        return self.base(x) + self.scaling * (update @ self.lora_B.T)  # (..., out)


def linear_names(model: nn.Module) -> list[str]:
    """The distinct last name parts of the model's linear layers (what target_modules can name)."""
    names = {name.rsplit(".", 1)[-1] for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    return sorted(n for n in names if n)


def _matches(name: str, targets: Sequence[str]) -> bool:
    """PEFT's rule for a list of names: the module's full name equals a target or ends with '.target'."""
    return any(name == t or name.endswith("." + t) for t in targets)


def inject_lora(
    model: nn.Module,
    target_modules: Sequence[str] = ("q_proj", "v_proj"),
    r: int = 4,
    alpha: float = 8.0,
    dropout: float = 0.0,
    rslora: bool = False,
) -> nn.Module:
    """Freeze every parameter of `model` and wrap each target nn.Linear in a LoRALinear (in place).

    `model` may be any module (a transformers model, an nn.Sequential) or a plain nn.Linear, which is
    returned wrapped. Raises ValueError listing the linear layers that exist when no target matches.
    """
    config = LoRAConfig(r, alpha, dropout, rslora, tuple(target_modules))
    for p in model.parameters():
        p.requires_grad_(False)
    if isinstance(model, nn.Linear):
        return LoRALinear(model, config.r, config.alpha, config.dropout, config.rslora)
    targets = [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and _matches(name, config.target_modules)
    ]
    if not targets:
        raise ValueError(
            f"No linear layer matches {list(config.target_modules)}. "
            f"This model's linear layers are: {', '.join(linear_names(model)) or 'none'}."
        )
    for name in targets:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        base = getattr(parent, child)
        setattr(parent, child, LoRALinear(base, config.r, config.alpha, config.dropout, config.rslora))
    return model


def lora_layers(model: nn.Module) -> dict[str, LoRALinear]:
    """{module name: LoRALinear} in model order."""
    if isinstance(model, LoRALinear):
        return {"": model}
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


@torch.no_grad()
def merge_lora(model: nn.Module, inplace: bool = False) -> nn.Module:
    """Replace every LoRALinear by a plain nn.Linear holding W + s·B·A (PEFT's merge_and_unload).

    By default the adapted model is left as it is and a merged copy is returned.
    """
    if not inplace:
        model = copy.deepcopy(model)

    def merged(layer: LoRALinear) -> nn.Linear:
        base = layer.base
        linear = nn.Linear(base.in_features, base.out_features, bias=base.bias is not None).to(
            device=base.weight.device, dtype=base.weight.dtype
        )
        linear.weight.copy_(base.weight + layer.delta_weight())
        if base.bias is not None:
            linear.bias.copy_(base.bias)
        return linear

    if isinstance(model, LoRALinear):
        return merged(model)
    for name, layer in list(lora_layers(model).items()):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, merged(layer))
    return model


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts; shared (tied) tensors counted once."""
    seen, trainable, total = set(), 0, 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return trainable, total


@torch.no_grad()
def merge_report(model: nn.Module, input_ids: torch.Tensor, repeats: int = 3) -> dict:
    """Merged against unmerged on the same input: the largest logit difference and the forward times.

    The merged copy shares every frozen weight with `model` (only the merged matrices are new).
    """
    memo = {id(p): p for p in model.parameters()}
    merged = merge_lora(copy.deepcopy(model, memo), inplace=True)

    def timed(m) -> tuple[torch.Tensor, float]:
        m.eval()
        out = m(input_ids=input_ids).logits  # warm-up, and the result
        times = []
        for _ in range(repeats):
            if input_ids.is_cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            m(input_ids=input_ids)
            if input_ids.is_cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        return out, statistics.median(times)

    unmerged_logits, unmerged_s = timed(model)
    merged_logits, merged_s = timed(merged)
    return dict(
        max_abs_difference=(merged_logits - unmerged_logits).abs().max().item(),
        max_abs_logit=unmerged_logits.abs().max().item(),
        unmerged_seconds=unmerged_s,
        merged_seconds=merged_s,
        adapters=len(lora_layers(model)),
        unmerged_logits=unmerged_logits[0, -1].float().cpu(),
        merged_logits=merged_logits[0, -1].float().cpu(),
    )
