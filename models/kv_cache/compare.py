"""Several budgeted decodes of one text, one after another, a step at a time (for the live-training kit).

runs = PolicyComparison(model, tokenizer, ids, [Job("Window", 64), Job("Full cache", 64)], config)
while not runs.done:
    runs.train_steps(4)   # -> {"runs done": ..., "tokens": ...}
runs.results              # {job label: BudgetResult}

Every run reads the same first step at once (the prefill) and then decodes `chunk` tokens per step, so their decode
speeds compare like with like: the full cache and the evicting policies prefill `budget` tokens; SnapKV and
PyramidKV (compression at prefill) prefill their prompt, `prompt_share` % of the text, and compress it once.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.kv_cache.cache import BudgetDecoder, BudgetResult, KVCacheConfig, make_policy


@dataclass(frozen=True)
class Job:
    policy: str  # a name from kv_cache.POLICY_NAMES or "Full cache"
    budget: int  # tokens per layer and KV head
    bits: int = 16  # 16, or 8 / 4 for a KIVI-quantised full cache

    @property
    def label(self) -> str:
        if self.bits < 16:
            return f"Full cache, {self.bits}-bit"
        return self.policy if self.policy == "Full cache" else f"{self.policy} @ {self.budget}"


def comparison_jobs(config: KVCacheConfig, quantised: bool = False) -> list[Job]:
    jobs = [Job("Full cache", config.budget)] + [Job(p, config.budget) for p in config.policies]
    if quantised:
        jobs += [Job("Full cache", config.budget, 8), Job("Full cache", config.budget, 4)]
    return jobs


def sweep_jobs(config: KVCacheConfig, budgets: list[int]) -> list[Job]:
    jobs = [Job("Full cache", max(budgets))]
    return jobs + [Job(p, b) for p in config.policies for b in budgets]


class PolicyComparison:
    """Runs `jobs` on the same token ids; `train_steps(n)` decodes n steps (chunks) of the current job."""

    def __init__(self, model, tokenizer, ids, jobs: list[Job], config: KVCacheConfig, keep_masks: bool = True):
        self.keep_masks = keep_masks  # False: drop the kept-token masks (a sweep needs only the losses)
        self.model, self.tokenizer, self.ids, self.config = model, tokenizer, ids, config
        self.jobs = list(jobs)
        self.results: dict[str, BudgetResult] = {}
        self.job_index = 0
        self.decoder: BudgetDecoder | None = None
        self.tokens = tokenizer.convert_ids_to_tokens(ids)
        for job in self.jobs:  # fail now, with the message, not in the middle of a run
            self._decoder(job)

    @property
    def prompt(self) -> int:
        """Tokens that SnapKV and PyramidKV read as their prompt (compressed once after it)."""
        return max(1, len(self.ids) * self.config.prompt_share // 100)

    def _decoder(self, job: Job) -> BudgetDecoder:
        if job.bits < 16:
            prefill = 32  # KIVI's key groups fill as the text is decoded
        else:  # every other run prefills the budget, then decodes step by step (the same speed measure)
            prefill = min(job.budget, self.config.budget)
        return BudgetDecoder(
            self.model,
            self.tokenizer,
            self.ids,
            make_policy(job.policy, self.config),
            job.budget,
            chunk=self.config.chunk,
            bits=job.bits,
            prefill=prefill,
            prompt=self.prompt,
        )

    @property
    def done(self) -> bool:
        return self.job_index >= len(self.jobs)

    @property
    def total_steps(self) -> int:
        """Steps of all jobs: one prefill step and one per chunk after it."""
        total = 0
        for job in self.jobs:
            decoder = self._decoder(job)
            total += 1 + -(-(decoder.length - decoder.prefill) // decoder.chunk)
        return total

    def train_steps(self, n: int) -> dict:
        for _ in range(n):
            if self.done:
                break
            if self.decoder is None:
                self.decoder = self._decoder(self.jobs[self.job_index])
            self.decoder.train_steps(1)
            if self.decoder.done:
                result = self.decoder.result()
                result.tokens = self.tokens
                if not self.keep_masks:
                    result.kept = None
                self.results[self.jobs[self.job_index].label] = result
                self.decoder, self.job_index = None, self.job_index + 1
        return {"runs done": float(len(self.results))}

    def current(self) -> str:
        return "" if self.done else self.jobs[self.job_index].label
