"""Few-shot classification by prompting, and contextual calibration (Zhao et al. 2021, https://arxiv.org/abs/2102.09690).

A task becomes text (Brown et al. 2020, https://arxiv.org/abs/2005.14165): a template with an input slot {x} and an
answer slot {y}, label words (the verbalizer: label k is the word v_k), and `shots` solved examples before the
question. The model's answer is the label word it finds likeliest in the answer slot:

    p_k  = p(v_k | demonstrations, template(x))   renormalised over the label words: p_k / Σ_j p_j
    ŷ    = argmax_k p_k

The demonstrations (which ones, in which order) and the label words move p a lot. Zhao et al. measure the bias
with content-free inputs x ∈ {"N/A", "", "[MASK]"}, which carry no evidence for any label:

    p_cf = mean over content-free x of p(· | x), renormalised
    W    = diag(p_cf)^-1,  b = 0                                 (contextual calibration)
    q    = W p, renormalised;   ŷ = argmax_k q_k

With p_cf uniform, W is a multiple of the identity and nothing changes. Like the paper's code, q is W p divided by
its sum (no softmax).

    res = few_shot_eval(model, tokenizer, train_pairs, eval_pairs, FewShotConfig(shots=4))
    res.accuracy, res.label_probs, res.content_free_probs, res.calibrated_probs
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import numpy as np

from models.prompting.scoring import ScoreCache, score_labels

DEFAULT_TEMPLATE = "Review: {x}\nSentiment: {y}\n\n"
CONTENT_FREE = ("N/A", "", "[MASK]")
CALIBRATIONS = ("none", "contextual")
MAX_TEMPLATE_CHARS = 500
MAX_LABEL_CHARS = 40
MAX_SHOTS = 32


@dataclass
class FewShotConfig:
    shots: int = 4  # solved examples placed before each question (0 = zero-shot: the template alone)
    order_seed: int = 0  # which training examples are drawn, and in which order
    template: str = DEFAULT_TEMPLATE  # {x} the input, {y} the answer slot; the text after {y} ends each example
    verbalizers: tuple[str, ...] = ("negative", "positive")  # label k is scored as the word verbalizers[k]
    calibration: str = "none"  # "none" or "contextual" (Zhao et al. 2021): what accuracy and predictions use
    content_free: tuple[str, ...] = CONTENT_FREE  # inputs with no evidence, to measure the bias with
    shuffle: bool = True  # False: the first `shots` training pairs, in the order given (for the order sweep)
    batch_size: int = 16  # queries per forward pass

    def __post_init__(self):
        if not isinstance(self.template, str) or not self.template.strip():
            raise ValueError("The template is empty. Write one with {x} for the input and {y} for the answer.")
        if len(self.template) > MAX_TEMPLATE_CHARS:
            raise ValueError(f"The template is {len(self.template):,} characters; keep it under {MAX_TEMPLATE_CHARS}.")
        for slot in ("{x}", "{y}"):
            if self.template.count(slot) != 1:
                what = "the input" if slot == "{x}" else "the answer (the label word)"
                raise ValueError(
                    f"The template must contain {slot} exactly once, for {what} "
                    f"(found it {self.template.count(slot)} times)."
                )
        if self.template.index("{x}") > self.template.index("{y}"):
            raise ValueError("Put {x} before {y}: the model reads left to right, so the answer must follow the input.")
        words = tuple(str(w) for w in self.verbalizers)
        if len(words) < 2:
            raise ValueError("Give at least two label words, one per class (e.g. negative, positive).")
        for w in words:
            if not w.strip():
                raise ValueError("A label word is empty; type a word for every class.")
            if len(w) > MAX_LABEL_CHARS:
                raise ValueError(
                    f"The label word {w[:20]!r}… is {len(w)} characters; keep each under {MAX_LABEL_CHARS}."
                )
        stripped = [w.strip() for w in words]
        if len(set(stripped)) != len(stripped):
            twice = sorted({w for w in stripped if stripped.count(w) > 1})
            raise ValueError(f"The label word {twice[0]!r} is used for two classes; give each class its own word.")
        self.verbalizers = tuple(stripped)
        if not 0 <= self.shots <= MAX_SHOTS:
            raise ValueError(f"Shots must be between 0 and {MAX_SHOTS} (got {self.shots}).")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"Calibration must be one of {CALIBRATIONS} (got {self.calibration!r}).")
        if not self.content_free:
            raise ValueError("Give at least one content-free input (e.g. N/A) for calibration.")
        if self.batch_size < 1:
            raise ValueError("The batch size must be at least 1.")


@dataclass
class FewShotResult:
    accuracy: float  # with the config's calibration
    predictions: np.ndarray  # [n_eval] label indices, with the config's calibration
    label_probs: np.ndarray  # [n_eval, n_labels] renormalised over the label words, before calibration
    content_free_probs: np.ndarray  # [n_labels] p_cf: the mean over the content-free inputs, renormalised
    calibrated_probs: np.ndarray  # [n_eval, n_labels] diag(p_cf)^-1 · p, renormalised
    label_logprobs: np.ndarray  # [n_eval, n_labels] log p(label word | prompt), summed over its tokens
    uncalibrated_accuracy: float
    calibrated_accuracy: float
    demonstrations: list[tuple[str, int]]  # the shots in the prompt, in order
    prefix: str  # the demonstrations as text
    label_tokens: list[list[int]]  # each label word's tokens (with the answer slot's leading space)
    prefix_tokens: int
    query_tokens: int  # summed over the eval inputs
    seconds: float


def split_template(template: str) -> tuple[str, str, str]:
    """(before {x}, between {x} and {y}, after {y}); str.replace, never str.format, so braces in text are safe."""
    head, rest = template.split("{x}")
    middle, tail = rest.split("{y}")
    return head, middle, tail


def answer_slot(template: str, text: str) -> tuple[str, str]:
    """The query as the model reads it, up to the answer slot, and the whitespace that goes before the label word:
    "Sentiment: " ends the query as "Sentiment:" and the label is read as " positive" (one token, as in text)."""
    head, middle, _ = split_template(template)
    context = head + text + middle
    stripped = context.rstrip(" ")
    return stripped, context[len(stripped) :]


def demonstration(template: str, text: str, label_word: str) -> str:
    head, middle, tail = split_template(template)
    return head + text + middle + label_word + tail


def draw_demonstrations(train_pairs, config: FewShotConfig) -> list[tuple[str, int]]:
    """`shots` training pairs drawn and ordered by `order_seed` (or the first `shots`, as given)."""
    if config.shots > len(train_pairs):
        raise ValueError(
            f"{config.shots} shots need {config.shots} training examples; there are {len(train_pairs)}. "
            "Lower the shots or add examples."
        )
    if not config.shuffle:
        return list(train_pairs[: config.shots])
    return random.Random(config.order_seed).sample(list(train_pairs), config.shots)


def encode(tokenizer, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []


def build_prompts(tokenizer, train_pairs, eval_texts, config: FewShotConfig):
    """(demonstrations, prefix text, prefix ids, query ids per text, label ids per label word).

    Each piece is tokenised on its own and the ids concatenated: every query then shares the prefix's ids (and its
    KV cache), and the label word follows the query exactly as in `score_labels_naive`.
    """
    shots = draw_demonstrations(train_pairs, config)
    prefix = "".join(demonstration(config.template, text, config.verbalizers[y]) for text, y in shots)
    prefix_ids = [
        t for text, y in shots for t in encode(tokenizer, demonstration(config.template, text, config.verbalizers[y]))
    ]
    queries, spaces = zip(*(answer_slot(config.template, text) for text in eval_texts)) if eval_texts else ((), ())
    space = spaces[0] if spaces else answer_slot(config.template, "")[1]
    label_ids = [encode(tokenizer, space + word) for word in config.verbalizers]
    for word, ids in zip(config.verbalizers, label_ids):
        if not ids:
            raise ValueError(f"The label word {word!r} tokenises to nothing; pick a word with visible characters.")
    if len({tuple(ids) for ids in label_ids}) < len(label_ids):
        raise ValueError("Two label words tokenise to the same tokens; pick words that differ.")
    query_ids = [encode(tokenizer, q) for q in queries]
    return shots, prefix, prefix_ids, query_ids, label_ids


def renormalise(log_probs: np.ndarray) -> np.ndarray:
    """exp(log p) / Σ exp(log p) over the last axis (the label words)."""
    shifted = np.exp(log_probs - log_probs.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


def contextual_calibration(label_probs: np.ndarray, content_free_probs: np.ndarray) -> np.ndarray:
    """q = diag(p_cf)^-1 p, renormalised (Zhao et al. 2021, W = diag(p_cf)^-1, b = 0)."""
    p_cf = content_free_probs / content_free_probs.sum()
    calibrated = label_probs / np.maximum(p_cf, 1e-30)  # [n_eval, n_labels]: W p with W diagonal
    return calibrated / calibrated.sum(-1, keepdims=True)


def few_shot_eval(
    model, tokenizer, train_pairs, eval_pairs, config: FewShotConfig, cache: ScoreCache | None = None
) -> FewShotResult:
    """Score every eval input's label words after `config.shots` demonstrations; calibrate; count what is right.

    train_pairs, eval_pairs: [(text, label index into config.verbalizers)].
    """
    start = time.perf_counter()
    if not eval_pairs:
        raise ValueError("There is nothing to evaluate: the evaluation set is empty.")
    n_labels = len(config.verbalizers)
    for _text, label in list(train_pairs) + list(eval_pairs):
        if not 0 <= int(label) < n_labels:
            raise ValueError(f"A label index {label} has no label word; there are {n_labels} label words.")
    texts = [text for text, _ in eval_pairs] + list(config.content_free)
    shots, prefix, prefix_ids, query_ids, label_ids = build_prompts(tokenizer, train_pairs, texts, config)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    scores = score_labels(model, prefix_ids, query_ids, label_ids, config.batch_size, pad_id, cache).numpy()
    scores = scores.astype(np.float64)
    n_eval = len(eval_pairs)
    probs = renormalise(scores)  # [n_eval + n_cf, n_labels]
    label_probs, content_free = probs[:n_eval], probs[n_eval:].mean(0)
    content_free = content_free / content_free.sum()
    calibrated = contextual_calibration(label_probs, content_free)
    gold = np.array([int(label) for _, label in eval_pairs])
    raw_pred, cal_pred = label_probs.argmax(-1), calibrated.argmax(-1)
    raw_acc, cal_acc = float((raw_pred == gold).mean()), float((cal_pred == gold).mean())
    contextual = config.calibration == "contextual"
    return FewShotResult(
        accuracy=cal_acc if contextual else raw_acc,
        predictions=cal_pred if contextual else raw_pred,
        label_probs=label_probs,
        content_free_probs=content_free,
        calibrated_probs=calibrated,
        label_logprobs=scores[:n_eval],
        uncalibrated_accuracy=raw_acc,
        calibrated_accuracy=cal_acc,
        demonstrations=shots,
        prefix=prefix,
        label_tokens=label_ids,
        prefix_tokens=len(prefix_ids),
        query_tokens=sum(len(q) for q in query_ids[:n_eval]),
        seconds=time.perf_counter() - start,
    )


def ensemble(probs_per_template: list[np.ndarray], weights: np.ndarray | None = None) -> np.ndarray:
    """Prompt ensembling: Σ_t w_t p_t over templates (uniform weights when None), renormalised: [n_eval, n_labels]."""
    stacked = np.stack(probs_per_template)  # [n_templates, n_eval, n_labels]
    w = np.full(len(stacked), 1 / len(stacked)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(stacked),) or (w < 0).any() or w.sum() <= 0:
        raise ValueError("Ensemble weights need one non-negative weight per template, not all zero.")
    mixed = np.einsum("t,tnk->nk", w / w.sum(), stacked)
    return mixed / mixed.sum(-1, keepdims=True)
