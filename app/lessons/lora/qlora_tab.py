"""Tab "QLoRA": one SmolLM2 matrix in 4 bits (int4 and NF4), block sizes, double quantisation, memory."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from app.lessons.lora import figures
from app.page import LessonPage
from app.resources import load_shared_model
from models.lora.quantize import bits_per_parameter, levels, quantization_error, quantize

TITLE = "QLoRA"
BLOCKS = [16, 32, 64, 128, 256, 1024, 4096]
MATRICES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@st.cache_data(max_entries=16, show_spinner="Quantising the matrix…")
def quantize_matrix(device: str, layer: int, matrix: str) -> dict:
    model, _ = load_shared_model("smollm2", device)
    block = model.model.layers[layer]
    weight = (
        dict(block.named_modules())[next(n for n, _ in block.named_modules() if n.endswith(matrix))]
        .weight.detach()
        .float()
        .cpu()
    )
    errors = pd.DataFrame(
        [quantization_error(weight, kind, b) for kind in ("int4", "nf4") for b in BLOCKS]
        + [quantization_error(weight, "nf4", b, double_quant=True) for b in BLOCKS]
    )
    q = quantize(weight, "nf4", 64)
    absmax = q.absmax.repeat_interleave(64)[: weight.numel()]
    normed = (weight.flatten() / absmax).numpy()
    g = torch.Generator().manual_seed(0)
    sample = normed[torch.randperm(len(normed), generator=g)[:60_000].numpy()]
    n_params = sum(p.numel() for p in model.parameters())
    return dict(shape=tuple(weight.shape), errors=errors, normed=sample, n_params=n_params)


def render(page: LessonPage) -> None:
    st.markdown(
        "QLoRA keeps the frozen base in **4 bits** and trains a LoRA adapter over it in 16 bits. Each block of "
        "weights stores one absmax scale and a 4-bit code per weight: **int4** spaces its levels evenly, "
        "**NF4** puts them at quantiles of a normal distribution, where trained weights actually lie. "
        "**Double quantisation** stores the scales themselves in 8 bits. (LoRA trained over the 4-bit base: "
        "the *QLoRA run* setting in the SmolLM2 tab.)"
    )
    c1, c2 = st.columns(2)
    with c1:
        layer = page.widget(st.slider, "q_layer", "Decoder layer", 0, 29, default=0)
    with c2:
        matrix = page.widget(st.selectbox, "q_matrix", "Matrix", MATRICES, default="q_proj")
    result = page.compute("quant", "Quantising the matrix", quantize_matrix, page.device, layer, matrix)
    if result is None:
        return
    errors = result["errors"]
    errors["method"] = errors["kind"] + errors["double_quant"].map({True: " + double quant", False: ""})
    plot = errors.assign(kind=errors["method"])
    left, right = st.columns(2)
    with left:
        page.chart(figures.quant_error_figure(plot[~plot["double_quant"]]), errors, "quant-error")
    with right:
        page.chart(
            figures.histogram_figure(result["normed"], {"nf4": levels("nf4").numpy(), "int4": levels("int4").numpy()}),
            None,
            "quant-histogram",
        )
    at64 = errors[errors["block_size"] == 64].set_index("method")
    st.markdown(
        f"Layer {layer} `{matrix}` {result['shape'][0]}×{result['shape'][1]}, blocks of 64: NF4's mean squared "
        f"error is **{at64.loc['nf4', 'mse']:.3g}**, int4's **{at64.loc['int4', 'mse']:.3g}** "
        f"({at64.loc['int4', 'mse'] / at64.loc['nf4', 'mse']:.2f}× NF4's). Smaller blocks track the scale "
        "more closely but store more scales."
    )
    bits = pd.DataFrame(
        [
            dict(
                block_size=b,
                **{
                    "bits/weight": bits_per_parameter(b),
                    "bits/weight, double quant": bits_per_parameter(b, True),
                    "measured (NF4 + DQ)": float(
                        errors[(errors["block_size"] == b) & errors["double_quant"]]["bits_per_parameter"].iloc[0]
                    ),
                },
            )
            for b in BLOCKS
        ]
    ).set_index("block_size")
    n = result["n_params"]
    memory = pd.DataFrame(
        [
            dict(format="float32", bits=32.0),
            dict(format="bf16 (16 bits)", bits=16.0),
            dict(format="int8, blocks of 64", bits=8 + 32 / 64),
            dict(format="NF4, blocks of 64", bits=bits_per_parameter(64)),
            dict(format="NF4 + double quant", bits=bits_per_parameter(64, True)),
        ]
    )
    memory["SmolLM2 MB"] = memory["bits"] * n / 8 / 2**20
    c3, c4 = st.columns(2)
    c3.markdown("**Bits per weight** (code + scales)")
    c3.dataframe(bits.round(3), width="stretch")
    c4.markdown(f"**The whole model** ({n / 1e6:.1f} M parameters)")
    c4.dataframe(memory.set_index("format").round(2), width="stretch")
