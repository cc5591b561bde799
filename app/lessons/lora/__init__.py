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
    "true update has a rank we chose, then on SmolLM2-135M with your text (the bundled copy is a 4-bit Q4_1 file "
    "dequantised to float32, not a full-precision model); then look inside ΔW, merge it, round a matrix to 4 "
    "bits (QLoRA), and set LoRA beside the other parameter-efficient families."
)

PRESETS = {  # each claim is a number on the page, checked by tests/pages/test_lora_page.py on a fresh page
    "Lecture demo: plateau once r ≥ k": Preset(
        "A target update of rank 4, after 200 steps: ranks 1 and 2 end on their Eckart–Young floors (0.537 and "
        "0.241), rank 4 and above below 1e-4.",
        tab=sandbox_tab.TITLE,
        values=sandbox_tab.PLATEAU,
    ),
    "Lecture demo: rank as a regulariser (few, noisy samples)": Preset(
        "96 noisy samples for a 64×64 layer, after 200 steps: held-out error against r is U-shaped, lowest at "
        "r=4 (0.20) and 1.94 at r=64, which fits the noise.",
        tab=sandbox_tab.TITLE,
        values=sandbox_tab.REGULARISER,
    ),
    "Lecture demo: fixed α, higher rank learns slower (rsLoRA)": Preset(
        "With SGD at α=16, after 200 steps: under α/r, r=64's error is ~10× r=4's (0.62 against 0.063); under "
        "rsLoRA's α/√r, r=64 learns fastest (0.0006).",
        tab=alpha_tab.TITLE,
        values={"optimizer": "sgd", "lr": alpha_tab.LR, "ranks": list(alpha_tab.RANKS), "steps": alpha_tab.STEPS},
    ),
    "Lecture demo: SmolLM2, ranks 1–16 against full fine-tuning": Preset(
        "Wikipedia text, 20 steps at the default learning rates: LoRA r=16 (61,440 trained numbers) ends below "
        "full fine-tuning of the same matrices (884,736), about 4.55 against 4.64 nats.",
        tab=real_tab.TITLE,
        values={"ranks": [1, 4, 16], "full": True, "steps": 20},
    ),
    "Lecture demo: QLoRA, LoRA over a 4-bit base": Preset(
        "LoRA r=4 over SmolLM2 rounded to NF4 beside LoRA r=4 over SmolLM2 as loaded (itself dequantised "
        "Q4_1): rounding that 4-bit grid again costs ~0.32 nats before training, and after 20 steps QLoRA is still "
        "~0.29 behind (4.90 against 4.61).",
        tab=real_tab.TITLE,
        values={"ranks": [4], "full": False, "qlora_rank": 4, "steps": 20},
    ),
    "Lecture demo: PEFT families, loss against trained parameters": Preset(
        "LoRA, IA³, prompt, prefix and LN tuning beside full fine-tuning on SmolLM2, before any training: they "
        "train from 2,880 numbers (LN tuning) to 7,080,192 (full fine-tuning of the top 2 layers).",
        tab=families_tab.TITLE,
        values={},
    ),
    "Lecture demo: NF4 against int4": Preset(
        "One MiniLM matrix (float32, as trained) in 4 bits, blocks of 64: int4's mean squared error is 1.42× "
        "NF4's, whose levels follow the bell-shaped weights.",
        tab=qlora_tab.TITLE,
        values={"source": "minilm", "minilm_layer": 0, "minilm_matrix": "attention.self.query"},
    ),
    "Lecture demo: SmolLM2 is already 4-bit": Preset(
        "The bundled SmolLM2 is a dequantised Q4_1 file: no block of 32 of its weights holds more than 16 "
        "distinct values (MiniLM's hold 32).",
        tab=qlora_tab.TITLE,
        values={"source": "smollm2", "smollm2_layer": 0, "smollm2_matrix": "self_attn.q_proj"},
    ),
}
TABS = [sandbox_tab, alpha_tab, real_tab, inside_tab, merge_tab, qlora_tab, families_tab]
