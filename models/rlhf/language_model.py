"""RLHF on a real causal LM: LoRA-adapted policy, frozen reference, a transparent reward, a KL penalty.

One iteration (`RLHFTrainer.train_steps(1)`):
1. generate: each prompt gets `samples_per_prompt` sampled continuations of exactly `new_tokens` tokens;
2. score: a reward anyone can read: VADER's sentiment compound in [-1, 1] (Hutto & Gilbert 2014), or 1 when a
   keyword appears;
3. compare with the reference: per-token log-probabilities of the policy and of the reference (the same weights
   with the LoRA adapters switched off: the reference costs no memory);
4. update, by one of two recipes:
   - "ppo": score = reward - beta * sum_t (log pi - log ref) (the KL penalty of Ziegler et al. 2019 /
     InstructGPT), advantages = the whitened scores of the batch (a batch-mean baseline instead of a critic),
     then PPO's clipped loss for `ppo_epochs` passes;
   - "grpo": advantages = reward normalised within each prompt's group (Shao et al. 2024), loss = clipped
     surrogate + beta * k3 KL per token, as TRL's GRPOTrainer.
With beta = 0 nothing holds the policy near the reference and it finds the reward's blind spots (reward hacking):
the reward climbs while the text degenerates into repeated reward words.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch

from models.rlhf.policy_gradient import grpo_advantages, kl_k3, ppo_clip_loss

REWARDS = ("sentiment", "keyword")
METHODS = ("ppo", "grpo")
DEFAULT_PROMPTS = (
    "The movie was",
    "My day at work",
    "The food at this restaurant",
    "I think the weather",
    "Our new neighbours",
    "The train this morning",
    "This book",
    "The meeting",
)


@dataclass
class RLHFConfig:
    prompts: tuple = DEFAULT_PROMPTS  # the prompts continued every iteration
    reward: str = "sentiment"  # one of REWARDS
    keyword: str = "great"  # the word the keyword reward looks for
    method: str = "ppo"  # "ppo" (KL in the reward) or "grpo" (group advantages, KL in the loss)
    kl_coef: float = 0.05  # beta: weight of the KL penalty to the reference (0 = none: reward hacking)
    clip_range: float = 0.2  # PPO's clipping range ε
    adapter_lr: float = 1e-3  # AdamW learning rate of the LoRA adapters
    lora_rank: int = 8  # rank of the LoRA adapters on the attention projections
    samples_per_prompt: int = 2  # continuations per prompt (GRPO's group size)
    new_tokens: int = 12  # tokens generated per continuation
    ppo_epochs: int = 1  # PPO passes over each batch
    temperature: float = 1.0  # sampling temperature (the log-probabilities use the same one)
    sample_seed: int = 0  # sampling seed

    def __post_init__(self):
        self.prompts = tuple(p.strip() for p in self.prompts if p and p.strip())
        if not self.prompts:
            raise ValueError("Give at least one non-empty prompt (one per line).")
        if len(self.prompts) > 64 or any(len(p) > 300 for p in self.prompts):
            raise ValueError("Use at most 64 prompts of at most 300 characters each.")
        if self.reward not in REWARDS or self.method not in METHODS:
            raise ValueError(f"reward must be one of {REWARDS}, method one of {METHODS}.")
        if self.reward == "keyword" and not self.keyword.strip():
            raise ValueError("The keyword reward needs a keyword.")
        if self.kl_coef < 0:
            raise ValueError(f"The KL coefficient β cannot be negative (got {self.kl_coef}).")
        if not 0 < self.clip_range < 1:
            raise ValueError(f"The clipping range ε must lie in (0, 1) (got {self.clip_range}).")
        if not 0 < self.adapter_lr <= 1:
            raise ValueError(f"The learning rate must lie in (0, 1] (got {self.adapter_lr}).")
        if self.method == "grpo" and self.samples_per_prompt < 2:
            raise ValueError("GRPO needs groups of at least 2 continuations per prompt.")
        if not 1 <= self.samples_per_prompt <= 16 or not 1 <= self.new_tokens <= 64:
            raise ValueError("Use 1–16 continuations per prompt and 1–64 new tokens.")
        if not 1 <= self.lora_rank <= 64 or self.ppo_epochs < 1 or self.temperature <= 0:
            raise ValueError("Use a LoRA rank of 1–64, at least one epoch and a positive temperature.")


def make_reward(config: RLHFConfig):
    """texts -> (N,) float tensor of rewards."""
    if config.reward == "keyword":
        word = config.keyword.strip().lower()
        return lambda texts: torch.tensor([float(word in t.lower()) for t in texts])
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError as exc:
        raise ImportError(
            "The sentiment reward needs VADER: pip install vaderSentiment (or pick the keyword reward)."
        ) from exc
    analyzer = SentimentIntensityAnalyzer()
    return lambda texts: torch.tensor([analyzer.polarity_scores(t)["compound"] for t in texts])


def add_lora(model, rank: int):
    """A private LoRA-wrapped copy of `model` (q/v projections), its base frozen."""
    from peft import LoraConfig, get_peft_model

    policy = copy.deepcopy(model)
    for p in policy.parameters():
        p.requires_grad_(False)
    lora = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)
    return get_peft_model(policy, lora)


def completion_logprobs(
    model, sequences, attention_mask, prompt_len: int, temperature: float, with_entropy: bool = True
):
    """Log-probabilities (B, T_new) of the completion tokens, and the logits' entropy (B, T_new), or None
    without `with_entropy`. The entropy is a diagnostic, computed without gradient. Only the positions that
    predict a completion token go through the LM head: the prompt's logits are never used. `logits_to_keep`
    gets them as a tensor of positions, which gathers a contiguous copy of those hidden states (an int would
    slice a strided view, and the LM head's matmul runs ~2x slower on that than on all positions on a CPU)."""
    last = sequences.shape[1] - 1
    positions = torch.arange(prompt_len - 1, last, device=sequences.device)  # (T_new,)
    logits = model(
        input_ids=sequences, attention_mask=attention_mask, logits_to_keep=positions
    ).logits  # (B, T_new, V): position t predicts token t + 1
    logits = logits.float() / temperature
    logp_all = logits.log_softmax(-1)
    tokens = sequences[:, prompt_len:]  # (B, T_new)
    logp = logp_all.gather(-1, tokens[..., None]).squeeze(-1)
    entropy = None
    if with_entropy:
        with torch.no_grad():
            entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy


def whiten(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(x - mean) / (std + eps) over the batch (unbiased std); a batch of one has no spread: zeros."""
    if x.numel() < 2:
        return torch.zeros_like(x)
    return (x - x.mean()) / (x.std() + eps)


def rlhf_advantages(rewards, logp_old, ref_logp, config: RLHFConfig):
    """One advantage per continuation, from rewards (B,) and per-token log-probabilities (B, T_new).

    ppo:  score = reward - beta * sum_t (log pi - log ref), the KL penalty in the reward (TRL's RLOOTrainer:
          k1 per token, summed per sequence); advantage = the scores whitened over the batch (the batch mean is
          the baseline; no critic). This equals RLOO's leave-one-out advantage with the batch as one group,
          normalised (TRL's normalize_advantages=True), up to the epsilon.
    grpo: score = reward; advantage = reward normalised within each prompt's group (the KL goes in the loss).
    Returns (scores (B,), advantages (B,), kl_seq (B,)).
    """
    kl_seq = (logp_old - ref_logp).sum(1)  # (B,) k1 estimate, summed over the tokens
    if config.method == "ppo":
        scores = rewards - config.kl_coef * kl_seq
        return scores, whiten(scores), kl_seq
    return rewards, grpo_advantages(rewards, config.samples_per_prompt), kl_seq


def rlhf_loss(logp, logp_old, ref_logp, advantages, config: RLHFConfig):
    """PPO's clipped loss per token (each token gets its sequence's advantage), averaged over all tokens;
    grpo adds beta * the k3 KL per token (TRL's GRPOTrainer, whose loss types agree when every continuation
    has the same length, as here). logp (with grad), logp_old, ref_logp: (B, T_new); advantages: (B,)."""
    token_adv = advantages[:, None].expand_as(logp_old)  # (B, T_new)
    loss, stats = ppo_clip_loss(logp, logp_old, token_adv, config.clip_range)
    if config.method == "grpo" and config.kl_coef > 0:
        loss = loss + config.kl_coef * kl_k3(logp, ref_logp).mean()
    return loss, stats


@dataclass
class Batch:
    prompts: list  # (B,) prompt of each continuation
    texts: list  # (B,) decoded continuations
    rewards: torch.Tensor  # (B,)
    advantages: torch.Tensor  # (B,)
    kl: torch.Tensor  # (B,) sum over tokens of log pi - log ref at sampling time
    iteration: int = 0
    sequences: torch.Tensor | None = None  # (B, P + T_new) token ids, prompts left-padded
    attention_mask: torch.Tensor | None = None  # (B, P + T_new)


@dataclass
class RLHFTrainer:
    """The policy (LoRA on a private copy of `model`), its optimiser and the run's history."""

    model: object
    tokenizer: object
    config: RLHFConfig
    device: str = "cpu"
    history: list = field(default_factory=list)  # one dict of metrics per iteration
    batches: list = field(default_factory=list)  # the first and the latest Batch

    def __post_init__(self):
        self.reward_fn = make_reward(self.config)
        self.policy = add_lora(self.model, self.config.lora_rank).to(self.device)
        trainable = [p for p in self.policy.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=self.config.adapter_lr, weight_decay=0.0)
        self.iteration = 0
        self.done = False

    def _generate(self):
        config, tok = self.config, self.tokenizer
        prompts = [p for p in config.prompts for _ in range(config.samples_per_prompt)]
        enc = tok(prompts, return_tensors="pt", padding=True, padding_side="left").to(self.device)
        self.policy.eval()
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.sample_seed * 100_003 + self.iteration)
            sequences = self.policy.generate(
                **enc,
                do_sample=True,
                temperature=config.temperature,
                top_k=0,
                top_p=1.0,
                max_new_tokens=config.new_tokens,
                min_new_tokens=config.new_tokens,
                pad_token_id=tok.pad_token_id,
            )  # (B, P + T_new)
        prompt_len = enc["input_ids"].shape[1]
        mask = torch.cat([enc["attention_mask"], torch.ones_like(sequences[:, prompt_len:])], dim=1)  # (B, P + T_new)
        texts = tok.batch_decode(sequences[:, prompt_len:], skip_special_tokens=True)
        return prompts, sequences, mask, prompt_len, texts

    def _adapters_finite(self) -> bool:
        return all(torch.isfinite(p).all() for p in self.optimizer.param_groups[0]["params"])

    def _stop(self, what: str) -> ValueError:
        """Mark the run done and say why; the history and samples so far stay."""
        self.done = True
        return ValueError(
            f"{what} at iteration {self.iteration + 1}, so this run cannot go on. Lower the learning "
            "rate and press Reset (the curves and samples so far stay until then)."
        )

    def train_steps(self, n: int) -> dict:
        """n RLHF iterations; returns the last one's metrics, with the seconds of each phase."""
        for _ in range(n):
            metrics = self._iteration()
        return metrics

    def _iteration(self) -> dict:
        config = self.config
        t0 = time.perf_counter()
        if not self._adapters_finite():
            raise self._stop("The adapters' weights are NaN or infinite")
        try:
            prompts, sequences, mask, prompt_len, texts = self._generate()
        except RuntimeError as exc:  # sampling from NaN/inf probabilities (overflowing logits)
            if "probability tensor" not in str(exc):
                raise
            raise self._stop("The policy's probabilities became NaN or infinite") from exc
        t1 = time.perf_counter()
        rewards = self.reward_fn(texts).to(self.device)  # (B,)
        t2 = time.perf_counter()
        with torch.no_grad(), self.policy.disable_adapter():
            ref_logp, _ = completion_logprobs(
                self.policy, sequences, mask, prompt_len, config.temperature, with_entropy=False
            )
        # the first epoch's forward pass (with grad) also gives the sampling policy's log-probabilities:
        # the weights have not changed since generation, so no separate no-grad pass is needed
        self.policy.train()  # LoRA dropout is 0: train and eval modes compute the same thing
        logp, entropy = completion_logprobs(self.policy, sequences, mask, prompt_len, config.temperature)
        logp_old = logp.detach()  # (B, T_new)
        scores, advantages, kl_seq = rlhf_advantages(rewards, logp_old, ref_logp, config)
        for epoch in range(config.ppo_epochs):
            if epoch > 0:
                logp, entropy = completion_logprobs(self.policy, sequences, mask, prompt_len, config.temperature)
            loss, stats = rlhf_loss(logp, logp_old, ref_logp, advantages, config)
            if not torch.isfinite(loss):
                raise self._stop("The loss became NaN")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in self.policy.parameters() if p.requires_grad], 1.0)
            self.optimizer.step()
            if not self._adapters_finite():
                raise self._stop("The adapters' weights became NaN")
        t3 = time.perf_counter()
        batch = Batch(
            prompts, texts, rewards.cpu(), advantages.cpu(), kl_seq.cpu(), self.iteration, sequences.cpu(), mask.cpu()
        )
        self.batches = [self.batches[0] if self.batches else batch, batch]
        self.iteration += 1
        metrics = {
            "iteration": self.iteration,
            "reward": rewards.mean().item(),
            "score": scores.mean().item(),
            "loss": loss.item(),  # the last epoch's
            "kl": kl_seq.mean().item(),
            "kl_k3": kl_k3(logp_old, ref_logp).sum(1).mean().item(),
            "clip_fraction": stats["clip_fraction"],
            "approx_kl": stats["approx_kl"],
            "entropy": entropy.mean().item(),
            "zero_advantage": (advantages.abs() < 1e-6).float().mean().item(),
            "generate_s": t1 - t0,
            "score_s": t2 - t1,
            "update_s": t3 - t2,
        }
        self.history.append(metrics)
        return metrics
