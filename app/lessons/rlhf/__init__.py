"""Policy gradients and PPO clipping: one module per tab; the shared math is in models/rlhf/policy_gradient.py."""

from app.lessons.rlhf import clip_tab, dpo_tab, grpo_tab, lm_tab, sandbox_tab
from app.page import Preset

INTRO = (
    "A **policy gradient** pushes up the log-probability of actions in proportion to their **advantage** "
    "(how much better than expected they did). **REINFORCE** does this once per sample; a **baseline** lowers "
    "its variance. **PPO** reuses each batch for several epochs and **clips** the ratio π_new/π_old, so that "
    "moving further than ε earns nothing; InstructGPT's PPO also learns a **critic** (a value head) whose "
    "estimates, through GAE, give each token its advantage. **RLHF** first fits a **reward model** to "
    "preference pairs, then applies PPO to a language model with a **KL penalty** to a frozen reference; "
    "without it the policy games the reward. **GRPO** drops the critic and compares samples within a group; "
    "**DPO** learns from the preference pairs directly, with no reward model and no RL loop."
)

# The reward-hacking demo's claim, shown on the page by lm_tab.hacking_summary. Measured on SmolLM2 with one torch
# thread, 30 iterations: sample seed 0, reward first 3 -> last 3 iterations 0.13 -> 0.79, KL 26 nats; seed 1,
# 0.09 -> 0.90, KL 50 nats. The thresholds sit well below both; tests/models/test_rlhf_hacking.py (slow) checks
# seeds 0 and 1 with 1 and 2 torch threads.
HACKING = {"kl_coef": 0.0, "adapter_lr": 0.003, "iterations": 30}
# what held on sample seeds 0 and 1 with one and with two torch threads (tests/models/test_rlhf_hacking.py, slow)
HACKING_CLAIM = {"reward_gain_at_least": 0.15, "kl_last_at_least": 10.0}

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
        f"Actor-critic PPO with β=0, lr {HACKING['adapter_lr']:g}, {HACKING['iterations']} iterations (press "
        f"Start; 2–9 minutes on a 2-core CPU: 4–17 s an iteration measured, quiet to loaded). The metrics "
        f"above the chart then read: reward of the last 3 iterations at least "
        f"{HACKING_CLAIM['reward_gain_at_least']:.2f} above the first 3, KL to the reference ≥ "
        f"{HACKING_CLAIM['kl_last_at_least']:.0f} nats. How high the reward ends depends on the sample seed and on "
        "the machine's torch thread count: on seeds 0 and 1, 0.13 → 0.79 (KL 26) and 0.09 → 0.90 (KL 50) with one "
        "thread, and 0.15 → 0.34 (KL 47) for seed 1 with two; the texts differ from run to run (“brings joy … "
        "joy”, “fit fit fit well fit”), and the reward climbs late (little moves in the first 10 iterations).",
        tab=lm_tab.TITLE,
        values={**HACKING, "method": "ppo"},
    ),
    "Lecture demo: KL leash, β = 0.1": Preset(
        "The same run with β=0.1: pin the β=0 run first (📌), and the chart draws both runs' reward and KL "
        "curves side by side.",
        tab=lm_tab.TITLE,
        values={**HACKING, "method": "ppo", "kl_coef": 0.1},
    ),
    "Lecture demo: degenerate GRPO groups": Preset(
        "With groups of 2 on the sequence task many groups have equal rewards: zero advantage, no signal.",
        tab=grpo_tab.TITLE,
        values={"group_size": 2},
    ),
}
TABS = [clip_tab, sandbox_tab, lm_tab, grpo_tab, dpo_tab]
