"""Supervised fine-tuning on instructions: the loss on the response only, and instruction tuning in miniature.

SFT (Ouyang et al. 2022; Wei et al. 2022, FLAN, https://arxiv.org/abs/2109.01652; Sanh et al. 2022, T0) trains a
causal LM on (prompt, response) pairs with the prompt *masked out* of the loss: with prompt length P and length L,

    L_SFT = -1/Σ_b (L_b - P_b) · Σ_b Σ_{t=P_b}^{L_b-1} log p(x_t | x_<t)

which is PyTorch's cross-entropy with the prompt's labels set to -100 (TRL's completion-only loss;
transformers' ForCausalLMLoss on those labels: tests/models/test_pretraining.py checks both agree with `sft_loss`).

Instruction tuning in miniature: a tiny character-level transformer learns a mixture of string tasks (copy,
reverse, uppercase, ...), each stated by an instruction in words. One run sees one phrasing per task, another
several; both are then asked in phrasings neither has seen, and for a task held out of training altogether.
FLAN's finding, that instructions generalise to unseen tasks, needs scale (it appears above ~8B parameters in
the paper); at this size the page measures what does and does not carry over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from models.attention.tiny_transformer import TinyTransformer, TinyTransformerConfig
from models.pretraining.masking import IGNORE

LETTERS = "abcdef"
# task -> (the answer to a string, phrasings); training uses the first 1 or 3, the last 2 are never trained on
TASKS = {
    "copy": (lambda s: s, ["copy {x}", "repeat {x}", "say {x}", "echo {x} please", "write out {x}"]),
    "reverse": (lambda s: s[::-1], ["reverse {x}", "flip {x}", "{x} backwards", "reverse {x} please", "mirror {x}"]),
    "uppercase": (str.upper, ["upper {x}", "caps {x}", "shout {x}", "upper {x} please", "{x} in capitals"]),
    "first": (lambda s: s[0], ["first of {x}", "start of {x}", "{x} begins with", "first of {x} please", "head {x}"]),
    "last": (lambda s: s[-1], ["last of {x}", "end of {x}", "{x} ends with", "last of {x} please", "tail {x}"]),
    "count": (lambda s: str(len(s)), ["count {x}", "length of {x}", "how long is {x}", "count {x} please", "size {x}"]),
}
TRAINED_PHRASINGS = {"one": 1, "several": 3}
UNSEEN = (3, 4)  # the phrasings kept out of every training run
SEP, END = "=", "."  # prompt = instruction + "=", response = answer + "."


def sft_loss(
    logits: torch.Tensor, input_ids: torch.Tensor, prompt_lengths, lengths=None, mask_prompt: bool = True
) -> torch.Tensor:
    """Mean cross-entropy over the response tokens only.

    logits (B, T, V) from a causal LM on input_ids (B, T); prompt_lengths (B,): the first P_b tokens are the prompt;
    lengths (B,): tokens after L_b are padding (default: none). mask_prompt=False counts the prompt too (plain LM).
    """
    labels = response_labels(input_ids, prompt_lengths if mask_prompt else [0] * len(input_ids), lengths)
    shifted_logits, shifted_labels = logits[:, :-1], labels[:, 1:]  # position t predicts token t+1
    if not (shifted_labels != IGNORE).any():
        raise ValueError("No response token to learn from: every token is prompt or padding.")
    return F.cross_entropy(shifted_logits.flatten(0, 1).float(), shifted_labels.flatten(), ignore_index=IGNORE)


def response_labels(input_ids: torch.Tensor, prompt_lengths, lengths=None) -> torch.Tensor:
    """(B, T): the token ids where a token carries a loss, -100 on the prompt and on padding."""
    positions = torch.arange(input_ids.shape[1], device=input_ids.device)[None]  # (1, T)
    prompt = torch.as_tensor(prompt_lengths, device=input_ids.device)[:, None]  # (B, 1)
    keep = positions >= prompt
    if lengths is not None:
        keep &= positions < torch.as_tensor(lengths, device=input_ids.device)[:, None]
    return input_ids.masked_fill(~keep, IGNORE)


def per_token_loss(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """(B, T): -log p(token t | tokens < t); NaN at t = 0, which nothing predicts."""
    nll = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), input_ids[:, 1:].flatten(), reduction="none")
    first = torch.full((input_ids.shape[0], 1), float("nan"), device=nll.device)
    return torch.cat([first, nll.view(input_ids.shape[0], -1)], dim=1)


# ---------------------------------------------------------------------------------------------- the tasks
def check_chat(turns: list[dict]) -> list[dict]:
    """A conversation [{"role", "content"}, ...] that a chat model can answer, else ValueError saying why."""
    if not turns:
        raise ValueError("The conversation is empty: add a user turn.")
    for turn in turns:
        if turn.get("role") not in ("system", "user", "assistant") or not isinstance(turn.get("content"), str):
            raise ValueError("Each turn needs a role (system, user or assistant) and a text.")
    if not any(t["role"] == "user" and t["content"].strip() for t in turns):
        raise ValueError("The conversation has no user turn: a chat model answers a user. Type a question.")
    return turns


def example(task: str, phrasing: int, letters: str) -> tuple[str, str]:
    """(prompt, response) of a task in one of its phrasings, for a string of letters."""
    answer, phrasings = TASKS[task]
    return phrasings[phrasing].format(x=letters) + SEP, answer(letters) + END


@dataclass
class InstructionConfig:
    tasks: tuple = ("copy", "reverse", "uppercase", "first", "last")  # the training mixture
    heldout_task: str = "count"  # never trained on; tested like the others
    phrasings: str = "several"  # "one" or "several" (3) training phrasings per task
    mask_prompt: bool = True  # SFT: the loss on the response only
    d_model: int = 64  # width
    n_layers: int = 2  # transformer blocks
    lr: float = 3e-3  # AdamW learning rate
    batch_size: int = 32  # examples per step
    min_letters: int = 3  # string lengths of the tasks
    max_letters: int = 5

    def __post_init__(self):
        self.tasks = tuple(self.tasks)
        if not self.tasks:
            raise ValueError("The task mixture is empty: pick at least one task to train on.")
        unknown = [t for t in (*self.tasks, self.heldout_task) if t and t not in TASKS]
        if unknown:
            raise ValueError(f"Unknown task(s) {', '.join(unknown)}; the tasks are {', '.join(TASKS)}.")
        if self.heldout_task in self.tasks:
            raise ValueError(f"The held-out task {self.heldout_task!r} is also in the mixture: drop it from one.")
        if self.phrasings not in TRAINED_PHRASINGS:
            raise ValueError("phrasings must be 'one' or 'several'.")
        if not 1 <= self.min_letters <= self.max_letters <= len(LETTERS):
            raise ValueError(f"String lengths must be 1 to {len(LETTERS)}, the shortest first.")


class InstructionTrainer:
    """A tiny causal transformer fine-tuned on a task mixture, each example an instruction and its answer."""

    def __init__(self, config: InstructionConfig, seed: int = 0, device: str = "cpu"):
        self.config, self.seed, self.device = config, seed, device
        chars = set(LETTERS + LETTERS.upper() + "0123456789" + SEP + END + " ")
        for _, phrasings in TASKS.values():
            chars |= set("".join(phrasings))
        self.itos = ["<pad>"] + sorted(chars - {"{", "}"})
        self.stoi = {ch: i for i, ch in enumerate(self.itos)}
        self.max_len = 48
        net = TinyTransformerConfig(
            vocab_size=len(self.itos),
            d_model=config.d_model,
            n_heads=4,
            n_layers=config.n_layers,
            positional="rope",
            causal=True,
            max_len=self.max_len,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model = TinyTransformer(net).to(device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr)
        self.rng = torch.Generator().manual_seed(seed)
        self.steps, self.seconds = 0, 0.0

    def encode(self, text: str) -> list[int]:
        return [self.stoi[ch] for ch in text]

    def _letters(self, rng: torch.Generator) -> str:
        c = self.config
        n = int(torch.randint(c.min_letters, c.max_letters + 1, (1,), generator=rng))
        return "".join(LETTERS[int(i)] for i in torch.randint(len(LETTERS), (n,), generator=rng))

    def batch(self, pairs: list[tuple[str, str]]):
        """-> input_ids (B, T) padded with 0, prompt lengths (B,), lengths (B,)."""
        encoded = [(self.encode(p), self.encode(r)) for p, r in pairs]
        lengths = [len(p) + len(r) for p, r in encoded]
        ids = torch.zeros(len(pairs), max(lengths), dtype=torch.long)
        for row, (p, r) in enumerate(encoded):
            ids[row, : len(p) + len(r)] = torch.tensor(p + r)
        return ids.to(self.device), [len(p) for p, _ in encoded], lengths

    def training_pairs(self, n: int) -> list[tuple[str, str]]:
        c = self.config
        pairs = []
        for _ in range(n):
            task = c.tasks[int(torch.randint(len(c.tasks), (1,), generator=self.rng))]
            phrasing = int(torch.randint(TRAINED_PHRASINGS[c.phrasings], (1,), generator=self.rng))
            pairs.append(example(task, phrasing, self._letters(self.rng)))
        return pairs

    def train_steps(self, n: int) -> dict[str, float]:
        if n < 1:
            raise ValueError("train at least one step")
        self.model.train()
        started = time.perf_counter()
        for _ in range(n):
            ids, prompts, lengths = self.batch(self.training_pairs(self.config.batch_size))
            logits, _ = self.model(ids)
            loss = sft_loss(logits, ids, prompts, lengths, mask_prompt=self.config.mask_prompt)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.steps += 1
        self.seconds += time.perf_counter() - started
        return {"step": self.steps, "loss": float(loss.detach())}

    @torch.no_grad()
    def answer(self, prompts: list[str], max_new: int = 8) -> list[str]:
        """Greedy answers, all prompts at once (left-aligned, each read up to its own end)."""
        self.model.eval()
        outs = ["" for _ in prompts]
        done = [False] * len(prompts)
        for _ in range(max_new):
            ids, _, lengths = self.batch([(p, o) for p, o in zip(prompts, outs)])
            logits, _ = self.model(ids)
            last = logits[torch.arange(len(prompts)), torch.tensor(lengths) - 1].argmax(-1).tolist()
            for i, token in enumerate(last):
                if not done[i]:
                    ch = self.itos[token] if token else END
                    done[i] = ch == END
                    outs[i] += ch
            if all(done):
                break
        return [o.removesuffix(END) for o in outs]

    def accuracy_grid(self, per_cell: int = 24, seed: int = 99) -> list[dict]:
        """Exact-match accuracy per task (trained ones and the held-out one) and phrasing (seen or unseen)."""
        c = self.config
        rng = torch.Generator().manual_seed(seed)
        strings = [self._letters(rng) for _ in range(per_cell)]
        seen = range(TRAINED_PHRASINGS[c.phrasings])
        rows, prompts, wanted = [], [], []
        for task in (*c.tasks, c.heldout_task):
            for phrasing in range(len(TASKS[task][1])):
                if task == c.heldout_task:
                    kind = "held-out task" if phrasing == 0 else ""
                else:
                    kind = "seen" if phrasing in seen else ("unseen" if phrasing in UNSEEN else "")
                if not kind:
                    continue
                for s in strings:
                    p, r = example(task, phrasing, s)
                    prompts.append(p)
                    wanted.append(r.removesuffix(END))
                rows.append({"task": task, "phrasing": TASKS[task][1][phrasing], "kind": kind})
        answers = self.answer(prompts)
        for i, row in enumerate(rows):
            got = answers[i * per_cell : (i + 1) * per_cell]
            row["accuracy"] = sum(a == w for a, w in zip(got, wanted[i * per_cell : (i + 1) * per_cell])) / per_cell
        return rows

    @torch.no_grad()
    def token_losses(self, prompt: str, response: str) -> list[float]:
        """Per-character loss -log p over prompt + response (NaN for the first character)."""
        self.model.eval()
        ids, _, _ = self.batch([(prompt, response)])
        logits, _ = self.model(ids)
        return per_token_loss(logits, ids)[0].tolist()


RUNS = {  # run name -> (phrasings, mask_prompt)
    "one phrasing": ("one", True),
    "several phrasings": ("several", True),
    "several, prompt not masked": ("several", False),
}


class InstructionComparison:
    """The runs of RUNS from one seed and one task mixture; train_steps(n) returns "<run>.<metric>"."""

    def __init__(self, config: InstructionConfig, seed: int = 0, device: str = "cpu", runs=tuple(RUNS)):
        self.trainers = {
            name: InstructionTrainer(
                InstructionConfig(**{**config.__dict__, "phrasings": RUNS[name][0], "mask_prompt": RUNS[name][1]}),
                seed,
                device,
            )
            for name in runs
        }

    def train_steps(self, n: int) -> dict[str, float]:
        metrics = {}
        for name, trainer in self.trainers.items():
            metrics |= {f"{name}.{k}": v for k, v in trainer.train_steps(n).items()}
        return metrics
