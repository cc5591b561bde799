"""The reward-hacking demo's claim (app/lessons/rlhf HACKING and HACKING_CLAIM) on SmolLM2, on two sample seeds and
with one and two torch threads: the claim must hold on each, not on one lucky run (issue 30).

Slow: each run is HACKING["iterations"] RLHF iterations of actor-critic PPO (about 4 s each on a quiet 2-core CPU,
several times that on a loaded one)."""

import pytest
import torch

from app.lessons.rlhf import HACKING, HACKING_CLAIM
from app.lessons.rlhf.lm_tab import hacking_summary


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 2 threads beside the slow suite's other workers on 2 cores: 876-900+ s (2026-12-07)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("sample_seed", [0, 1])
def test_reward_hacking_claim_holds_across_seeds_and_threads(smollm2, sample_seed, threads):
    from models.rlhf.language_model import RLHFConfig, RLHFTrainer

    model, tokenizer = smollm2
    config = RLHFConfig(
        method="ppo", kl_coef=HACKING["kl_coef"], adapter_lr=HACKING["adapter_lr"], sample_seed=sample_seed
    )
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        trainer = RLHFTrainer(model, tokenizer, config)
        trainer.train_steps(HACKING["iterations"])
    finally:
        torch.set_num_threads(before)
    summary = hacking_summary(trainer.history)
    assert summary["kl_last"] >= HACKING_CLAIM["kl_last_at_least"], summary
    assert summary["reward_last"] - summary["reward_first"] >= HACKING_CLAIM["reward_gain_at_least"], summary
