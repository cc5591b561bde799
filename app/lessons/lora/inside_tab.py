"""Tab "Inside ΔW": the spectrum of the updates the SmolLM2 runs learned, and how much their subspaces agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app.lessons.lora import figures
from app.lessons.lora.real_tab import RUN, SMOLLM2_NOTE
from app.page import LessonPage
from models.lora.finetune import LoRAFineTuner, random_subspace_similarity, subspace_similarity


def spectra(tuner: LoRAFineTuner, layer: int, module: str) -> dict[str, np.ndarray]:
    return {
        name: torch.linalg.svdvals(delta.double()).numpy() for name, delta in tuner.delta_weights(layer, module).items()
    }


TITLE = "Inside ΔW"


def render(page: LessonPage) -> None:
    st.markdown(
        "What did each run learn? For one adapted matrix: the singular values of the update ΔW (a rank-r "
        "LoRA update has at most r non-zero ones; full fine-tuning's may have all), how much of the full "
        "update's energy lies in its top r directions, and the LoRA paper's **subspace similarity** "
        "φ(i, j) = ‖U_iᵀ U_j‖² / min(i, j) between the input directions (right singular vectors of A) "
        "learned at two ranks: 1 means the top i directions of one lie inside the top j of the other."
    )
    st.caption(SMOLLM2_NOTE)
    run = page.run(RUN)
    if run is None or run.steps_done == 0:
        st.info("Train some steps in the **SmolLM2** tab first; this tab reads those runs.")
        return
    tuner: LoRAFineTuner = run.trainer
    n_layers = tuner.start + tuner.config.top_layers
    c1, c2 = st.columns(2)
    layer = c1.selectbox(
        "Decoder layer",
        list(range(tuner.start, n_layers)),
        index=tuner.config.top_layers - 1,
        key=page.state_key("inside-layer"),
    )
    module = c2.selectbox("Matrix", list(tuner.config.target_modules), key=page.state_key("inside-module"))
    spec = page.compute("spectra", "Taking the SVDs", spectra, tuner, layer, module)
    if not spec:
        return
    frame = pd.DataFrame([dict(run=k, i=i + 1, sigma=v) for k, s in spec.items() for i, v in enumerate(s[:64])])
    left, right = st.columns(2)
    with left:
        page.chart(figures.singular_values_figure(spec), frame, "inside-sv")
    ranks = [int(n[2:]) for n in spec if n.startswith("r=")]
    if "full" in spec:
        with right:
            page.chart(figures.energy_figure(spec["full"], ranks), None, "inside-energy")
        full = spec["full"]
        share = {r: float((full[:r] ** 2).sum() / (full**2).sum()) for r in ranks}
        st.markdown(
            "Full fine-tuning's update is not low-rank, but its energy is concentrated: "
            + ", ".join(f"top {r}: **{v:.0%}**" for r, v in share.items())
            + " of its squared singular values."
        )
    if len(ranks) >= 2:
        c3, c4 = st.columns(2)
        r1 = c3.selectbox("Rank A", ranks, index=0, key=page.state_key("inside-r1"))
        r2 = c4.selectbox("Rank B", ranks, index=len(ranks) - 1, key=page.state_key("inside-r2"))
        phi = subspace_similarity(
            tuner.lora_A(f"r={r1}", layer, module), tuner.lora_A(f"r={r2}", layer, module)
        ).numpy()
        page.chart(figures.similarity_figure(phi, r1, r2), pd.DataFrame(phi), "inside-phi")
        d = tuner.lora_A(f"r={r1}", layer, module).shape[1]
        st.markdown(chance_readout(phi, r1, r2, d))


def chance_readout(phi, r1: int, r2: int, d: int) -> str:
    """φ(1, 1) and φ(r1, r2) beside what two random subspaces of those sizes give: 1/d and max(r1, r2)/d."""
    return (
        f"φ(1, 1) = **{phi[0, 0]:.3f}** (two random directions in {d} dimensions: "
        f"{random_subspace_similarity(1, 1, d):.4f}); φ({r1}, {r2}) = **{phi[-1, -1]:.3f}** (two random "
        f"subspaces of {r1} and {r2} directions: {random_subspace_similarity(r1, r2, d):.4f}). After few steps "
        "much of A is still its random start: train longer to see the top directions agree (the LoRA paper's "
        "Figure 3)."
    )
