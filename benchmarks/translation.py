"""Translation benchmarks: IBM Model 1's EM against NLTK's IBMModel1 on the same bitext, and our beam search against
transformers' generate(num_beams=4) on a tiny random Llama and on SmolLM2-135M's architecture with random weights
(same best sequence, checked).

- EM: iterations per second on the toy corpus (and its sentences without repeated words, where the two agree);
  ours is three np.bincount calls per iteration over every link (j, i), NLTK's a Python loop over them;
- beam search: ours runs the prompt once, then one token per beam per step against a KV cache whose rows follow the
  kept beams (`CachedLMStep`), as generate does; the textbook step (the whole prefix every step) is timed beside it.
"""

from __future__ import annotations

import statistics

import torch

from benchmarks.timing import median_seconds, once, row
from models.translation.beam import CachedLMStep, beam_search_ids, causal_lm_step
from models.translation.corpora import parallel_corpus
from models.translation.ibm_model1 import IBMModel1


def _row(task, ours, reference, unit, note):
    return row("translation", task, ours, reference, unit, note)


def em_rows(n_pairs: int, iterations: int, repeats: int) -> list[dict]:
    from nltk.translate import AlignedSent
    from nltk.translate import IBMModel1 as NltkIBMModel1

    pairs, _ = parallel_corpus("toy", n_pairs=n_pairs, seed=0)
    bitext = [AlignedSent(f, e) for f, e in pairs]
    nltk_model = NltkIBMModel1(bitext, 0)  # its tables, no iteration yet
    setup = median_seconds(lambda: IBMModel1(pairs), repeats=repeats)
    model = IBMModel1(pairs)
    ours = median_seconds(model.em_step, repeats=repeats * iterations)
    theirs = median_seconds(lambda: nltk_model.train(bitext), repeats=max(1, repeats // 2))  # one EM iteration
    note = f"{n_pairs} toy pairs; ours indexes every link once first ({setup:.2f} s)"
    return [_row("IBM Model 1, one EM iteration", 1 / ours, 1 / theirs, "iterations/s", note)]


def beam_rows(device: str, repeats: int) -> list[dict]:
    """Ours (KV cache) against generate(num_beams=4), side by side, interleaved; the uncached step beside them."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from models.registry import random_smollm2

    torch.manual_seed(0)
    tiny = LlamaForCausalLM(
        LlamaConfig(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            vocab_size=2048,
        )
    )
    models = [("tiny Llama (hidden 64, 2 layers)", tiny.eval().to(device), 2048)]
    models.append(("SmolLM2-135M's architecture, random weights", random_smollm2(device), 49152))
    rows, new_tokens = [], 20
    for name, model, vocab in models:
        prompt = torch.randint(3, vocab, (1, 12), generator=torch.Generator().manual_seed(0)).to(device)

        def ours(model=model, prompt=prompt):
            return beam_search_ids(CachedLMStep(model, prompt), 4, new_tokens, eos_token_id=2)

        def uncached(model=model, prompt=prompt):
            return beam_search_ids(causal_lm_step(model, prompt), 4, new_tokens, eos_token_id=2)

        def theirs(model=model, prompt=prompt):
            return model.generate(
                prompt, num_beams=4, do_sample=False, max_new_tokens=new_tokens, pad_token_id=2, eos_token_id=2
            )

        best, reference = ours().sequences[0], theirs()[0, prompt.shape[1] :].tolist()
        same = best == reference[: len(best)]
        uncached()
        times = {"ours": [], "uncached": [], "theirs": []}
        for _ in range(repeats):  # interleaved: a load spike hits all three alike
            for label, fn in (("ours", ours), ("uncached", uncached), ("theirs", theirs)):
                times[label].append(once(fn, device))
        t_ours, t_uncached, t_theirs = (statistics.median(times[k]) for k in ("ours", "uncached", "theirs"))
        note = f"{name}, 4 beams, 12-token prompt, {new_tokens} new tokens, same best sequence: {same}"
        rows.append(
            _row("beam search with a KV cache vs generate(num_beams=4)", 1 / t_ours, 1 / t_theirs, "searches/s", note)
        )
        rows.append(
            _row(
                "beam search without a cache (the textbook step) vs generate",
                1 / t_uncached,
                1 / t_theirs,
                "searches/s",
                note,
            )
        )
    return rows


def run(quick: bool = True, device: str = "cpu") -> list[dict]:
    repeats = 3 if quick else 10
    rows = em_rows(300 if quick else 2000, 5 if quick else 10, repeats)
    return rows + beam_rows(device, repeats)


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
