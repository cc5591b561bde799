"""Mixture-of-Experts routing: the model code behind app/lessons/moe/ (pure torch/numpy, no Streamlit).

- `cost`: What an MoE costs: parameters stored (total) against parameters used per token (active), and FLOPs per token.
- `model`: Mixture-of-Experts layers: a router sends each token to k of E expert MLPs (plus shared experts that every
  token uses), and what keeps the loads even.

The names below load their module on first use: `from models.moe import REAL_CONFIGS` is `from models.moe.cost import REAL_CONFIGS`.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "REAL_CONFIGS": "cost",
    "expert_budget": "cost",
    "moe_cost": "cost",
    "tiny_model_cost": "cost",
    "BalanceComparison": "model",
    "MoEConfig": "model",
    "MoELayer": "model",
    "MoETrainer": "model",
    "ROUTERS": "model",
    "choices_changed_by_bias": "model",
    "TinyMoELM": "model",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
