"""Policy gradients and PPO clipping: the model code behind app/lessons/rlhf/ (pure torch/numpy, no Streamlit).

- `dpo_sandbox`: DPO on the sandbox's sequence task: preferences from the known reward, no reward model, no RL loop.
- `language_model`: RLHF on a real causal LM: LoRA-adapted policy, frozen reference, a transparent reward, a KL penalty.
- `pg_sandbox`: A policy-gradient sandbox: tabular policies on tasks with a known reward, many seeds at once.
- `policy_gradient`: Policy-gradient losses: REINFORCE, PPO's clipped surrogate, GAE, GRPO's group advantages, DPO.

The names below load their module on first use: `from models.rlhf import DPOConfig` is `from models.rlhf.dpo_sandbox import DPOConfig`.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "DPOConfig": "dpo_sandbox",
    "DPOTrainer": "dpo_sandbox",
    "DEFAULT_PROMPTS": "language_model",
    "RLHFConfig": "language_model",
    "RLHFTrainer": "language_model",
    "make_reward": "language_model",
    "SandboxConfig": "pg_sandbox",
    "SandboxTask": "pg_sandbox",
    "SandboxTrainer": "pg_sandbox",
    "sample": "pg_sandbox",
    "clipped_objective": "policy_gradient",
    "grpo_advantages": "policy_gradient",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
