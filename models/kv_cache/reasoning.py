"""A repetitive reasoning trace: the kind of text R-KV was designed for, built in code (deterministic).

R-KV (Cai et al. 2025, https://arxiv.org/abs/2505.24133) compresses the cache of reasoning models while they
decode. Their traces repeat themselves: a step is computed, then "wait, let me double-check" computes it again,
then it is verified another way, so many cached tokens carry the same content. R-KV scores a token by its
attention importance minus its redundancy (how similar its key is to the other keys), which frees the slots that
repeats hold. A Wikipedia paragraph has few repeats, so it cannot show that; this text is full of them:

    Question: A shop sells pencils at 7 cents each. How much do 23 pencils cost?
    <think> Okay, let me work it out. 23 times 7: 20 times 7 is 140, and 3 times 7 is 21, so 140 plus 21 is 161.
    Wait, let me double-check. 23 times 7: 20 times 7 is 140, and 3 times 7 is 21, so 140 plus 21 is 161. ...
    So the answer is 161 cents. </think>

The numbers come from `random.Random(seed)`, so the same seed gives the same text on every machine.
"""

from __future__ import annotations

import random

ITEMS = [("pencils", "cents"), ("apples", "cents"), ("tickets", "dollars"), ("books", "dollars"), ("cups", "cents")]


def _problem(rng: random.Random) -> str:
    item, unit = rng.choice(ITEMS)
    price, count = rng.randrange(3, 10), rng.randrange(12, 99)
    tens, ones = count // 10 * 10, count % 10
    total = price * count
    step = (
        f"{count} times {price}: {tens} times {price} is {tens * price}, and {ones} times {price} is "
        f"{ones * price}, so {tens * price} plus {ones * price} is {total}."
    )
    return (
        f"Question: A shop sells {item} at {price} {unit} each. How much do {count} {item} cost?\n"
        f"<think>\nOkay, let me work it out. Each costs {price} {unit} and there are {count}, so the cost is "
        f"{count} times {price}. {step} So the cost is {total} {unit}.\n"
        f"Wait, let me double-check. {step} Yes, {total} {unit}.\n"
        f"Hmm, let me verify that another way. {total} divided by {price} is {count}. Yes, so {count} times "
        f"{price} is {total}.\n"
        f"Wait, let me double-check once more. {step} So the answer is {total} {unit}.\n"
        f"</think>\nThe {count} {item} cost {total} {unit}.\n\n"
    )


def reasoning_trace(problems: int = 40, seed: int = 0) -> str:
    """`problems` worked problems, each solved, re-checked twice and verified another way (about 190 tokens)."""
    rng = random.Random(seed)
    return "".join(_problem(rng) for _ in range(problems))
