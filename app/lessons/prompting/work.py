"""What the prompting lesson's tabs share: the model, the labelled data, the few-shot evaluations. No Streamlit.

Evaluations on the bundled reviews are computed once per server (`page.shared`, keyed by the settings); on the
user's own lines, once per session (kept with a per-session `ScoreCache`, so a prompt scored once is not scored
again).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from app.resources import load_shared_model
from models.prompting.data import REVIEW_LABELS, movie_reviews, parse_labelled_lines, split_pairs
from models.prompting.few_shot import FewShotConfig, FewShotResult, few_shot_eval
from models.prompting.scoring import ScoreCache
from models.registry import model_kind

EXAMPLE_LINES = "\n".join(
    [
        "sports: The striker scored twice in the second half.",
        "sports: She won the marathon in record time.",
        "sports: The coach was fired after five straight losses.",
        "sports: Our team lost the final on penalties.",
        "sports: The goalkeeper saved three shots in the final minutes.",
        "sports: He broke the world record in the high jump.",
        "science: The telescope found water vapour on a distant planet.",
        "science: Researchers sequenced the genome of the wheat plant.",
        "science: The vaccine trial enrolled thirty thousand people.",
        "science: Physicists measured the mass of the neutrino.",
        "science: The new battery charges in five minutes.",
        "science: A fossil shows feathers on a small dinosaur.",
        "politics: The senate passed the budget bill on Tuesday.",
        "politics: The prime minister called an early election.",
        "politics: Voters rejected the new constitution.",
        "politics: The minister resigned after the scandal.",
        "politics: Parliament voted to raise the minimum wage.",
        "politics: The opposition leader promised lower taxes.",
    ]
)


@dataclass
class Setup:
    """What `controls` hands every tab (page.data)."""

    model: object
    tokenizer: object
    model_name: str
    device: str
    data_key: tuple  # names the data for caches: ("reviews", n_eval, max_words) or ("user", sha1, n_eval)
    labels: tuple[str, ...]  # the data's label names (the label words when none are typed)
    train_pairs: list
    eval_pairs: list
    config: FewShotConfig

    @property
    def shared(self) -> bool:
        return self.data_key[0] == "reviews"


def load_causal_lm(name: str, device: str, allow_download: bool):
    model, tokenizer = load_shared_model(name, device, allow_download)
    if model_kind(model) != "causal":
        raise ValueError(f"{name} is an encoder; prompting needs a causal language model (one that writes text).")
    return model, tokenizer


def reviews(n_eval: int, max_words: int) -> tuple[list, list]:
    """(train pool, eval set) of the movie reviews, the eval set balanced."""
    return split_pairs(movie_reviews(max_words), n_eval)


def user_data(text: str, n_eval: int, max_words: int):
    """(label names, train pool, eval set, key) of the user's labelled lines."""
    pairs, names = parse_labelled_lines(text, max_words)
    train, evaluation = split_pairs(pairs, n_eval)
    return names, train, evaluation, ("user", hashlib.sha1(text.encode("utf-8")).hexdigest()[:16], n_eval, max_words)


def label_words(text: str, labels: tuple[str, ...]) -> tuple[str, ...]:
    """The typed label words (comma-separated), or the data's own label names when none are typed."""
    if not (text or "").strip():
        return labels
    words = tuple(w.strip() for w in text.split(","))
    if len(words) != len(labels):
        raise ValueError(
            f"The data has {len(labels)} labels ({', '.join(labels)}); give {len(labels)} label words, "
            f"comma-separated, in that order (got {len(words)})."
        )
    return words


def shared_eval(model_name: str, device: str, n_eval: int, max_words: int, config: FewShotConfig, _model, _tok):
    """A few-shot evaluation on the bundled reviews, once per server for these settings."""
    train, evaluation = reviews(n_eval, max_words)
    return few_shot_eval(_model, _tok, train, evaluation, config)


def evaluate(page, setup: Setup, config: FewShotConfig | None = None) -> FewShotResult:
    """The evaluation of `config` (default: the page's), shared on the reviews, kept per session on user lines."""
    config = config or setup.config
    if setup.shared:
        _, n_eval, max_words = setup.data_key
        return page.shared(
            shared_eval, setup.model_name, setup.device, n_eval, max_words, config,
            _model=setup.model, _tok=setup.tokenizer, read_only=True,
        )  # fmt: skip
    return few_shot_eval(
        setup.model, setup.tokenizer, setup.train_pairs, setup.eval_pairs, config, score_cache(page, setup)
    )


def score_cache(page, setup: Setup) -> ScoreCache:
    """This session's cache of scored prompts, for this model (a new model starts a new one)."""
    kept = page.result("score-cache")
    if kept is None or kept[0] != setup.model_name:
        kept = page.keep("score-cache", (setup.model_name, ScoreCache(max_entries=5_000)))
    return kept[1]


def over_seeds(page, setup: Setup, seeds: int) -> list[FewShotResult]:
    """The page's config at order seeds order_seed … order_seed + seeds - 1."""
    start = setup.config.order_seed
    return [evaluate(page, setup, replace(setup.config, order_seed=start + k)) for k in range(seeds)]


REVIEW_LABEL_NAMES = REVIEW_LABELS
