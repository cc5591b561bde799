"""Translation benchmarks: IBM Model 1's EM against NLTK's IBMModel1 on the same bitext, and our beam search against
transformers' generate(num_beams=4) on a tiny random Llama (same sequences, checked).

- EM: iterations per second on the toy corpus (and its sentences without repeated words, where the two agree);
  ours is three np.bincount calls per iteration over every link (j, i), NLTK's a Python loop over them;
- beam search: ours runs the model on every prefix without a KV cache (written to be read), transformers reuses its
  cache: the ratio says what the clarity costs.
"""

from __future__ import annotations

import torch

from benchmarks.timing import median_seconds, row
from models.translation.beam import beam_search_ids, causal_lm_step
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
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=2048,
    )
    model = LlamaForCausalLM(config).eval().to(device)
    prompt = torch.randint(3, 2048, (1, 12), generator=torch.Generator().manual_seed(0)).to(device)
    new_tokens = 20

    def ours():
        return beam_search_ids(causal_lm_step(model, prompt), 4, new_tokens, eos_token_id=2)

    def theirs():
        return model.generate(prompt, num_beams=4, do_sample=False, max_new_tokens=new_tokens, pad_token_id=2)

    same = ours().sequences[0] == theirs()[0, prompt.shape[1] :].tolist()[: len(ours().sequences[0])]
    t_ours, t_theirs = median_seconds(ours, repeats=repeats), median_seconds(theirs, repeats=repeats)
    note = f"tiny Llama (hidden 64), 4 beams, {new_tokens} new tokens, same best sequence: {same}"
    return [_row("beam search, 4 beams", 1 / t_ours, 1 / t_theirs, "searches/s", note)]


def run(quick: bool = True, device: str = "cpu") -> list[dict]:
    repeats = 3 if quick else 10
    rows = em_rows(300 if quick else 2000, 5 if quick else 10, repeats)
    return rows + beam_rows(device, repeats)


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
