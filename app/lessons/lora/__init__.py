"""LoRA rank effects (Lecture 7): one module per tab; each tab builds its own settings."""

from app.lessons.lora import (
    alpha_tab,
    families_tab,
    inside_tab,
    merge_tab,
    qlora_tab,
    real_tab,
    sandbox_tab,
)
from app.page import Preset

INTRO = (
    "**LoRA** fine-tunes a model by learning a low-rank update **ΔW = (α/r)·B·A** beside each frozen weight "
    "matrix W: A is r×in, B is out×r, so a rank-r adapter trains r·(in+out) numbers instead of in·out. B starts "
    "at zero, so training starts *exactly* at the base model, and after training the update merges into W, so "
    "inference costs nothing extra. Why is a small rank often enough? Train it here: first on a layer whose "
    "true update has a rank we chose, then on SmolLM2 with your text; then look inside ΔW, merge it, "
    "train over a 4-bit base (QLoRA), and set LoRA beside the other parameter-efficient families."
)

PRESETS = {
    "Plateau once r ≥ k": Preset(
        "A target update of rank 4: ranks 1 and 2 stop at the Eckart–Young floor, rank 4 and above reach ~0.",
        tab=sandbox_tab.TITLE,
        values={"true_rank": 4, "noise": 0.0, "n_train": 512},
    ),
    "Rank as a regulariser (few, noisy samples)": Preset(
        "96 noisy samples for a 64×64 layer: held-out error against r is U-shaped; big ranks fit the noise.",
        tab=sandbox_tab.TITLE,
        values={"true_rank": 4, "noise": 1.0, "n_train": 96, "ranks": [1, 2, 4, 8, 16, 32, 64]},
    ),
    "Fixed α: higher rank learns slower (rsLoRA)": Preset(
        "With SGD at α=16, r=64 learns far slower than r=4 under α/r; with rsLoRA's α/√r it learns fastest.",
        tab=alpha_tab.TITLE,
        values={"optimizer": "sgd", "lr": 0.03, "ranks": [1, 4, 16, 64], "steps": 200},
    ),
    "SmolLM2: ranks 1–16 against full fine-tuning": Preset(
        "Held-out loss on Wikipedia text: the ranks end within a few hundredths of a nat of each other.",
        tab=real_tab.TITLE,
        values={"ranks": [1, 4, 16], "full": True},
    ),
    "QLoRA: LoRA over a 4-bit base": Preset(
        "LoRA at r=4 over the NF4-rounded SmolLM2 beside LoRA over the full-precision one.",
        tab=real_tab.TITLE,
        values={"ranks": [4], "full": False, "qlora_rank": 4},
    ),
    "PEFT families: loss against trained parameters": Preset(
        "LoRA, IA³, prompt, prefix and LN tuning beside full fine-tuning on SmolLM2, one point per run.",
        tab=families_tab.TITLE,
        values={},
    ),
    "NF4 against int4": Preset(
        "One SmolLM2 matrix in 4 bits: NF4's levels follow the bell-shaped weights and lose less than int4.",
        tab=qlora_tab.TITLE,
        values={},
    ),
}
TABS = [sandbox_tab, alpha_tab, real_tab, inside_tab, merge_tab, qlora_tab, families_tab]
