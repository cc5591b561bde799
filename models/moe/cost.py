"""What an MoE costs: parameters stored (total) against parameters used per token (active), and FLOPs per token.

A token passes through the attention, the shared experts and k of the E routed experts, so

    active = embeddings + L·(attention + router + shared + k·expert) + head       total = the same with E·expert
    FLOPs per token ≈ 2 · (active parameters that are matmul weights)   (one multiply and one add per weight;
    the attention scores, which grow with the context, are left out)

A dense model with the same active size costs the same FLOPs but stores far fewer weights; a dense model with the
same total size stores as much and costs E/k times more per token in its MLPs.

The real configs below are the defaults of transformers' config classes (MixtralConfig, DeepseekV3Config,
Qwen2MoeConfig), which are the published models' config.json values; tests/models/test_moe.py checks they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class MoEArchitecture:
    name: str
    source: str  # where the numbers come from
    hidden: int  # d_model
    layers: int
    vocab: int
    heads: int
    kv_heads: int
    head_dim: int
    n_experts: int  # routed experts per MoE layer
    top_k: int
    expert_hidden: int  # SwiGLU width of one routed expert
    shared_hidden: int = 0  # total SwiGLU width of the shared expert(s)
    dense_layers: int = 0  # first layers with a dense MLP instead (DeepSeek-V3: 3)
    dense_hidden: int = 0  # width of those dense MLPs
    mla: tuple[int, int, int, int, int] | None = None  # DeepSeek MLA: q_lora, kv_lora, nope, rope, v dims
    published: str = ""  # the headline numbers, for the caption


REAL_CONFIGS = {
    "Mixtral-8x7B": MoEArchitecture(
        "Mixtral-8x7B",
        "transformers MixtralConfig() defaults = mistralai/Mixtral-8x7B-v0.1 config.json",
        hidden=4096,
        layers=32,
        vocab=32000,
        heads=32,
        kv_heads=8,
        head_dim=128,
        n_experts=8,
        top_k=2,
        expert_hidden=14336,
        published="46.7B total, 12.9B active",
    ),
    "DeepSeek-V3": MoEArchitecture(
        "DeepSeek-V3",
        "transformers DeepseekV3Config() defaults = deepseek-ai/DeepSeek-V3 config.json",
        hidden=7168,
        layers=61,
        vocab=129280,
        heads=128,
        kv_heads=128,
        head_dim=128,
        n_experts=256,
        top_k=8,
        expert_hidden=2048,
        shared_hidden=2048,
        dense_layers=3,
        dense_hidden=18432,
        mla=(1536, 512, 128, 64, 128),
        published="671B total, 37B active (plus a 14B next-token-prediction module)",
    ),
    "Qwen1.5-MoE-A2.7B": MoEArchitecture(
        "Qwen1.5-MoE-A2.7B",
        "transformers Qwen2MoeConfig() defaults = Qwen/Qwen1.5-MoE-A2.7B config.json",
        hidden=2048,
        layers=24,
        vocab=151936,
        heads=16,
        kv_heads=16,
        head_dim=128,
        n_experts=60,
        top_k=4,
        expert_hidden=1408,
        shared_hidden=5632,
        published="14.3B total, 2.7B active",
    ),
}


def attention_params(a: MoEArchitecture) -> int:
    h = a.hidden
    if a.mla is not None:  # multi-head latent attention: low-rank queries and a compressed KV
        q_lora, kv_lora, nope, rope, v = a.mla
        return (
            h * q_lora
            + q_lora * a.heads * (nope + rope)
            + h * (kv_lora + rope)
            + kv_lora * a.heads * (nope + v)
            + a.heads * v * h
        )
    return h * a.heads * a.head_dim * 2 + h * a.kv_heads * a.head_dim * 2  # q, o and k, v


def moe_cost(a: MoEArchitecture) -> dict[str, float]:
    """Total and active parameters and FLOPs per token, with the two dense models to compare against."""
    h, swiglu = a.hidden, 3 * a.hidden  # a SwiGLU MLP of width F has 3·h·F weights
    moe_layers = a.layers - a.dense_layers
    embed = 2 * a.vocab * h  # input embedding and output head (untied in all three)
    attention = a.layers * attention_params(a)
    dense = a.dense_layers * swiglu * a.dense_hidden
    shared = moe_layers * (swiglu * a.shared_hidden + h * a.n_experts)  # shared experts and the router
    expert = swiglu * a.expert_hidden
    total = embed + attention + dense + shared + moe_layers * a.n_experts * expert
    active = embed + attention + dense + shared + moe_layers * a.top_k * expert
    matmul_active = active - a.vocab * h  # the input embedding is a lookup, not a matmul
    matmul_total = total - a.vocab * h
    return {
        "total_params": total,
        "active_params": active,
        "active_share": active / total,
        "flops_per_token": 2 * matmul_active,
        "dense_same_total_flops": 2 * matmul_total,  # a dense model storing as much
    }


def tiny_model_cost(model) -> dict[str, float]:
    """The same split counted on a TinyMoELM's own parameters."""
    c = model.config
    routed = sum(b.moe.experts.w_gate.numel() * 3 for b in model.blocks)  # all layers' routed experts
    total = sum(p.numel() for p in model.parameters())
    active = total - routed + routed * c.top_k // c.n_experts
    matmul_active = active - model.tok.weight.numel() - model.pos.weight.numel()
    return {
        "total_params": total,
        "active_params": active,
        "active_share": active / total,
        "flops_per_token": 2 * matmul_active,
        "dense_same_total_flops": 2 * (matmul_active + routed - routed * c.top_k // c.n_experts),
    }


def expert_budget(n_experts: int, top_k: int, n_shared: int, d_model: int, d_expert: int) -> dict[str, int]:
    """Expert weights of one MoE layer (SwiGLU: 3·D·F each): stored, used per token, and the number of expert sets
    a token can be sent to, C(E, k). Fine-grained experts (DeepSeekMoE) keep the first two and raise the third."""
    one = 3 * d_model * d_expert
    return {
        "stored": (n_experts + n_shared) * one,
        "active": (top_k + n_shared) * one,
        "combinations": math.comb(n_experts, top_k),
    }
