"""Policy-gradient benchmarks.

- The vectorised sandbox (every seed a slice of one tensor) against a plain per-seed loop (the same trainer with
  one seed, run once per seed): seeds per second, all five default runs (7 trained policies) on the bandit.
- One RLHF iteration on SmolLM2 at the page's default settings, split into its phases (generate, score, update),
  beside the same iteration run by TRL in the same process, the two alternating (TRL step, our iteration, ...,
  median after a warm-up): our "grpo" against TRL's GRPOTrainer, our "reinforce" (batch baseline) against TRL's
  RLOOTrainer (its KL-in-the-reward, critic-free trainer); our actor-critic "ppo" alone (TRL 1.16 has no
  PPOTrainer). Same weights, prompts,
  group size, tokens, temperature, LoRA (peft's LoraConfig as `peft_config`), beta, clip range, learning rate, one
  update per batch, the VADER reward; what still differs is listed in each row's note. TRL's steps are timed by a
  TrainerCallback (on_step_begin to on_step_end), its phases by timing its `_generate` and `_calculate_rewards`;
  update = the rest (reference and policy log-probabilities, loss, backward, optimizer step). Without trl
  (requirements-dev.txt) the rows are ours only and say so.
"""

from __future__ import annotations

import statistics
import time

import torch

from models.rlhf.pg_sandbox import SandboxConfig, SandboxTrainer


def _row(task, ours, reference, unit, note, higher_is_better=True):
    ratio = None
    if reference and ours:
        ratio = ours / reference if higher_is_better else reference / ours
    return dict(lesson="rlhf", task=task, ours=ours, reference=reference, unit=unit, ratio=ratio, note=note)


def _sandbox_rows(quick: bool, device: str) -> list[dict]:
    seeds, iterations, loop_seeds = (20, 20, 3) if quick else (100, 100, 10)
    SandboxTrainer(SandboxConfig(n_seeds=2), device).train_steps(2)  # warm-up
    start = time.perf_counter()
    trainer = SandboxTrainer(SandboxConfig(n_seeds=seeds), device)
    trainer.train_steps(iterations)
    if device == "cuda":
        torch.cuda.synchronize()
    vectorised = time.perf_counter() - start
    start = time.perf_counter()
    for seed in range(loop_seeds):
        SandboxTrainer(SandboxConfig(n_seeds=1, seed=seed), device).train_steps(iterations)
    if device == "cuda":
        torch.cuda.synchronize()
    loop = time.perf_counter() - start
    stuck = {n: trainer.stuck_fraction(n) for n in ("ppo ε=0.2", "ppo_noclip")}
    note = (
        f"bandit, 7 policies (REINFORCE ±baseline, PPO ε=0.1/0.2/0.3, no clip, GRPO), {iterations} iterations; "
        f"{seeds} seeds in {vectorised:.2f} s; loop measured on {loop_seeds} seeds; stuck at lr 0.2: "
        f"ε=0.2 {stuck['ppo ε=0.2']:.0%}, no clip {stuck['ppo_noclip']:.0%}"
    )
    return [_row("sandbox, seeds per second", seeds / vectorised, loop_seeds / loop, "seeds/s", note)]


PHASES = ("generate_s", "score_s", "update_s")
# the nearest TRL trainer to each of our methods
TRL_TRAINERS = {"reinforce": "RLOOTrainer", "grpo": "GRPOTrainer"}  # TRL 1.16 has no PPOTrainer: ppo is ours only


def _now(device: str) -> tuple[float, float]:
    """(wall, process CPU) seconds, after waiting for the GPU."""
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter(), time.process_time()


def _time_ours(trainer, device: str) -> dict:
    """One of our RLHF iterations: wall and CPU seconds, and its phases as the trainer reports them."""
    wall, cpu = _now(device)
    metrics = trainer.train_steps(1)
    wall_end, cpu_end = _now(device)
    return {"total_s": wall_end - wall, "cpu_s": cpu_end - cpu, **{k: metrics[k] for k in PHASES}}


def _trl_setup(method: str, config, device: str, output_dir: str):
    """TRL's trainer for `method` on the same setup as ours: (config class, trainer class, config kwargs).

    One optimizer step = one of our iterations: all len(prompts) x group_size completions generated at
    once (num_generations = group_size, per-device batch = the whole generation batch, no gradient
    accumulation, num_iterations = 1), fp32 without gradient checkpointing (TRL's defaults are bf16 and
    checkpointing on), AdamW at a constant learning rate with clipping at 1.0, every completion exactly
    new_tokens long (min_new_tokens), no logging, saving or reporting."""
    import trl

    config_class = trl.RLOOConfig if method == "reinforce" else trl.GRPOConfig
    trainer_class = getattr(trl, TRL_TRAINERS[method])
    kwargs = dict(
        output_dir=output_dir,
        use_cpu=device == "cpu",
        bf16=False,
        gradient_checkpointing=False,
        per_device_train_batch_size=len(config.prompts) * config.group_size,
        gradient_accumulation_steps=1,
        num_generations=config.group_size,
        max_completion_length=config.new_tokens,
        generation_kwargs={"min_new_tokens": config.new_tokens},
        temperature=config.temperature,
        top_k=0,
        top_p=1.0,
        beta=config.kl_coef,
        epsilon=config.clip_range,
        num_iterations=config.ppo_epochs if method == "grpo" else 1,
        learning_rate=config.adapter_lr,
        lr_scheduler_type="constant",
        weight_decay=0.0,
        max_grad_norm=1.0,
        report_to=[],
        logging_strategy="no",
        save_strategy="no",
        disable_tqdm=True,
        seed=config.sample_seed,
        dataloader_num_workers=0,
    )
    if method == "reinforce":
        kwargs["normalize_advantages"] = True  # ours whitens the scores over the batch
    return config_class, trainer_class, kwargs


def _side_by_side(method: str, model, tokenizer, config, device: str, rounds: int):
    """Our iteration and TRL's optimizer step in turn (TRL, ours, TRL, ours, ...), the first of each a
    warm-up and dropped. Returns (ours, trl): lists of dicts of seconds (total_s, cpu_s and the phases)."""
    import copy
    import tempfile

    from datasets import Dataset
    from peft import LoraConfig
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback

    from models.rlhf.language_model import RLHFTrainer, make_reward

    ours_trainer = RLHFTrainer(model, tokenizer, config, device)
    score = make_reward(config)

    def vader(prompts, completions, **kwargs):  # TRL's reward-function signature; named for its metrics
        return score(completions).tolist()

    phases = dict.fromkeys(PHASES[:2], 0.0)  # TRL's generate and score seconds within the current step

    def timed(fn, key):
        def wrapper(*args, **kwargs):
            start = _now(device)[0]
            out = fn(*args, **kwargs)
            phases[key] += _now(device)[0] - start
            return out

        return wrapper

    ours, theirs = [], []

    class Alternate(TrainerCallback):
        """Times each TRL optimizer step (generation to optimizer.step), then runs one of our iterations."""

        def on_step_begin(self, args, state, control, **kwargs):
            phases.update(dict.fromkeys(phases, 0.0))
            self.start = _now(device)

        def on_step_end(self, args, state, control, **kwargs):
            wall, cpu = _now(device)
            total = wall - self.start[0]
            theirs.append(
                {"total_s": total, "cpu_s": cpu - self.start[1], **phases, "update_s": total - sum(phases.values())}
            )
            ours.append(_time_ours(ours_trainer, device))

    lora = LoraConfig(
        r=config.lora_rank,
        lora_alpha=2 * config.lora_rank,
        target_modules=["q_proj", "v_proj"],
        lora_dropout=0.0,
        task_type="CAUSAL_LM",
    )
    with tempfile.TemporaryDirectory() as output_dir:
        config_class, trainer_class, kwargs = _trl_setup(method, config, device, output_dir)
        trainer = trainer_class(
            model=copy.deepcopy(model),
            reward_funcs=vader,
            args=config_class(**kwargs, max_steps=rounds + 1),
            train_dataset=Dataset.from_dict({"prompt": list(config.prompts)}),
            processing_class=tokenizer,
            peft_config=lora,
            callbacks=[Alternate()],
        )
        trainer.remove_callback(PrinterCallback)  # it prints the run's summary into the table
        trainer._generate = timed(trainer._generate, "generate_s")  # sampling and decoding
        trainer._calculate_rewards = timed(trainer._calculate_rewards, "score_s")
        trainer.train()
    return ours[1:], theirs[1:]


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


DIFFERENCES = {
    "grpo": "TRL scores log-probabilities with its chunked fused LM head over every position (on CPU), ours "
    "takes log_softmax of the completion positions' logits; TRL's loss normalises by the batch's tokens "
    "(loss_type dapo; the same as our token mean since every completion has new_tokens tokens) and logs more "
    "statistics; TRL shuffles the prompts (RepeatSampler), uses Trainer's default AdamW (adamw_torch_fused) and "
    "its own sampling seed, so the texts differ",
    "reinforce": "RLOO, the nearest TRL has (no PPOTrainer in TRL 1.16, not even in trl.experimental): TRL runs a "
    "third forward (no grad) for the sampling policy's log-probabilities, ours reuses the first epoch's "
    "forward with grad (the weights have not moved since sampling); advantages: TRL's leave-one-out within "
    "each prompt's group, then normalised over the batch, ours the KL-penalised scores whitened over the "
    "batch; TRL's ratio is per sequence, ours per token; both put beta x the summed k1 KL in the reward; TRL "
    "scores with its fused LM head over every position, shuffles the prompts, uses adamw_torch_fused and its "
    "own sampling seed",
}


def _rlhf_rows(quick: bool, device: str) -> list[dict]:
    from models.registry import load_model
    from models.rlhf.language_model import RLHFConfig, RLHFTrainer

    model, tokenizer = load_model("smollm2", device=device)
    rounds = 1 if quick else 5
    rows = []
    for method in ("ppo", "reinforce", "grpo"):
        kwargs = dict(prompts=("The movie was", "My day"), new_tokens=4) if quick else {}
        config = RLHFConfig(method=method, **kwargs)
        shape = (
            f"{method}: {len(config.prompts)} prompts x {config.group_size} samples x "
            f"{config.new_tokens} tokens, LoRA r={config.lora_rank} on q/v, beta={config.kl_coef}, "
            f"{config.ppo_epochs} epoch(s) x {config.minibatches} minibatch(es) (ppo), VADER reward"
        )
        trl_name = TRL_TRAINERS.get(method)
        try:
            import trl  # noqa: F401

            if trl_name is None:
                raise ImportError(f"TRL {trl.__version__} has no actor-critic PPOTrainer")

            ours, theirs = _side_by_side(method, model, tokenizer, config, device, rounds)
            versus = f"vs TRL {trl.__version__} {trl_name}"
            note = (
                f"{shape}; TRL settings as ours (same weights, prompts, group size, tokens, temperature, "
                f"LoRA, beta, clip, lr); median of {rounds} alternating round(s) after a warm-up; "
                f"{torch.get_num_threads()} torch thread(s); differs: {DIFFERENCES[method]}"
            )
        except ImportError as exc:  # TRL is a dev dependency: time ours alone and say why
            trainer = RLHFTrainer(model, tokenizer, config, device)
            ours = [_time_ours(trainer, device) for _ in range(rounds + 1)][1:]
            theirs = None
            versus = "no TRL row: " + ("trl is not installed" if trl_name else "TRL 1.16 has no PPOTrainer")
            note = (
                f"{shape}; median of {rounds} iteration(s) after a warm-up; {versus} ({exc}); "
                "pip install -r requirements-dev.txt for the side-by-side rows"
            )
        keys = [("total_s", "total, wall")] + [(k, k[:-2]) for k in PHASES]
        if device == "cpu":
            keys.insert(1, ("cpu_s", "total, CPU time"))
        for key, what in keys:
            task = f"RLHF iteration on SmolLM2, {method}: {what}"
            rows.append(
                _row(
                    f"{task} ({versus})" if key == "total_s" else task,
                    _median(ours, key),
                    _median(theirs, key) if theirs else None,
                    "s",
                    note if key == "total_s" else shape,
                    higher_is_better=False,
                )
            )
    return rows


def run(quick: bool = False, device: str = "cpu") -> list[dict]:
    return _sandbox_rows(quick, device) + _rlhf_rows(quick, device)
