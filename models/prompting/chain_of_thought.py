"""Chain of thought (Wei et al. 2022, https://arxiv.org/abs/2201.11903) and self-consistency (Wang et al. 2023,
https://arxiv.org/abs/2203.11171) on small arithmetic word problems.

Direct prompting asks for the answer at once ("A: The answer is 5."). A chain-of-thought prompt shows worked
examples whose answers spell out the steps ("3 + 2 = 5. The answer is 5."), and the model imitates them.
Self-consistency samples N chains at a temperature instead of one greedy chain and takes the majority answer:

    â = argmax_a  Σ_{i ≤ N} 1[answer(chain_i) = a]

Greedy decoding here is a plain loop over the KV cache (tested equal to transformers' `generate(do_sample=False)`);
the N chains are sampled in one batch from the prompt's cache. `CoTRun.train_steps(n)` solves n more problems, so
the page runs it in short chunks with the kit's Start / Step.
"""

from __future__ import annotations

import copy
import random
import re
from collections import Counter
from dataclasses import dataclass, field

import torch

from models.prompting.scoring import _cache_argument, _output_cache

WORKED = [  # (question, reasoning, answer): the demonstrations of the chain-of-thought prompt
    (
        "Tom has 3 apples. He buys 2 more. How many apples does Tom have now?",
        "Tom starts with 3 apples. He buys 2 more, so 3 + 2 = 5.",
        5,
    ),
    (
        "Mia has 9 stickers. She gives away 4. How many stickers does Mia have left?",
        "Mia starts with 9 stickers. She gives away 4, so 9 - 4 = 5.",
        5,
    ),
    (
        "There are 4 boxes with 3 pens in each box. How many pens are there?",
        "There are 4 boxes of 3 pens, so 4 * 3 = 12.",
        12,
    ),
    (
        "Leo has 6 cards. He gets 7 more. How many cards does Leo have now?",
        "Leo starts with 6 cards. He gets 7 more, so 6 + 7 = 13.",
        13,
    ),
]
NAMES = ["Ann", "Ben", "Sara", "Omar", "Lina", "Raj", "Eva", "Kim"]
THINGS = ["marbles", "books", "coins", "shells", "stamps", "cookies"]
_NUMBER = re.compile(r"-?\d+")
_ANSWER = re.compile(r"answer is\s*(-?\d+)", re.IGNORECASE)


@dataclass
class CoTConfig:
    problems: int = 12  # arithmetic word problems to solve
    chains: int = 5  # N: sampled chains per problem for the self-consistency vote
    temperature: float = 0.7  # of the sampled chains
    worked_examples: int = 2  # demonstrations in the prompt (0 to 4)
    max_new_tokens: int = 40  # per chain
    seed: int = 0  # the problems and the sampling

    def __post_init__(self):
        if not 1 <= self.problems <= 200:
            raise ValueError(f"Between 1 and 200 problems, please (got {self.problems}).")
        if not 1 <= self.chains <= 32:
            raise ValueError(f"Between 1 and 32 sampled chains, please (got {self.chains}).")
        if not 0 < self.temperature <= 5:
            raise ValueError(f"The temperature must be above 0 and at most 5 (got {self.temperature}).")
        if not 0 <= self.worked_examples <= len(WORKED):
            raise ValueError(f"Between 0 and {len(WORKED)} worked examples (got {self.worked_examples}).")
        if not 4 <= self.max_new_tokens <= 256:
            raise ValueError(f"Between 4 and 256 new tokens per chain (got {self.max_new_tokens}).")


def arithmetic_problems(n: int, seed: int = 0) -> list[tuple[str, int]]:
    """n one-step word problems (add, take away, multiply; numbers 2-9) with their answers, seeded."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        name, thing, a, b = rng.choice(NAMES), rng.choice(THINGS), rng.randint(2, 9), rng.randint(2, 9)
        kind = rng.choice(["add", "sub", "mul"])
        if kind == "add":
            out.append((f"{name} has {a} {thing}. {name} gets {b} more. How many {thing} does {name} have now?", a + b))
        elif kind == "sub":
            a, b = max(a, b) + 2, min(a, b)
            out.append((f"{name} has {a} {thing}. {name} gives away {b}. How many {thing} are left?", a - b))
        else:
            out.append((f"There are {a} bags with {b} {thing} in each bag. How many {thing} are there?", a * b))
    return out


def cot_prompt(question: str, worked_examples: int, chain: bool) -> str:
    """The prompt: worked examples (with their steps when `chain`), then the question and "A:"."""
    shots = []
    for q, steps, answer in WORKED[:worked_examples]:
        reasoning = f"{steps} The answer is {answer}." if chain else f"The answer is {answer}."
        shots.append(f"Q: {q}\nA: {reasoning}\n\n")
    return "".join(shots) + f"Q: {question}\nA:"


def extract_answer(text: str) -> int | None:
    """ "The answer is 7" wins; else the last number in the text; None when there is none."""
    found = _ANSWER.search(text)
    if found:
        return int(found.group(1))
    numbers = _NUMBER.findall(text)
    return int(numbers[-1]) if numbers else None


def majority(answers: list) -> int | None:
    """The most frequent answer that is not None (ties: the first seen), or None."""
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(a for a in answers if a is not None and counts[a] == best)


def _stop_at(text: str) -> str:
    """A chain ends at a blank line or the next "Q:" (the model starting a new example)."""
    for stop in ("\n\n", "\nQ:"):
        text = text.split(stop)[0]
    return text


@torch.no_grad()
def generate(
    model,
    tokenizer,
    prompt_ids: list[int],
    max_new_tokens: int,
    n: int = 1,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
    stop_text: bool = True,
) -> list[list[int]]:
    """n continuations of the prompt: greedy when temperature is 0, else sampled, in one batch over the prompt's
    KV cache. A row stops at the end-of-text token or, with `stop_text`, at a blank line (checked on its text)."""
    device = next(model.parameters()).device
    cache_name = _cache_argument(model)
    output = model(torch.tensor([prompt_ids], device=device), use_cache=True, logits_to_keep=1)
    cache = _output_cache(output)
    logits = output.logits[:, -1].float().expand(n, -1)  # [n, vocab]
    if n > 1:
        cache = copy.deepcopy(cache)
        cache.batch_repeat_interleave(n)
    rows: list[list[int]] = [[] for _ in range(n)]
    done = [False] * n
    eos = tokenizer.eos_token_id
    for _ in range(max_new_tokens):
        if temperature > 0:
            probs = torch.softmax(logits / temperature, -1).cpu()
            next_ids = torch.multinomial(probs, 1, generator=generator)[:, 0]  # [n]
        else:
            next_ids = logits.argmax(-1).cpu()  # [n]
        for r in range(n):
            if not done[r]:
                rows[r].append(int(next_ids[r]))
                done[r] = int(next_ids[r]) == eos or (stop_text and "\n\n" in tokenizer.decode(rows[r][-3:]))
        if all(done):
            break
        output = model(next_ids[:, None].to(device), use_cache=True, **{cache_name: cache})
        cache = _output_cache(output)
        logits = output.logits[:, -1].float()
    return rows


@dataclass
class Solved:
    question: str
    answer: int
    direct: int | None  # greedy, no reasoning in the prompt
    greedy_chain: str
    greedy: int | None  # greedy chain of thought
    chains: list[str]
    votes: list  # the answer of each sampled chain


@dataclass
class CoTRun:
    """Solves one problem per step: direct, greedy chain of thought, N sampled chains and their vote."""

    model: object
    tokenizer: object
    config: CoTConfig
    solved: list[Solved] = field(default_factory=list)

    def __post_init__(self):
        self.problems = arithmetic_problems(self.config.problems, self.config.seed)
        self.generator = torch.Generator().manual_seed(self.config.seed)

    @property
    def done(self) -> bool:
        return len(self.solved) >= len(self.problems)

    def solve(self, question: str, answer: int) -> Solved:
        c, tok = self.config, self.tokenizer
        encode = lambda text: list(tok(text, add_special_tokens=False)["input_ids"])  # noqa: E731
        direct_ids = generate(self.model, tok, encode(cot_prompt(question, c.worked_examples, False)), 8)[0]
        chain_prompt = encode(cot_prompt(question, c.worked_examples, True))
        greedy_ids = generate(self.model, tok, chain_prompt, c.max_new_tokens)[0]
        sampled = generate(self.model, tok, chain_prompt, c.max_new_tokens, c.chains, c.temperature, self.generator)
        chains = [_stop_at(tok.decode(ids, skip_special_tokens=True)).strip() for ids in sampled]
        greedy_chain = _stop_at(tok.decode(greedy_ids, skip_special_tokens=True)).strip()
        direct = extract_answer(_stop_at(tok.decode(direct_ids, skip_special_tokens=True)))
        return Solved(
            question,
            answer,
            direct,
            greedy_chain,
            extract_answer(greedy_chain),
            chains,
            [extract_answer(text) for text in chains],
        )

    def accuracy_by_chains(self) -> list[float]:
        """Accuracy of the majority vote over the first n sampled chains, n = 1 … N (the same samples)."""
        if not self.solved:
            return []
        return [
            sum(majority(s.votes[:n]) == s.answer for s in self.solved) / len(self.solved)
            for n in range(1, self.config.chains + 1)
        ]

    def metrics(self) -> dict:
        n = max(1, len(self.solved))
        return {
            "problems": float(len(self.solved)),
            "direct": sum(s.direct == s.answer for s in self.solved) / n,
            "greedy chain of thought": sum(s.greedy == s.answer for s in self.solved) / n,
            "self-consistency vote": sum(majority(s.votes) == s.answer for s in self.solved) / n,
        }

    def train_steps(self, n: int) -> dict:
        for _ in range(n):
            if self.done:
                break
            self.solved.append(self.solve(*self.problems[len(self.solved)]))
        return self.metrics()


def chain_of_thought_eval(model, tokenizer, config: CoTConfig) -> CoTRun:
    """Every problem solved at once (tests, benchmarks): the run, finished."""
    run = CoTRun(model, tokenizer, config)
    run.train_steps(config.problems)
    return run
