"""Policy gradients and PPO clipping: one module per tab; the shared math is in models/rlhf/policy_gradient.py."""

from app.lessons.rlhf import clip_tab, dpo_tab, grpo_tab, lm_tab, sandbox_tab
from app.page import Preset

INTRO = (
    "A **policy gradient** pushes up the log-probability of actions in proportion to their **advantage** "
    "(how much better than expected they did). **REINFORCE** does this once per sample; a **baseline** lowers "
    "its variance. **PPO** reuses each batch for several epochs and **clips** the ratio π_new/π_old, so that "
    "moving further than ε earns nothing. **RLHF** applies this to a language model with a **KL penalty** to a "
    "frozen reference; without it the policy games the reward. **GRPO** replaces the critic by comparing "
    "samples within a group; **DPO** learns from preference pairs with no reward model and no RL loop."
)

PRESETS = {
    "Lecture demo: clipping at a high lr": Preset(
        "At lr 1.0 on a 10-arm bandit, PPO without clipping leaves far more of 100 seeds stuck on a bad arm "
        "than PPO at ε=0.2.",
        tab=sandbox_tab.TITLE,
        values={"lr": 1.0, "methods": ["ppo", "ppo_noclip"], "clip_eps": "0.2", "iterations": 60},
    ),
    "Lecture demo: REINFORCE ± baseline": Preset(
        "Without a baseline REINFORCE's reward curve is noisier and its spread over seeds wider.",
        tab=sandbox_tab.TITLE,
        values={"task": "sequence", "lr": 0.1, "methods": ["reinforce", "reinforce_baseline"]},
    ),
    "Lecture demo: flat regions": Preset(
        "With ε=0.3 the objective is flat (zero gradient) beyond r=1.3 for a positive advantage and below "
        "r=0.7 for a negative one.",
        tab=clip_tab.TITLE,
        values={"eps": 0.3},
    ),
    "Lecture demo: reward hacking, β = 0": Preset(
        "β=0, lr 0.005, 15 iterations (3–4 min on a lightly loaded 2-core CPU; press Start). Measured: the KL "
        "to the reference climbs first (13 nats by iteration 8), then the reward jumps (0.2 → 0.99) and by "
        "iteration 15 every continuation is “beautiful beautiful beautiful …” (KL 46 nats).",
        tab=lm_tab.TITLE,
        values={"kl_coef": 0.0, "adapter_lr": 0.005, "lm_iterations": 15},
    ),
    "Lecture demo: KL leash, β = 0.1": Preset(
        "The same run with β=0.1 (📌 pin the β=0 run first: its curves stay beside). Measured: reward "
        "0.2 → 0.5, KL about 5 nats at iteration 15 (a tenth of β=0's); the text stays readable and mostly "
        "positive, with the odd repeated word.",
        tab=lm_tab.TITLE,
        values={"kl_coef": 0.1, "adapter_lr": 0.005, "lm_iterations": 15},
    ),
    "Lecture demo: degenerate GRPO groups": Preset(
        "With groups of 2 on the sequence task many groups have equal rewards: zero advantage, no signal.",
        tab=grpo_tab.TITLE,
        values={"grpo_group": 2},
    ),
}
TABS = [clip_tab, sandbox_tab, lm_tab, grpo_tab, dpo_tab]
