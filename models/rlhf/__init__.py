"""Policy gradients and PPO clipping: the model code behind app/lessons/rlhf/ (pure torch/numpy, no Streamlit).

- `actor_critic`: Actor-critic PPO for a language model: a value head, per-token rewards, GAE over the tokens.
- `dpo_sandbox`: A Bradley–Terry reward model and DPO on the sandbox's sequence task, fitted to the same pairs.
- `language_model`: RLHF on a real causal LM: LoRA-adapted policy, frozen reference, a transparent reward, a KL
  penalty; actor-critic PPO, GRPO or REINFORCE with a batch baseline.
- `pg_sandbox`: A policy-gradient sandbox: tabular policies on tasks with a known reward, many seeds at once.
- `policy_gradient`: Policy-gradient losses: REINFORCE, PPO's clipped surrogate, GAE, GRPO's group advantages, DPO.
- `reward_model`: The Bradley–Terry loss and a linear reward model (InstructGPT's step before PPO).

The names below load their module on first use: `from models.rlhf import DPOConfig` is `from models.rlhf.dpo_sandbox import DPOConfig`.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "ValueHead": "actor_critic",
    "ppo_objective": "actor_critic",
    "token_advantages": "actor_critic",
    "DPOConfig": "dpo_sandbox",
    "DPOTrainer": "dpo_sandbox",
    "DEFAULT_PROMPTS": "language_model",
    "RLHFConfig": "language_model",
    "RLHFTrainer": "language_model",
    "make_reward": "language_model",
    "METHOD_NAMES": "language_model",
    "SandboxConfig": "pg_sandbox",
    "SandboxTask": "pg_sandbox",
    "SandboxTrainer": "pg_sandbox",
    "sample": "pg_sandbox",
    "clipped_objective": "policy_gradient",
    "grpo_advantages": "policy_gradient",
    "LinearRewardModel": "reward_model",
    "bradley_terry_loss": "reward_model",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
