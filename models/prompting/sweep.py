"""Sweeps over prompts: one few-shot evaluation per step, so a page can run a grid in short chunks.

- shots: accuracy against the number of demonstrations, one point per draw (`order_seed`): the lecture's
  instability (Zhao et al. 2021, Fig. 1; Lu et al. 2022, https://arxiv.org/abs/2104.08786 for order);
- order: the same k demonstrations in every order (k! prompts);
- label words: the same prompts with other verbalizers;
- templates (prompt ensembling, Jiang et al. 2020, https://arxiv.org/abs/1911.12543): one evaluation per template,
  then their label probabilities averaged, uniformly or weighted by each template's accuracy on a dev split.

Evaluations share a `ScoreCache`, so a prompt met twice (zero-shot for every seed) is scored once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import numpy as np

from models.prompting.few_shot import FewShotConfig, draw_demonstrations, ensemble, few_shot_eval
from models.prompting.scoring import ScoreCache

SHOTS = (0, 1, 2, 4, 8)
LABEL_WORD_PAIRS = (("negative", "positive"), ("terrible", "great"), ("no", "yes"), ("A", "B"), ("bad", "good"))
MAX_ORDER_SHOTS = 4  # 4! = 24 prompts


def shot_points(seeds: int, shots=SHOTS) -> list[dict]:
    return [dict(shots=k, order_seed=s) for k in shots for s in range(seeds)]


def order_points(shots: int) -> list[dict]:
    if not 1 <= shots <= MAX_ORDER_SHOTS:
        raise ValueError(f"Every order of k shots is k! prompts: pick 1 to {MAX_ORDER_SHOTS} shots for this sweep.")
    return [dict(order=perm) for perm in itertools.permutations(range(shots))]


def label_word_points(seeds: int, pairs=LABEL_WORD_PAIRS) -> list[dict]:
    return [dict(verbalizers=tuple(p), order_seed=s) for p in pairs for s in range(seeds)]


@dataclass
class FewShotSweep:
    """Evaluates `points` (changes to `config`) one per step; `rows` holds what each gave."""

    model: object
    tokenizer: object
    train_pairs: list
    eval_pairs: list
    config: FewShotConfig
    points: list[dict]
    cache: ScoreCache = field(default_factory=ScoreCache)
    rows: list[dict] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return len(self.rows) >= len(self.points)

    def evaluate(self, point: dict) -> dict:
        point = dict(point)
        order = point.pop("order", None)
        train = self.train_pairs
        if order is not None:  # the first k draws of order_seed, in the permutation `order`
            drawn = draw_demonstrations(self.train_pairs, replace(self.config, shots=len(order)))
            train = [drawn[i] for i in order]
            point.update(shots=len(order), shuffle=False)
        config = replace(self.config, **point)
        res = few_shot_eval(self.model, self.tokenizer, train, self.eval_pairs, config, self.cache)
        return {
            "shots": config.shots,
            "order_seed": config.order_seed,
            "order": " ".join(str(i + 1) for i in order) if order is not None else "",
            "label_words": " / ".join(config.verbalizers),
            "accuracy": res.uncalibrated_accuracy,
            "calibrated_accuracy": res.calibrated_accuracy,
            "seconds": res.seconds,
        }

    def train_steps(self, n: int) -> dict:
        for _ in range(n):
            if self.done:
                break
            self.rows.append(self.evaluate(self.points[len(self.rows)]))
        last = self.rows[-1] if self.rows else {"accuracy": float("nan"), "calibrated_accuracy": float("nan")}
        return {
            "evaluated": float(len(self.rows)),
            "accuracy": last["accuracy"],
            "calibrated_accuracy": last["calibrated_accuracy"],
        }


@dataclass
class TemplateEnsemble:
    """One template per step, scored on a dev split and the eval set; then uniform and weighted ensembles."""

    model: object
    tokenizer: object
    train_pairs: list  # the dev split is its first `dev_size`; demonstrations come from the rest
    eval_pairs: list
    config: FewShotConfig
    templates: list[str]
    dev_size: int = 12
    cache: ScoreCache = field(default_factory=ScoreCache)
    rows: list[dict] = field(default_factory=list)
    eval_probs: list = field(default_factory=list)  # [n_eval, n_labels] per template, calibrated as configured

    @property
    def done(self) -> bool:
        return len(self.rows) >= len(self.templates)

    def train_steps(self, n: int) -> dict:
        dev, pool = self.train_pairs[: self.dev_size], self.train_pairs[self.dev_size :]
        for _ in range(n):
            if self.done:
                break
            config = replace(self.config, template=self.templates[len(self.rows)])
            on_dev = few_shot_eval(self.model, self.tokenizer, pool, dev, config, self.cache)
            on_eval = few_shot_eval(self.model, self.tokenizer, pool, self.eval_pairs, config, self.cache)
            calibrated = config.calibration == "contextual"
            self.eval_probs.append(on_eval.calibrated_probs if calibrated else on_eval.label_probs)
            self.rows.append(
                {"template": config.template, "dev_accuracy": on_dev.accuracy, "accuracy": on_eval.accuracy}
            )
        return self.summary()

    def summary(self) -> dict:
        if not self.rows:
            return {"templates": 0.0}
        gold = np.array([y for _, y in self.eval_pairs])
        weights = np.array([r["dev_accuracy"] for r in self.rows]) + 1e-9
        uniform = ensemble(self.eval_probs)
        weighted = ensemble(self.eval_probs, weights)
        return {
            "templates": float(len(self.rows)),
            "mean template": float(np.mean([r["accuracy"] for r in self.rows])),
            "best template": float(max(r["accuracy"] for r in self.rows)),
            "uniform ensemble": float((uniform.argmax(-1) == gold).mean()),
            "weighted ensemble": float((weighted.argmax(-1) == gold).mean()),
        }
