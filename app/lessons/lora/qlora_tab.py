"""Tab "QLoRA": one weight matrix in 4 bits (int4 and NF4), block sizes, double quantisation, memory.

4-bit rounding is for weights trained in full precision, so the matrix comes from MiniLM's float32 weights (the
default) or from a Hugging Face model in this server's cache. The bundled SmolLM2 is offered for contrast only: it
is a Q4_1 file dequantised to float32, already 4-bit, which the tab shows with a number (the most distinct values
in a block of 32 weights) and says in words.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.lessons.lora import figures
from app.lessons.lora.real_tab import SMOLLM2_NOTE
from app.page import LessonPage
from app.resources import load_shared_model
from models.lora.quantize import BLOCKS, bits_per_parameter, levels, matrix_report
from models.registry import validate_hf_id

TITLE = "QLoRA"
SOURCES = {
    "minilm": "MiniLM-L6 (float32 weights, as trained)",
    "smollm2": "SmolLM2-135M (dequantised Q4_1: already 4-bit)",
    "hf": "A Hugging Face model from this server's cache",
}
NAMES = {"minilm": "MiniLM", "smollm2": "SmolLM2"}
BUNDLED = {  # source: (number of layers, the matrices inside a layer)
    "minilm": (
        6,
        [
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
            "intermediate.dense",
            "output.dense",
        ],
    ),
    "smollm2": (
        30,
        [
            "self_attn.q_proj",
            "self_attn.k_proj",
            "self_attn.v_proj",
            "self_attn.o_proj",
            "mlp.gate_proj",
            "mlp.up_proj",
            "mlp.down_proj",
        ],
    ),
}


def bundled_report(source: str, layer: int, matrix: str, device: str) -> dict:
    """A bundled model's matrix in 4 bits (computed once per server for these settings: page.shared)."""
    model, _ = load_shared_model(source, device)
    return matrix_report(model, layer, matrix) | {"model": NAMES[source], "layer": layer}


def hf_report(model_id: str, layer: int, matrix: str, device: str) -> dict:
    """A cached Hugging Face model's matrix in 4 bits (per session: the id is the student's own text)."""
    model, _ = load_shared_model(validate_hf_id(model_id), device)
    return matrix_report(model, layer, matrix) | {"model": model_id, "layer": layer}


def pick_matrix(page: LessonPage) -> tuple[str, str, int, str]:
    """(source, model: a bundled name or a Hugging Face id, layer, matrix) from this tab's settings; each source
    has its own layer and matrix."""
    source = page.widget(
        st.selectbox, "source", "Weights from", list(SOURCES), default="minilm", format_func=SOURCES.get
    )
    c1, c2 = st.columns(2)
    if source in BUNDLED:
        n_layers, matrices = BUNDLED[source]
        with c1:
            layer = page.widget(st.slider, f"{source}_layer", "Layer", 0, n_layers - 1, default=0)
        with c2:
            matrix = page.widget(st.selectbox, f"{source}_matrix", "Matrix", matrices, default=matrices[0])
        return source, source, layer, matrix
    model_id = page.widget(
        st.text_input,
        "hf_id",
        "Hugging Face model id",
        default="",
        placeholder="sentence-transformers/all-MiniLM-L6-v2",
    ).strip()
    with c1:
        layer = page.widget(st.number_input, "hf_layer", "Layer", 0, 999, default=0)
    with c2:
        matrix = page.widget(
            st.text_input,
            "hf_matrix",
            "Matrix (its name inside the layer)",
            default="",
            help="e.g. q_proj or attention.self.query; empty: the layer's first matrix.",
        ).strip()
    return source, model_id, int(layer), matrix


def render(page: LessonPage) -> None:
    st.markdown(
        "QLoRA keeps the frozen base in **4 bits** and trains a LoRA adapter over it in 16 bits. Each block of "
        "weights stores one absmax scale and a 4-bit code per weight: **int4** spaces its levels evenly, "
        "**NF4** puts them at quantiles of a normal distribution, because weights trained in full precision are "
        "roughly bell-shaped (the histogram shows this matrix's). **Double quantisation** stores the scales "
        "themselves in 8 bits. Rounding to 4 bits is for full-precision weights, so the default matrix is "
        "MiniLM's (float32, as trained). (LoRA trained over a 4-bit base: the *QLoRA run* setting in the "
        "SmolLM2 tab.)"
    )
    source, model, layer, matrix = pick_matrix(page)
    if source == "smollm2":
        st.caption(SMOLLM2_NOTE)
    if source in BUNDLED:
        result = page.compute(
            "quant", "Quantising the matrix", page.shared, bundled_report, source, layer, matrix, page.device
        )
    elif not model:
        st.info("Type the id of a model in this server's Hugging Face cache (owner/name).")
        return
    else:
        result = page.compute("quant", "Quantising the matrix", hf_report, model, layer, matrix, page.device)
    if result is None:
        return
    name, layer = result["model"], result["layer"]  # the result's own: the last good one after a bad input
    errors = pd.DataFrame(result["errors"])
    errors["method"] = errors["kind"] + errors["double_quant"].map({True: " + double quant", False: ""})
    at64 = errors[errors["block_size"] == 64].set_index("method")
    ratio = at64.loc["int4", "mse"] / at64.loc["nf4", "mse"]
    m1, m2, m3 = st.columns(3)
    m1.metric("int4's error ÷ NF4's (blocks of 64)", f"{ratio:.2f}×")
    m2.metric("Most distinct values in a block of 32", f"{result['distinct_max']}")
    m3.metric("NF4's mean squared error (blocks of 64)", f"{at64.loc['nf4', 'mse']:.3g}")
    if result["distinct_max"] <= 16:
        where = "SmolLM2's Q4_1 file" if name == "SmolLM2" else "16 levels or fewer per block"
        st.warning(
            f"No block of 32 weights of this matrix holds more than {result['distinct_max']} distinct values: it "
            f"was stored in 4 bits before ({where}), so these are a quantiser's outputs, not trained values, and "
            "the errors below round one 4-bit grid onto another. Pick MiniLM for weights trained in full precision."
        )
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
    rows, cols = result["shape"]
    part = "" if result["quantised"] == rows * cols else f" (its first {result['quantised']:,} weights)"
    st.markdown(
        f"{name} layer {layer} `{result['name']}` {rows}×{cols}{part}, blocks of 64: NF4's mean squared "
        f"error is **{at64.loc['nf4', 'mse']:.3g}**, int4's **{at64.loc['int4', 'mse']:.3g}** "
        f"(**{ratio:.2f}×** NF4's). Its blocks of 32 hold {result['distinct_mean']:.1f} distinct values on "
        "average. Smaller blocks track the scale more closely but store more scales."
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
    memory[f"{name} MB"] = memory["bits"] * n / 8 / 2**20
    c3, c4 = st.columns(2)
    c3.markdown("**Bits per weight** (code + scales)")
    with c3:
        page.table(bits.round(3), width="stretch")
    c4.markdown(f"**The whole model** ({n / 1e6:.1f} M parameters)")
    with c4:
        page.table(memory.set_index("format").round(2), width="stretch")
