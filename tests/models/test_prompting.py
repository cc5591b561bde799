"""The prompting lesson's model code against references on the same inputs (a tiny random Llama, SmolLM2's tokenizer):
label scores = a plain transformers forward pass's log-softmax summed over the label tokens; calibration = Zhao et
al.'s formula in numpy; greedy chain of thought = transformers' generate(do_sample=False)."""

import numpy as np
import pytest
import torch

from models.prompting.chain_of_thought import CoTConfig, CoTRun, extract_answer, generate, majority
from models.prompting.data import movie_reviews, parse_labelled_lines, split_pairs
from models.prompting.few_shot import FewShotConfig, build_prompts, ensemble, few_shot_eval
from models.prompting.scoring import ScoreCache, label_token_logprobs, score_labels
from models.prompting.sweep import FewShotSweep, order_points, shot_points

TRAIN = [("a joy to watch", 1), ("dull and slow", 0), ("brilliant acting", 1), ("a mess", 0), ("fun", 1)]
EVAL = [("the best film of the year , by far", 1), ("tedious", 0), ("i loved every minute", 1)]


def reference_logprob(model, ids: list[int], n_label: int) -> float:
    """transformers' forward over the whole prompt + label: log-softmax at each label position, summed."""
    with torch.no_grad():
        log_probs = torch.log_softmax(model(torch.tensor([ids])).logits[0].double(), -1)
    start = len(ids) - n_label
    return sum(float(log_probs[start - 1 + t, ids[start + t]]) for t in range(n_label))


@pytest.mark.parametrize("shots", [0, 3])
def test_label_scores_equal_a_plain_forward_pass(tiny_lm, shots):
    model, tok = tiny_lm
    config = FewShotConfig(shots=shots, verbalizers=("mediocre", "superb"), batch_size=2)  # " mediocre": 3 tokens
    _, _, prefix, queries, labels = build_prompts(tok, TRAIN, [t for t, _ in EVAL], config)
    assert [len(ids) for ids in labels] == [3, 1] and len({len(q) for q in queries}) > 1  # padding is exercised
    scores = score_labels(model, prefix, queries, labels, batch_size=2, pad_id=tok.pad_token_id)
    for i, query in enumerate(queries):
        for k, label in enumerate(labels):
            expected = reference_logprob(model, prefix + query + label, len(label))
            assert scores[i, k].item() == pytest.approx(expected, abs=1e-4)
        per_token = label_token_logprobs(model, prefix + query, labels[0])
        assert sum(per_token) == pytest.approx(scores[i, 0].item(), abs=1e-4)


def test_the_cache_returns_the_same_scores_without_a_forward_pass(tiny_lm):
    model, tok = tiny_lm
    config = FewShotConfig(shots=2)
    cache = ScoreCache()
    first = few_shot_eval(model, tok, TRAIN, EVAL, config, cache)
    calls = []
    handle = model.register_forward_hook(lambda *args: calls.append(1))
    try:
        again = few_shot_eval(model, tok, TRAIN, EVAL, config, cache)
    finally:
        handle.remove()
    assert not calls and cache.hits == len(EVAL) + 3
    np.testing.assert_array_equal(first.label_probs, again.label_probs)


def test_calibration_is_zhao_et_al_formula(tiny_lm):
    model, tok = tiny_lm
    config = FewShotConfig(shots=2, order_seed=1, verbalizers=("bad", "good"), calibration="contextual")
    res = few_shot_eval(model, tok, TRAIN, EVAL, config)
    _, _, prefix, queries, labels = build_prompts(tok, TRAIN, [t for t, _ in EVAL] + list(config.content_free), config)
    logp = np.array([[reference_logprob(model, prefix + q + lab, len(lab)) for lab in labels] for q in queries])
    p = np.exp(logp) / np.exp(logp).sum(1, keepdims=True)  # renormalised over the label words
    p_cf = p[len(EVAL) :].mean(0)
    p_cf = p_cf / p_cf.sum()
    W = np.linalg.inv(np.identity(2) * p_cf)  # the paper's code: W = inv(diag(p_cf)), b = 0
    q = np.stack([W @ row for row in p[: len(EVAL)]])
    q = q / q.sum(1, keepdims=True)
    np.testing.assert_allclose(res.label_probs, p[: len(EVAL)], atol=1e-5)
    np.testing.assert_allclose(res.content_free_probs, p_cf, atol=1e-5)
    np.testing.assert_allclose(res.calibrated_probs, q, atol=1e-5)
    gold = np.array([y for _, y in EVAL])
    assert res.accuracy == res.calibrated_accuracy == pytest.approx((q.argmax(1) == gold).mean())
    assert res.uncalibrated_accuracy == pytest.approx((p[: len(EVAL)].argmax(1) == gold).mean())


def test_zero_shots_is_the_template_alone(tiny_lm):
    _, tok = tiny_lm
    config = FewShotConfig(shots=0, template="Text: {x}\nTopic: {y}\n\n", verbalizers=("a", "b"))
    shots, prefix_text, prefix, queries, labels = build_prompts(tok, TRAIN, ["hello world"], config)
    assert shots == [] and prefix_text == "" and prefix == []
    assert tok.decode(queries[0]) == "Text: hello world\nTopic:"
    assert tok.decode(labels[0]) == " a"
    few = build_prompts(tok, TRAIN, ["hello world"], FewShotConfig(shots=2, order_seed=3))
    assert few[1].count("Review: ") == 2 and few[1].endswith("\n\n")


def test_greedy_chain_of_thought_equals_transformers_generate(tiny_lm):
    model, tok = tiny_lm
    prompt = list(tok("Q: Tom has 3 apples. He buys 2 more. How many?\nA:", add_special_tokens=False)["input_ids"])
    ours = generate(model, tok, prompt, max_new_tokens=12, stop_text=False)[0]
    theirs = model.generate(torch.tensor([prompt]), do_sample=False, max_new_tokens=12, pad_token_id=tok.eos_token_id)
    reference = theirs[0, len(prompt) :].tolist()
    assert ours == reference[: len(ours)] and (len(ours) == 12 or ours[-1] == tok.eos_token_id)


def test_sampled_chains_are_seeded_and_voted(tiny_lm):
    model, tok = tiny_lm
    run = CoTRun(model, tok, CoTConfig(problems=2, chains=3, max_new_tokens=6, worked_examples=1))
    metrics = run.train_steps(5)
    assert run.done and metrics["problems"] == 2 and len(run.accuracy_by_chains()) == 3
    again = CoTRun(model, tok, CoTConfig(problems=2, chains=3, max_new_tokens=6, worked_examples=1))
    again.train_steps(2)
    assert [s.chains for s in again.solved] == [s.chains for s in run.solved]
    assert extract_answer("so 3 + 4 = 7. The answer is 7.") == 7 and extract_answer("3 then 9") == 9
    assert extract_answer("none") is None and majority([None, 5, 6, 6, 5]) == 5 and majority([None]) is None


def test_sweeps_and_ensembles(tiny_lm):
    model, tok = tiny_lm
    assert len(order_points(3)) == 6 and len(shot_points(2, shots=(0, 1))) == 4
    sweep = FewShotSweep(model, tok, TRAIN, EVAL[:2], FewShotConfig(), shot_points(2, shots=(0, 1)))
    sweep.train_steps(4)
    assert sweep.done and sweep.rows[0]["accuracy"] == sweep.rows[1]["accuracy"]  # zero-shot: same for each draw
    assert sweep.cache.hits == 2 + 3  # the second zero-shot draw, its content-free inputs included
    orders = FewShotSweep(model, tok, TRAIN, EVAL[:2], FewShotConfig(), order_points(2))
    orders.train_steps(2)
    assert [r["order"] for r in orders.rows] == ["1 2", "2 1"]
    probs = [np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([[0.6, 0.4], [0.9, 0.1]])]
    np.testing.assert_allclose(ensemble(probs), [[0.4, 0.6], [0.75, 0.25]])
    np.testing.assert_allclose(ensemble(probs, np.array([3.0, 1.0])), [[0.3, 0.7], [0.675, 0.325]])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(template=""), "template is empty"),
        (dict(template="Sentiment: {y}"), "must contain {x} exactly once"),
        (dict(template="{x} {x} {y}"), "must contain {x} exactly once"),
        (dict(template="{y} {x}"), "Put {x} before {y}"),
        (dict(verbalizers=("good",)), "at least two label words"),
        (dict(verbalizers=("good", " ")), "label word is empty"),
        (dict(verbalizers=("good", "good ")), "used for two classes"),
        (dict(shots=99), "Shots must be between 0"),
        (dict(calibration="magic"), "Calibration must be one of"),
    ],
)
def test_bad_settings_say_what_to_do(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FewShotConfig(**kwargs)


def test_bad_data_says_what_to_do(tiny_lm):
    model, tok = tiny_lm
    with pytest.raises(ValueError, match="need 6 training examples; there are 5"):
        few_shot_eval(model, tok, TRAIN, EVAL, FewShotConfig(shots=6))
    with pytest.raises(ValueError, match="evaluation set is empty"):
        few_shot_eval(model, tok, TRAIN, [], FewShotConfig())
    with pytest.raises(ValueError, match="at least two labels"):
        parse_labelled_lines("a: one\na: two")
    with pytest.raises(ValueError, match="no “:”"):
        parse_labelled_lines("just text")
    with pytest.raises(ValueError, match="empty"):
        parse_labelled_lines("  \n ")
    pairs, names = parse_labelled_lines("pos: good 🙂\nneg: bad\npos: great\nneg:\t awful")
    assert names == ("pos", "neg") and pairs[3] == ("awful", 1)
    train, evaluation = split_pairs(movie_reviews(8), 24)
    assert len(evaluation) == 24 and sum(y for _, y in evaluation) == 12 and len(train) == 176
    assert max(len(text.split()) for text, _ in evaluation) <= 8
