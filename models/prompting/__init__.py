"""Prompting and in-context learning (Lecture 9): the model code behind app/lessons/prompting/ (pure torch/numpy).

- `scoring`: label-word log-probabilities for many prompts sharing a prefix (batched, the prefix's KV cache reused).
- `few_shot`: templates, verbalizers, demonstrations, `few_shot_eval`, contextual calibration, prompt ensembling.
- `chain_of_thought`: arithmetic word problems, greedy chain of thought, self-consistency (sampled chains, a vote).
- `data`: the movie-review polarity sentences, the user's labelled lines.

    from models.prompting import FewShotConfig, few_shot_eval
    res = few_shot_eval(model, tokenizer, train_pairs, eval_pairs, FewShotConfig(shots=4, calibration="contextual"))

The names below load their module on first use.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "FewShotConfig": "few_shot",
    "FewShotResult": "few_shot",
    "few_shot_eval": "few_shot",
    "contextual_calibration": "few_shot",
    "ensemble": "few_shot",
    "ScoreCache": "scoring",
    "score_labels": "scoring",
    "score_labels_naive": "scoring",
    "CoTConfig": "chain_of_thought",
    "chain_of_thought_eval": "chain_of_thought",
    "movie_reviews": "data",
    "split_pairs": "data",
    "parse_labelled_lines": "data",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
