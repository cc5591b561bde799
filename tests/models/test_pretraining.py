"""Pre-training objectives against their references on the same inputs: BERT's masking against transformers'
DataCollatorForLanguageModeling (draw for draw, and its statistics), `sft_loss` against TRL's collator labels fed to
transformers' ForCausalLMLoss, ELECTRA's discriminator loss against BCE written out, the chat tokens against the
tokenizer's own apply_chat_template."""

import math

import pytest
import torch
from torch.nn import functional as F

from models.pretraining.chat import chat_tokens, template_against_plain
from models.pretraining.instructions import (
    InstructionComparison,
    InstructionConfig,
    check_chat,
    per_token_loss,
    sft_loss,
)
from models.pretraining.masking import IGNORE, KEPT, MASKED, NOT_CHOSEN, RANDOM, mask_tokens, mask_with_fates
from models.pretraining.objectives import (
    ObjectiveComparison,
    ObjectiveConfig,
    ObjectiveTrainer,
    counted_fill_in,
    electra_discriminator_loss,
    split_text,
)

TEXT = ("the cat sat on the mat. the dog sat on the log. a bird sang in the tree by the house. " * 40).strip()
SMALL = dict(d_model=16, n_heads=2, n_layers=1, block_size=16, batch_size=8, generator_width=8)


@pytest.fixture(scope="module")
def bert_tokenizer(minilm):
    return minilm[1]


def collator(tokenizer, seed, **kwargs):
    from transformers import DataCollatorForLanguageModeling

    return DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=seed, **kwargs)


def bert_batch(tokenizer):
    sentences = ["The river bank was flooded after the storm.", "She deposited the cheque at the bank today."] * 8
    return tokenizer(sentences, padding=True, return_tensors="pt", return_special_tokens_mask=True)


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("replace", [(0.8, 0.1), (1.0, 0.0), (0.5, 0.25)])
def test_mask_tokens_equals_transformers_collator_draw_for_draw(bert_tokenizer, seed, replace):
    batch = bert_batch(bert_tokenizer)
    ids, special = batch["input_ids"], batch["special_tokens_mask"]
    theirs = collator(bert_tokenizer, seed, mask_replace_prob=replace[0], random_replace_prob=replace[1])
    theirs.create_rng("pt")  # what its __call__ does first with a seed: torch.Generator().manual_seed(seed)
    their_inputs, their_labels = theirs.torch_mask_tokens(ids.clone(), special_tokens_mask=special.clone())
    our_inputs, our_labels = mask_tokens(
        ids,
        bert_tokenizer.mask_token_id,
        len(bert_tokenizer),
        0.15,
        torch.Generator().manual_seed(seed),
        special_mask=special,
        mask_replace_prob=replace[0],
        random_replace_prob=replace[1],
    )
    assert torch.equal(our_inputs, their_inputs) and torch.equal(our_labels, their_labels)
    assert (our_labels != IGNORE).any(), "the draw chose something: the comparison is not vacuous"


def test_the_statistics_match_the_rule_and_transformers_within_sampling_error(bert_tokenizer):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 30000, (200, 500), generator=g)  # 100,000 tokens, no special ones
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = special[:, -1] = True  # [CLS] and [SEP] positions
    _, labels, fates = mask_with_fates(ids, 103, len(bert_tokenizer), 0.15, g, special_mask=special)
    theirs = collator(bert_tokenizer, 99)
    theirs.create_rng("pt")
    their_inputs, their_labels = theirs.torch_mask_tokens(ids.clone(), special_tokens_mask=special.clone())
    n = (~special).sum().item()
    for chosen_share in ((labels != IGNORE).sum() / n, (their_labels != IGNORE).sum() / n):
        assert abs(chosen_share - 0.15) < 4 * math.sqrt(0.15 * 0.85 / n)
    assert not (labels[special] != IGNORE).any() and not (their_labels[special] != IGNORE).any()
    assert torch.equal(labels == IGNORE, fates == NOT_CHOSEN)  # labels -100 exactly on the tokens not chosen
    chosen = (fates != NOT_CHOSEN).sum().item()
    their_chosen = their_labels != IGNORE
    their_masked = (their_inputs == 103) & their_chosen
    their_same = (their_inputs == ids) & their_chosen
    for share, theirs_share, rule in (
        ((fates == MASKED).sum() / chosen, their_masked.sum() / their_chosen.sum(), 0.8),
        ((fates == KEPT).sum() / chosen, their_same.sum() / their_chosen.sum(), 0.1),  # theirs: + rare random hits
        ((fates == RANDOM).sum() / chosen, 1 - (their_masked | their_same).sum() / their_chosen.sum(), 0.1),
    ):
        tolerance = 4 * math.sqrt(rule * (1 - rule) / chosen)
        assert abs(share - rule) < tolerance and abs(theirs_share - rule) < tolerance + 0.001


def test_bad_mask_rates_say_what_to_do():
    ids = torch.arange(10)[None]
    for p in (0.0, 1.0):
        with pytest.raises(ValueError, match="between 0 and 1"):
            mask_tokens(ids, 0, 10, p)
        with pytest.raises(ValueError, match="between 0 and 1"):
            ObjectiveConfig(mask_rate=p)


def sft_batch(vocab=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths, prompts = [9, 6, 7], [4, 2, 5]
    examples = [{"input_ids": torch.randint(1, vocab, (n,), generator=g).tolist()} for n in lengths]
    for ex, p in zip(examples, prompts):
        ex["labels"] = [IGNORE] * p + ex["input_ids"][p:]  # what SFTTrainer prepares for completion_only_loss
    logits = torch.randn(3, max(lengths), vocab, generator=g)
    return examples, logits, prompts, lengths


def test_sft_loss_equals_trl_completion_only_labels_through_transformers_loss():
    from transformers.loss.loss_utils import ForCausalLMLoss
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    examples, logits, prompts, lengths = sft_batch()
    batch = DataCollatorForLanguageModeling(pad_token_id=0)(examples)
    reference = ForCausalLMLoss(logits, batch["labels"], vocab_size=logits.shape[-1])
    ours = sft_loss(logits, batch["input_ids"], prompts, lengths)
    assert torch.allclose(ours, reference, atol=1e-6)
    # and plain cross_entropy with ignore_index on the shifted labels
    shifted = F.cross_entropy(logits[:, :-1].flatten(0, 1), batch["labels"][:, 1:].flatten(), ignore_index=-100)
    assert torch.allclose(ours, shifted, atol=1e-6)
    unmasked = sft_loss(logits, batch["input_ids"], prompts, lengths, mask_prompt=False)
    assert not torch.allclose(unmasked, ours), "masking the prompt changes the loss"


def test_per_token_loss_averages_to_the_unmasked_loss():
    examples, logits, _, _ = sft_batch()
    ids = torch.tensor(examples[0]["input_ids"])[None]
    logits = logits[:1, : ids.shape[1]]
    per_token = per_token_loss(logits, ids)
    assert math.isnan(per_token[0, 0]) and torch.allclose(per_token[0, 1:].mean(), sft_loss(logits, ids, [0]))


def test_electra_discriminator_loss_is_bce_over_every_token():
    g = torch.Generator().manual_seed(3)
    original = torch.randint(0, 20, (4, 12), generator=g)
    corrupted = original.clone()
    corrupted[:, ::3] = torch.randint(0, 20, (4, 4), generator=g)  # some samples equal the original: not replaced
    logits = torch.randn(4, 12, generator=g)
    loss, replaced = electra_discriminator_loss(logits, corrupted, original)
    y, prob = (corrupted != original).float(), torch.sigmoid(logits)
    by_hand = -(y * torch.log(prob) + (1 - y) * torch.log(1 - prob)).mean()
    assert torch.allclose(loss, by_hand, atol=1e-6) and torch.equal(replaced, y)


def test_each_objective_trains_with_its_share_of_tokens_with_signal():
    comparison = ObjectiveComparison(TEXT, ObjectiveConfig(**SMALL), seed=0)
    first = comparison.train_steps(1)
    metrics = comparison.train_steps(20)
    assert metrics["clm.tokens_with_signal"] == 1.0 and metrics["electra.tokens_with_signal"] == 1.0
    assert 0.03 < metrics["mlm.tokens_with_signal"] < 0.35
    total = {name: t.signal_seen / t.tokens_seen for name, t in comparison.trainers.items()}
    assert abs(total["mlm"] - 0.15) < 0.05, total
    for name in ("clm", "mlm"):
        assert metrics[f"{name}.loss"] < first[f"{name}.loss"], name
    assert 0 <= metrics["electra.discriminator_loss"] and 0 < metrics["electra.replaced_share"] <= 0.2


def test_fill_in_reads_only_the_context_its_objective_allows():
    """Changing the characters right of a blank changes the masked model's guess there, never the causal one's."""
    config = ObjectiveConfig(**SMALL)
    trainers = {
        name: ObjectiveTrainer(TEXT, ObjectiveConfig(**{**SMALL, "objective": name})) for name in ("clm", "mlm")
    }
    for t in trainers.values():
        t.train_steps(5)
    windows = trainers["clm"].heldout_windows()
    blanks = torch.zeros_like(windows, dtype=torch.bool)
    blanks[:, 5] = True
    changed = windows.clone()
    changed[:, 6:] = torch.randint(0, trainers["clm"].vocab.size - 1, changed[:, 6:].shape)
    clm, mlm = trainers["clm"], trainers["mlm"]
    assert torch.equal(clm.fill_in(windows, blanks)[:, 5], clm.fill_in(changed, blanks)[:, 5])
    assert not torch.equal(mlm.model(windows)[0][:, 5], mlm.model(changed)[0][:, 5])
    assert 0 <= clm.fill_in_accuracy() <= 1 and config.block_size == 16


def test_counted_fill_in_both_sides_beats_the_left_on_a_text_where_the_right_decides():
    """After 'x' comes 'a' or 'b', told only by the digit on the right; every other character by its left."""
    train, heldout = "xa1 xb2 " * 200, "xa1 xb2 " * 30
    left, _ = counted_fill_in(train, heldout, 1, 0, blanks=400)
    both, _ = counted_fill_in(train, heldout, 1, 1, blanks=400)
    assert both == 1.0 and 0.85 < left < 0.99  # left only: the letter after 'x' is a coin toss (1 in 8 blanks)


def test_short_or_one_character_text_is_refused():
    with pytest.raises(ValueError, match="at least"):
        split_text("hello")
    with pytest.raises(ValueError, match="single character"):
        split_text("a" * 1000)


def test_instruction_runs_train_and_bad_mixtures_say_what_to_do():
    config = InstructionConfig(d_model=16, n_layers=1, batch_size=8)
    runs = InstructionComparison(config, seed=0)
    metrics = runs.train_steps(2)
    assert set(metrics) >= {"one phrasing.loss", "several phrasings.loss", "several, prompt not masked.loss"}
    rows = runs.trainers["one phrasing"].accuracy_grid(per_cell=2)
    assert {r["kind"] for r in rows} == {"seen", "unseen", "held-out task"}
    with pytest.raises(ValueError, match="task mixture is empty"):
        InstructionConfig(tasks=())
    with pytest.raises(ValueError, match="also in the mixture"):
        InstructionConfig(tasks=("copy", "count"), heldout_task="count")


def test_chat_tokens_equal_the_tokenizers_own_template(tiny_lm):
    model, tokenizer = tiny_lm
    turns = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}]
    ids = [t["id"] for t in chat_tokens(tokenizer, turns)]
    expected = tokenizer.apply_chat_template(turns, tokenize=True, add_generation_prompt=True)
    expected = expected["input_ids"] if hasattr(expected, "keys") else expected
    assert ids == list(expected)
    text = tokenizer.decode(ids)
    assert "<|im_start|>user\nName a colour.<|im_end|>" in text and text.endswith("<|im_start|>assistant\n")
    result = template_against_plain(model, tokenizer, "Name a colour.", top=3, max_new_tokens=2)
    assert set(result) == {"chat template", "plain text"} and len(result["plain text"]["top"]) == 3
    with pytest.raises(ValueError, match="no user turn"):
        check_chat([{"role": "system", "content": "hi"}])
