"""Tab "Merge": W + (α/r)·B·A folded into one matrix gives the same outputs, with no adapter cost."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from app.lessons.lora.real_tab import RUN, SMOLLM2_NOTE
from app.page import LessonPage
from app.resources import load_shared_model
from models.lora.adapters import inject_lora, lora_layers, merge_report

TITLE = "Merge"


def untrained_demo(device: str, r: int = 8):
    """SmolLM2 with adapters whose B is random (seeded), so the update is not zero; marked as such."""
    model, tokenizer = load_shared_model("smollm2", device)
    memo = {id(p): p for p in model.parameters()}
    import copy

    adapted = inject_lora(copy.deepcopy(model, memo), ["q_proj", "v_proj"], r=r, alpha=2 * r)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for layer in lora_layers(adapted).values():
            layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=g).to(layer.lora_B) * 0.02)
    return adapted, tokenizer


def render(page: LessonPage) -> None:
    st.markdown(
        "After training, W′ = W + (α/r)·B·A is one matrix again: the merged model computes the same "
        "function (up to float rounding) and runs exactly as fast as the base model, while the unmerged one "
        "does two extra small matmuls per adapted layer."
    )
    st.caption(SMOLLM2_NOTE)
    run = page.run(RUN)
    lora_runs = [n for n in (run.trainer.runs if run else {}) if n.startswith("r=")]
    options = lora_runs + ["untrained adapter (random B)"]
    choice = st.selectbox(
        "Adapter to merge",
        options,
        key=page.state_key("merge-run"),
        help="The runs trained in the SmolLM2 tab, or an untrained r=8 adapter with a random B.",
    )
    sentence = page.widget(
        st.text_input,
        "merge_text",
        "Input text",
        default="Low-rank adapters merge back into the weights.",
    )
    if st.button("Compare merged and unmerged", key=page.state_key("merge-go")):

        def compare():
            if not sentence.strip():
                raise ValueError("Type some text to run through the model.")
            if choice in lora_runs:
                model, tokenizer = run.trainer.runs[choice], run.trainer.tokenizer
            else:
                model, tokenizer = untrained_demo(page.device)
            ids = tokenizer(sentence, return_tensors="pt")["input_ids"][:, :256].to(page.device)
            report = merge_report(model, ids)
            report["adapter"] = choice
            report["tokens"] = ids.shape[1]
            report["top"] = [tokenizer.decode([int(i)]) for i in report["merged_logits"].topk(5).indices]
            return report

        with st.spinner("Merging and timing both…"):
            page.compute("merge", "Merging", compare)
    report = page.result("merge")
    if report is None:
        return
    c = st.columns(4)
    c[0].metric("Largest |logit difference|", f"{report['max_abs_difference']:.2e}")
    c[1].metric("Largest |logit|", f"{report['max_abs_logit']:.1f}")
    c[2].metric("Forward, unmerged", f"{1000 * report['unmerged_seconds']:.0f} ms")
    c[3].metric("Forward, merged", f"{1000 * report['merged_seconds']:.0f} ms")
    st.caption(
        f"{report['adapter']}: {report['adapters']} adapted matrices, {report['tokens']} tokens, median of 3 "
        f"forward passes each. Merged next-token top 5: {', '.join(repr(t) for t in report['top'])}."
    )
    frame = pd.DataFrame(dict(unmerged=report["unmerged_logits"].numpy(), merged=report["merged_logits"].numpy()))
    top = frame.nlargest(200, "unmerged")
    fig = go.Figure(go.Scatter(x=top["unmerged"], y=top["merged"], mode="markers", name="tokens"))
    fig.update_layout(
        title="Next-token logits of the 200 likeliest tokens: merged against unmerged",
        xaxis_title="unmerged logit",
        yaxis_title="merged logit",
        height=340,
    )
    page.chart(fig, top, "merge-logits")
