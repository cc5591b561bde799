"""Where retrieval enters the model, and what each place costs per generated token.

- **Input** (RAG, Lewis et al. 2020; in-context RALM, Ram et al. 2023): k passages of L tokens prepended to the
  prompt. The LM reads k·L more tokens once (prefill), and every generated token then attends over them.
- **Middle** (RETRO, Borgeaud et al. 2022, https://arxiv.org/abs/2112.04426): the text is cut into chunks of m
  tokens; each chunk's k neighbours (of r tokens, encoded by a small encoder) are read by chunked cross-attention
  in some layers. Per token: the cross-attention over k·r tokens in those layers, plus encoding the neighbours
  once per chunk.
- **Output** (kNN-LM, Khandelwal et al. 2020): one nearest-neighbour search per token over N keys of d dimensions
  (exact: N·d multiply-adds), then a mixture of two distributions; the datastore holds N·d numbers.

The costs below are multiply-add counts (×2 = FLOPs) from the model's shapes, the standard estimate of Kaplan et
al. 2020 (https://arxiv.org/abs/2001.08361): a forward pass costs about 2·P FLOPs per token for P non-embedding
parameters, plus 2·n_layers·context·d for attention. They are estimates of arithmetic, not timings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PlacementConfig:
    k: int = 3  # passages (RAG), neighbours per chunk (RETRO), neighbours per token (kNN-LM)
    passage_tokens: int = 100  # L (RAG) and r (RETRO): tokens per retrieved passage
    datastore_tokens: int = 100_000  # N: kNN-LM keys
    prompt_tokens: int = 30  # the question alone
    answer_tokens: int = 10  # tokens generated
    retro_chunk: int = 64  # m: RETRO retrieves once per chunk of this many tokens
    retro_layers: int = 6  # layers with chunked cross-attention (RETRO: every third from layer 6)
    retro_encoder_share: float = 0.1  # the neighbour encoder's size relative to the LM (RETRO's is small)

    def __post_init__(self):
        for name in ("k", "passage_tokens", "datastore_tokens", "answer_tokens", "retro_chunk"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 (got {getattr(self, name)}).")
        if self.prompt_tokens < 0 or self.retro_layers < 0 or not 0 <= self.retro_encoder_share <= 1:
            raise ValueError("The prompt, the RETRO layers and the encoder share cannot be negative.")


def lm_shapes(model_config) -> dict:
    """Non-embedding parameters, layers, width and key/value width of a Hugging Face model config (Llama-like)."""
    d = model_config.hidden_size
    layers = model_config.num_hidden_layers
    heads, kv_heads = model_config.num_attention_heads, getattr(model_config, "num_key_value_heads", None)
    kv_width = d * (kv_heads or heads) // heads
    ffn = getattr(model_config, "intermediate_size", None) or 4 * d
    per_layer = 2 * d * d + 2 * d * kv_width + 3 * d * ffn  # q, o; k, v; gate, up, down
    return {
        "params": layers * per_layer,
        "layers": layers,
        "d": d,
        "kv_width": kv_width,
        "vocab": model_config.vocab_size,
    }


def costs_per_token(shapes: dict, config: PlacementConfig) -> list[dict]:
    """For the LM alone and each placement: multiply-adds per generated token (averaged over the answer), the
    one-time prefill, and the floats it must keep (KV cache of the prompt; the datastore's keys)."""
    p, n_layers, d, vocab = shapes["params"], shapes["layers"], shapes["d"], shapes["vocab"]
    kv_per_token = 2 * n_layers * shapes["kv_width"]  # one key and one value per layer

    def forward(context: int) -> float:  # one token through the LM with `context` tokens before it
        return p + d * vocab + 2 * n_layers * context * d  # weights and output layer; attention scores, values

    def generate(prompt: int) -> tuple[float, float]:  # (prefill total, mean per generated token)
        decode = sum(forward(prompt + t) for t in range(config.answer_tokens)) / config.answer_tokens
        return sum(forward(t) for t in range(prompt)), decode

    plain_prefill, plain = generate(config.prompt_tokens)
    retrieved = config.k * config.passage_tokens  # tokens of retrieved text per query (RAG) or per chunk (RETRO)
    rag_prefill, rag = generate(config.prompt_tokens + retrieved)

    retro_attention = config.retro_layers * (2 * retrieved * d + 4 * d * d)  # scores, values; q, k, v, o
    retro_encoder = config.retro_encoder_share * p * retrieved / config.retro_chunk  # encoding, per token
    retro = plain + retro_attention + retro_encoder

    knn = plain + config.datastore_tokens * d  # exact search: one d-dimensional distance per key
    prompt_cache = kv_per_token * config.prompt_tokens
    return [
        dict(place="LM alone", per_token=plain, prefill=plain_prefill, memory=prompt_cache, attribution="none"),
        dict(
            place="input (RAG)",
            per_token=rag,
            prefill=rag_prefill,
            memory=kv_per_token * (config.prompt_tokens + retrieved),
            attribution="none: the passages are just more prompt",
        ),
        dict(
            place="middle (RETRO)",
            per_token=retro,
            prefill=plain_prefill,
            memory=prompt_cache + config.retro_layers * 2 * retrieved * d,
            attribution="per chunk: the neighbours it cross-attended to",
        ),
        dict(
            place="output (kNN-LM)",
            per_token=knn,
            prefill=plain_prefill,
            memory=prompt_cache + config.datastore_tokens * d,
            attribution="per token: the stored contexts that fired",
        ),
    ]
