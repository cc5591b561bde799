"""RLHF on a real causal LM: LoRA-adapted policy, frozen reference, a transparent reward, a KL penalty.

One iteration (`RLHFTrainer.train_steps(1)`):
1. generate: each prompt gets `group_size` sampled continuations of exactly `new_tokens` tokens;
2. score: a reward anyone can read: VADER's sentiment compound in [-1, 1] (Hutto & Gilbert 2014), or 1 when a
   keyword appears;
3. compare with the reference: per-token log-probabilities of the policy and of the reference (the same weights
   with the LoRA adapters switched off: the reference costs no memory);
4. update, by one of three recipes:
   - "ppo", actor-critic PPO (InstructGPT; models/rlhf/actor_critic.py): a value head on the policy, per-token
     rewards (-beta * KL on each token, the score on the last), GAE along the tokens, then `ppo_epochs` epochs of
     `minibatches` shuffled minibatches on the clipped surrogate - c1 * value loss + c2 * entropy;
   - "grpo", no critic (Shao et al. 2024): advantage = reward normalised within each prompt's group, loss =
     clipped surrogate + beta * k3 KL per token, `ppo_epochs` passes (TRL's GRPOTrainer);
   - "reinforce", REINFORCE with a batch baseline, no critic: score = reward - beta * sum_t (log pi - log ref),
     advantage = the scores whitened over the batch, one gradient step (TRL's RLOOTrainer, the batch as one
     group). With one step the PPO ratio would be exactly 1: there is nothing to clip.
With beta = 0 nothing holds the policy near the reference and it finds the reward's blind spots (reward hacking):
the reward climbs while the text degenerates into repeated reward words (`repetition` measures it).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch

from models.rlhf.actor_critic import (
    ValueHead,
    explained_variance,
    ppo_objective,
    token_advantages,
    token_rewards,
    whiten,
)
from models.rlhf.policy_gradient import grpo_advantages, kl_k3, ppo_clip_loss, reinforce_loss

REWARDS = ("sentiment", "keyword")
METHODS = ("ppo", "grpo", "reinforce")
METHOD_NAMES = {
    "ppo": "PPO (actor-critic)",
    "grpo": "GRPO (group baseline, no critic)",
    "reinforce": "REINFORCE (batch baseline, no critic)",
}
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
    prompts: tuple = DEFAULT_PROMPTS[:4]  # the prompts continued every iteration
    reward: str = "sentiment"  # one of REWARDS
    keyword: str = "great"  # the word the keyword reward looks for
    method: str = "ppo"  # one of METHODS: "ppo" (actor-critic), "grpo" or "reinforce" (no critic)
    kl_coef: float = 0.05  # beta: weight of the KL penalty to the reference (0 = none: reward hacking)
    clip_range: float = 0.2  # PPO's clipping range ε (ppo and grpo)
    adapter_lr: float = 1e-3  # AdamW learning rate of the LoRA adapters (and of the value head)
    lora_rank: int = 8  # rank of the LoRA adapters on the attention projections
    group_size: int = 2  # continuations per prompt (GRPO's group)
    new_tokens: int = 10  # tokens generated per continuation
    ppo_epochs: int = 2  # passes over each batch (ppo and grpo; reinforce takes one step)
    minibatches: int = 2  # shuffled minibatches per epoch (ppo)
    vf_coef: float = 0.1  # c1: weight of the value loss (TRL's default)
    ent_coef: float = 0.0  # c2: weight of the entropy bonus
    value_clip: float = 0.2  # the value loss's clipping range around the old values
    gamma: float = 1.0  # discount along the tokens (GAE)
    lam: float = 0.95  # GAE's lambda
    temperature: float = 1.0  # sampling temperature (the log-probabilities use the same one)
    sample_seed: int = 0  # sampling seed (and the minibatches' shuffling)

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
        if self.method == "grpo" and self.group_size < 2:
            raise ValueError("GRPO needs groups of at least 2 continuations per prompt.")
        if not 1 <= self.group_size <= 16 or not 1 <= self.new_tokens <= 64:
            raise ValueError("Use 1–16 continuations per prompt and 1–64 new tokens.")
        if not 1 <= self.lora_rank <= 64 or self.ppo_epochs < 1 or self.temperature <= 0:
            raise ValueError("Use a LoRA rank of 1–64, at least one epoch and a positive temperature.")
        if not 1 <= self.minibatches <= len(self.prompts) * self.group_size:
            raise ValueError(
                f"Use 1 to {len(self.prompts) * self.group_size} minibatches (one continuation each at most)."
            )
        if self.vf_coef < 0 or self.ent_coef < 0 or self.value_clip <= 0:
            raise ValueError("The value and entropy coefficients cannot be negative; the value clip must be > 0.")
        if not 0 <= self.gamma <= 1 or not 0 <= self.lam <= 1:
            raise ValueError("GAE's γ and λ must lie in [0, 1].")


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


def repetition(texts: list[str]) -> float:
    """Share of words that repeat an earlier word of the same continuation ("great great great": 2/3)."""
    repeats = words = 0
    for text in texts:
        tokens = [w.strip(".,!?;:\"'()").lower() for w in text.split()]
        tokens = [w for w in tokens if w]
        repeats += len(tokens) - len(set(tokens))
        words += len(tokens)
    return repeats / words if words else 0.0


def add_lora(model, rank: int):
    """A private LoRA-wrapped copy of `model` (q/v projections), its base frozen."""
    from peft import LoraConfig, get_peft_model

    policy = copy.deepcopy(model)
    for p in policy.parameters():
        p.requires_grad_(False)
    lora = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)
    return get_peft_model(policy, lora)


def completion_outputs(
    model, sequences, attention_mask, prompt_len: int, temperature: float, entropy_grad: bool = False, value_head=None
):
    """Per completion token: log-probability (B, T_new), the logits' entropy (B, T_new) and the value head's
    V(s_t) (B, T_new), or None without `value_head`. The entropy has a gradient only with `entropy_grad`.

    Only the positions that predict a completion token go through the LM head (and the value head): position
    t of the completion is predicted from the hidden state at prompt_len - 1 + t, the state s_t."""
    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = causal_lm.model(input_ids=sequences, attention_mask=attention_mask).last_hidden_state  # (B, P+T, H)
    positions = torch.arange(prompt_len - 1, sequences.shape[1] - 1, device=sequences.device)  # (T_new,)
    hidden = hidden[:, positions]  # (B, T_new, H), a contiguous copy
    logits = causal_lm.lm_head(hidden).float() / temperature  # (B, T_new, V): position t predicts token t + 1
    logp_all = logits.log_softmax(-1)
    tokens = sequences[:, prompt_len:]  # (B, T_new)
    logp = logp_all.gather(-1, tokens[..., None]).squeeze(-1)
    with torch.set_grad_enabled(entropy_grad and torch.is_grad_enabled()):
        entropy = -(logp_all.exp() * logp_all).sum(-1)
    values = value_head(hidden) if value_head is not None else None
    return logp, entropy, values


def completion_logprobs(
    model, sequences, attention_mask, prompt_len: int, temperature: float, with_entropy: bool = True
):
    """Log-probabilities (B, T_new) of the completion tokens, and the logits' entropy (B, T_new, no gradient),
    or None without `with_entropy`."""
    logp, entropy, _ = completion_outputs(model, sequences, attention_mask, prompt_len, temperature)
    return logp, entropy if with_entropy else None


def batch_advantages(rewards, logp_old, ref_logp, config: RLHFConfig):
    """One advantage per continuation for the critic-free recipes, from rewards (B,) and log-probs (B, T_new).

    reinforce: score = reward - beta * sum_t (log pi - log ref), the KL penalty in the reward (TRL's RLOOTrainer:
          k1 per token, summed per sequence); advantage = the scores whitened over the batch (the batch mean is
          the baseline). This equals RLOO's leave-one-out advantage with the batch as one group, normalised
          (TRL's normalize_advantages=True), up to the epsilon.
    grpo: score = reward; advantage = reward normalised within each prompt's group (the KL goes in the loss).
    Returns (scores (B,), advantages (B,), kl_seq (B,)).
    """
    kl_seq = (logp_old - ref_logp).sum(1)  # (B,) k1 estimate, summed over the tokens
    if config.method == "reinforce":
        scores = rewards - config.kl_coef * kl_seq
        return scores, whiten(scores), kl_seq
    return rewards, grpo_advantages(rewards, config.group_size), kl_seq


def grpo_loss(logp, logp_old, ref_logp, advantages, config: RLHFConfig):
    """GRPO's loss: PPO's clipped loss per token (each token gets its sequence's advantage), averaged over all
    tokens, plus beta * the k3 KL per token (TRL's GRPOTrainer, whose loss types agree when every continuation
    has the same length, as here). logp (with grad), logp_old, ref_logp: (B, T_new); advantages: (B,)."""
    token_adv = advantages[:, None].expand_as(logp_old)  # (B, T_new)
    loss, stats = ppo_clip_loss(logp, logp_old, token_adv, config.clip_range)
    if config.kl_coef > 0:
        loss = loss + config.kl_coef * kl_k3(logp, ref_logp).mean()
    return loss, stats


@dataclass
class Batch:
    prompts: list  # (B,) prompt of each continuation
    texts: list  # (B,) decoded continuations
    rewards: torch.Tensor  # (B,)
    advantages: torch.Tensor  # (B,) the sequence's advantage (ppo: the mean of its tokens' advantages)
    kl: torch.Tensor  # (B,) sum over tokens of log pi - log ref at sampling time
    iteration: int = 0
    sequences: torch.Tensor | None = None  # (B, P + T_new) token ids, prompts left-padded
    attention_mask: torch.Tensor | None = None  # (B, P + T_new)
    values: torch.Tensor | None = None  # (B, T_new) the critic's V(s_t) at sampling time (ppo)
    returns: torch.Tensor | None = None  # (B, T_new) GAE's returns, the critic's targets (ppo)


@dataclass
class RLHFTrainer:
    """The policy (LoRA on a private copy of `model`, and a value head for ppo), its optimiser and the history."""

    model: object
    tokenizer: object
    config: RLHFConfig
    device: str = "cpu"
    history: list = field(default_factory=list)  # one dict of metrics per iteration
    batches: list = field(default_factory=list)  # the first and the latest Batch

    def __post_init__(self):
        self.reward_fn = make_reward(self.config)
        self.policy = add_lora(self.model, self.config.lora_rank).to(self.device)
        self.value_head = None
        if self.config.method == "ppo":
            self.value_head = ValueHead(self.model.config.hidden_size).to(self.device)
        self.parameters = [p for p in self.policy.parameters() if p.requires_grad]
        self.parameters += list(self.value_head.parameters()) if self.value_head is not None else []
        self.optimizer = torch.optim.AdamW(self.parameters, lr=self.config.adapter_lr, weight_decay=0.0)
        self.iteration = 0
        self.done = False

    def _generate(self):
        config, tok = self.config, self.tokenizer
        prompts = [p for p in config.prompts for _ in range(config.group_size)]
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

    def _finite(self) -> bool:
        return all(torch.isfinite(p).all() for p in self.parameters)

    def _stop(self, what: str) -> ValueError:
        """Mark the run done and say why; the history and samples so far stay."""
        self.done = True
        return ValueError(
            f"{what} at iteration {self.iteration + 1}, so this run cannot go on. Lower the learning "
            "rate and press Reset (the curves and samples so far stay until then)."
        )

    def _step(self, loss: torch.Tensor) -> None:
        if not torch.isfinite(loss):
            raise self._stop("The loss became NaN")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.parameters, 1.0)
        self.optimizer.step()
        if not self._finite():
            raise self._stop("The adapters' weights became NaN")

    def train_steps(self, n: int) -> dict:
        """n RLHF iterations; returns the last one's metrics, with the seconds of each phase."""
        for _ in range(n):
            metrics = self._iteration()
        return metrics

    def _iteration(self) -> dict:
        config = self.config
        t0 = time.perf_counter()
        if not self._finite():
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
            ref_logp, _, _ = completion_outputs(self.policy, sequences, mask, prompt_len, config.temperature)
        self.policy.train()  # LoRA dropout is 0: train and eval modes compute the same thing
        inputs = (sequences, mask, prompt_len, rewards, ref_logp)
        update = self._update_ppo if config.method == "ppo" else self._update_critic_free
        batch_extra, metrics = update(*inputs)
        t3 = time.perf_counter()
        batch = Batch(
            prompts,
            texts,
            rewards.cpu(),
            iteration=self.iteration,
            sequences=sequences.cpu(),
            attention_mask=mask.cpu(),
            **batch_extra,
        )
        self.batches = [self.batches[0] if self.batches else batch, batch]
        self.iteration += 1
        metrics = {
            "iteration": self.iteration,
            "reward": rewards.mean().item(),
            **metrics,
            "kl": batch.kl.mean().item(),
            "repetition": repetition(texts),
            "zero_advantage": (batch.advantages.abs() < 1e-6).float().mean().item(),
            "generate_s": t1 - t0,
            "score_s": t2 - t1,
            "update_s": t3 - t2,
        }
        self.history.append(metrics)
        return metrics

    def _update_critic_free(self, sequences, mask, prompt_len, rewards, ref_logp):
        """grpo (ppo_epochs clipped passes) or reinforce (one step). The first forward pass (with grad) also gives
        the sampling policy's log-probabilities: the weights have not changed since generation."""
        config = self.config
        logp, entropy, _ = completion_outputs(self.policy, sequences, mask, prompt_len, config.temperature)
        logp_old = logp.detach()  # (B, T_new)
        scores, advantages, kl_seq = batch_advantages(rewards, logp_old, ref_logp, config)
        if config.method == "reinforce":
            loss = reinforce_loss(logp, advantages[:, None].expand_as(logp))
            self._step(loss)
            stats = {"clip_fraction": 0.0, "approx_kl": 0.0}
        else:
            clipped = []
            for epoch in range(config.ppo_epochs):
                if epoch > 0:
                    logp, entropy, _ = completion_outputs(self.policy, sequences, mask, prompt_len, config.temperature)
                loss, stats = grpo_loss(logp, logp_old, ref_logp, advantages, config)
                clipped.append(stats["clip_fraction"])
                self._step(loss)
            stats = {"clip_fraction": sum(clipped) / len(clipped), "approx_kl": stats["approx_kl"]}
        metrics = {
            "score": scores.mean().item(),
            "loss": loss.item(),  # the last step's
            "kl_k3": kl_k3(logp_old, ref_logp).sum(1).mean().item(),
            "entropy": entropy.mean().item(),
            **stats,
        }
        return {"advantages": advantages.cpu(), "kl": kl_seq.cpu()}, metrics

    def _update_ppo(self, sequences, mask, prompt_len, rewards, ref_logp):
        """Actor-critic PPO: the rollout's log-probabilities and values, GAE, then epochs of minibatches."""
        config = self.config
        with torch.no_grad():
            logp_old, _, values_old = completion_outputs(
                self.policy, sequences, mask, prompt_len, config.temperature, value_head=self.value_head
            )  # (B, T_new) each
        per_token = token_rewards(rewards, logp_old, ref_logp, config.kl_coef)  # (B, T_new)
        advantages, returns = token_advantages(per_token, values_old, config.gamma, config.lam)  # (B, T_new)
        generator = torch.Generator().manual_seed(config.sample_seed * 100_003 + self.iteration)
        n = sequences.shape[0]
        size = -(-n // config.minibatches)  # ceil: every continuation in one minibatch per epoch
        starts = range(0, n, size)
        per_epoch = len(starts)
        steps = []
        for _ in range(config.ppo_epochs):
            order = torch.randperm(n, generator=generator).to(sequences.device)
            for start in starts:
                idx = order[start : start + size]
                logp, entropy, values = completion_outputs(
                    self.policy,
                    sequences[idx],
                    mask[idx],
                    prompt_len,
                    config.temperature,
                    entropy_grad=config.ent_coef > 0,
                    value_head=self.value_head,
                )
                loss, stats = ppo_objective(
                    logp,
                    logp_old[idx],
                    advantages[idx],
                    entropy,
                    values,
                    values_old[idx],
                    returns[idx],
                    config.clip_range,
                    config.value_clip,
                    config.vf_coef,
                    config.ent_coef,
                )
                self._step(loss)
                steps.append(stats | {"loss": loss.item()})
        kl_seq = (logp_old - ref_logp).sum(1)  # (B,)

        def mean(key):
            return sum(s[key] for s in steps) / len(steps)

        metrics = {
            "score": (rewards - config.kl_coef * kl_seq).mean().item(),
            "loss": steps[-1]["loss"],
            "kl_k3": kl_k3(logp_old, ref_logp).sum(1).mean().item(),
            "entropy": mean("entropy"),
            "clip_fraction": mean("clip_fraction"),  # CleanRL's clipfracs: the mean over every minibatch step
            "last_epoch_clip_fraction": sum(s["clip_fraction"] for s in steps[-per_epoch:]) / per_epoch,
            "approx_kl": mean("approx_kl"),
            "value_loss": mean("value_loss"),
            "value_clip_fraction": mean("value_clip_fraction"),
            "explained_variance": explained_variance(values_old, returns),
            "value": values_old.mean().item(),
        }
        extra = {
            "advantages": advantages.mean(1).cpu(),
            "kl": kl_seq.cpu(),
            "values": values_old.cpu(),
            "returns": returns.cpu(),
        }
        return extra, metrics
