"""Needle in a haystack under a KV budget (models/kv_cache/needle.py), on SmolLM2 and on short contexts.

- Our score ("found" = the teacher-forced argmax at every answer token) equals transformers' greedy generate()
  continuing the question, with the full cache.
- A window whose budget has moved past the needle cannot attend to it: the kept-token mask of the step that reads
  the question holds none of the needle's tokens, and the model does not say the number.
- SnapKV at prefill (its paper's way): the prompt is cut once to the budget, its question kept in the observation
  window, and the answer's log-probabilities equal transformers' own decoding over a DynamicCache that holds
  exactly the kept positions of every layer and KV head (prefilled by transformers, then cut).
"""

import pytest
import torch

from models.corpora import load_corpus_text
from models.kv_cache.cache import SlidingWindow
from models.kv_cache.needle import (
    NeedleConfig,
    NeedleSearch,
    build_haystack,
    filler_ids,
    make_decoder,
    needle_in_cache,
)


@pytest.fixture(scope="module")
def filler(smollm2):
    return filler_ids(smollm2[1], load_corpus_text("wiki"))


def test_haystack_places_the_needle_and_ends_with_the_answer(smollm2, filler):
    tokenizer = smollm2[1]
    hay = build_haystack(tokenizer, filler, 128, depth=50, trial=3)
    assert len(hay.ids) == 128 and hay.answer.stop == 128
    number = tokenizer.decode([hay.ids[p] for p in hay.needle]).strip()
    assert number == str(hay.number) == tokenizer.decode(hay.ids[hay.answer.start :]).strip()
    before = tokenizer.convert_ids_to_tokens(hay.ids[hay.needle.start - 5])
    assert 35 <= hay.needle.start <= 80 and before.endswith(".")  # a sentence start near the middle
    text = tokenizer.decode(hay.ids)
    assert f"The secret number is {hay.number}." in text
    assert text.endswith(f"What is the secret number? The secret number is {hay.number}")


def test_full_cache_finds_the_needle_as_greedy_generate_does(smollm2, filler):
    model, tokenizer = smollm2
    config = NeedleConfig(needle_lengths=(128,), needle_depths=(10,), policies=())
    search = NeedleSearch(model, tokenizer, filler, config)
    while not search.done:
        search.train_steps(8)
    (row,) = search.rows
    hay = build_haystack(tokenizer, filler, 128, 10, 0)
    prompt = torch.tensor([hay.ids[: hay.answer.start]])
    with torch.no_grad():
        greedy = model.generate(prompt, max_new_tokens=len(hay.answer), do_sample=False, pad_token_id=0)[
            0, prompt.shape[1] :
        ]
    assert greedy.tolist() == row["said"]  # our score is greedy decoding
    assert row["found"] and row["needle in cache"] == 1.0
    assert greedy.tolist() == hay.ids[hay.answer.start :]


def test_a_window_past_the_needle_cannot_attend_to_it(smollm2, filler):
    model, tokenizer = smollm2
    config = NeedleConfig(needle_lengths=(128,), budget=32, chunk=4, policies=("Window",))
    hay = build_haystack(tokenizer, filler, 128, 10, 0)
    decoder = make_decoder(model, tokenizer, hay, "Window", config)
    assert isinstance(decoder.policy, type(SlidingWindow()))
    held = None
    while not decoder.done:
        decoder.train_steps(1)
        if held is None and decoder.done_tokens >= hay.answer.start:
            held = needle_in_cache(decoder, hay.needle)
    result = decoder.result()
    asking = next(i for i, t in enumerate(result.kept_steps) if t >= hay.answer.start - 1)
    assert not result.kept[asking][..., list(hay.needle)].any()  # no layer or head holds the digits
    assert result.kept[asking].sum(-1).max() <= 32  # and the budget held
    assert held == 0.0
    said = decoder.predicted[[p - 1 for p in hay.answer]].tolist()
    assert said != hay.ids[hay.answer.start :]


def test_snapkv_at_prefill_decodes_as_transformers_does_from_the_cut_cache(smollm2, filler):
    from transformers import DynamicCache

    model, tokenizer = smollm2
    config = NeedleConfig(needle_lengths=(128,), budget=32, window=8, policies=("SnapKV",))
    hay = build_haystack(tokenizer, filler, 128, 10, 0)
    prompt = hay.answer.start
    decoder = make_decoder(model, tokenizer, hay, "SnapKV", config)
    decoder.train_steps(1)  # the prompt, read at once and cut once
    assert decoder.done_tokens == prompt
    kept = [layer.positions.clone() for layer in decoder.cache]
    assert all(k.shape[1] == 32 for k in kept)  # every layer and KV head: the budget
    question = torch.arange(prompt - 8, prompt)
    assert all(torch.isin(question, k).all() for k in kept)  # the question's last tokens (the window) stay
    held = needle_in_cache(decoder, hay.needle)
    while not decoder.done:
        decoder.train_steps(1)
    assert all((layer.positions[:, :32] == k).all() for layer, k in zip(decoder.cache, kept))  # never evicted again
    answer = torch.tensor(hay.ids[prompt:])
    with torch.no_grad():
        cache = DynamicCache()
        out = model(torch.tensor([hay.ids[:prompt]]), cache=cache, use_cache=True)
        logits = [out.logits[0, -1]]  # the first digit: the prefill pass itself, full attention
        for layer, positions in zip(cache.layers, kept):
            index = positions[None, :, :, None].expand(1, -1, -1, layer.keys.shape[-1])
            layer.keys, layer.values = layer.keys.gather(2, index), layer.values.gather(2, index)
        for p in range(prompt, len(hay.ids) - 1):  # the later digits read the cut cache
            out = model(torch.tensor([[hay.ids[p]]]), cache=cache, use_cache=True, position_ids=torch.tensor([[p]]))
            logits.append(out.logits[0, -1])
    reference = torch.nn.functional.cross_entropy(torch.stack(logits), answer, reduction="none")
    ours = decoder.losses[[p - 1 for p in hay.answer]]
    assert torch.allclose(ours, reference, atol=1e-3), (ours, reference)
    wanted = torch.tensor(list(hay.needle))
    share = torch.cat([torch.isin(k, wanted).sum(-1) == len(wanted) for k in kept]).float().mean()
    assert held == float(share)


def test_bad_grid_gets_a_clear_message():
    with pytest.raises(ValueError, match="64 to 2,048"):
        NeedleConfig(needle_lengths=(4096,))
    with pytest.raises(ValueError, match="percentages"):
        NeedleConfig(needle_depths=(150,))
    with pytest.raises(ValueError, match="at least one"):
        NeedleConfig(needle_depths=())
