"""models/rnn against torch on the same inputs and weights: the cells (values and gradients), whole sequences
(nn.RNN/LSTM/GRU, bidirectional too), the fused fast path, the masked loss, ‖∂L_last/∂h_t‖, clipping, truncated BPTT."""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from models.rnn import (
    CellComparison,
    GRUCell,
    LSTMCell,
    RNNCell,
    RNNConfig,
    RNNTrainer,
    bidirectional_layer,
    fused_layer,
    make_cell,
    masked_cross_entropy,
    run_layer,
    teacher_probability,
)
from models.rnn.experiments import RecallTask, gradient_profile, truncated_profile

TEXT = "the cat sat on the mat. the dog sat on the log. a bird sang in the tree. " * 30
OURS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
THEIRS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def state_for(kind, batch, hidden, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, hidden, generator=g)
    return (h, torch.randn(batch, hidden, generator=g)) if kind == "lstm" else h


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cell_equals_torch_cell_values_and_gradients(kind):
    torch.manual_seed(0)
    theirs = THEIRS[kind](16, 32)
    ours = OURS[kind](input_size=16, hidden_size=32)
    ours.load_state_dict(theirs.state_dict())  # same names, same shapes
    x = torch.randn(5, 16, requires_grad=True)
    state = state_for(kind, 5, 32)
    a, b = ours(x, state), theirs(x, state)
    a, b = (a if kind == "lstm" else (a,)), (b if kind == "lstm" else (b,))
    for mine, ref in zip(a, b):
        assert torch.allclose(mine, ref, atol=1e-6)
    weights = [torch.randn_like(t) for t in a]  # a random linear function of every output
    grads_ours = torch.autograd.grad(sum((w * t).sum() for w, t in zip(weights, a)), [x, *ours.parameters()])
    grads_theirs = torch.autograd.grad(sum((w * t).sum() for w, t in zip(weights, b)), [x, *theirs.parameters()])
    for mine, ref in zip(grads_ours, grads_theirs):
        assert torch.allclose(mine, ref, atol=1e-6)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_whole_sequence_equals_torch_layer_and_fused_path(kind):
    torch.manual_seed(1)
    layer = LAYERS[kind](8, 12, batch_first=True)
    cell = make_cell(kind, 8, 12)
    cell.load_state_dict({name.removesuffix("_l0"): p for name, p in layer.state_dict().items()})
    x = torch.randn(3, 7, 8)
    state = state_for(kind, 3, 12, seed=2)
    ref_state = tuple(s[None] for s in state) if kind == "lstm" else state[None]
    ref_out, ref_final = layer(x, ref_state)
    for out, final in (run_layer(cell, x, state)[:2], fused_layer(cell, x, state)):
        assert torch.allclose(out, ref_out, atol=1e-6)
        finals = final if kind == "lstm" else (final,)
        refs = ref_final if kind == "lstm" else (ref_final,)
        for mine, ref in zip(finals, refs):
            assert torch.allclose(mine, ref[0], atol=1e-6)
    # gradients of the loop equal torch's layer's
    loss_ours = (run_layer(cell, x, state)[0] ** 2).sum()
    loss_theirs = (layer(x, ref_state)[0] ** 2).sum()
    for mine, ref in zip(
        torch.autograd.grad(loss_ours, list(cell.parameters())),
        torch.autograd.grad(loss_theirs, list(layer.parameters())),
    ):
        assert torch.allclose(mine, ref, atol=1e-5)


def test_bidirectional_equals_torch_bidirectional_lstm():
    torch.manual_seed(2)
    layer = nn.LSTM(6, 10, batch_first=True, bidirectional=True)
    sd = layer.state_dict()
    forward, backward = LSTMCell(6, 10), LSTMCell(6, 10)
    forward.load_state_dict({k.removesuffix("_l0"): v for k, v in sd.items() if k.endswith("_l0")})
    backward.load_state_dict({k.removesuffix("_l0_reverse"): v for k, v in sd.items() if k.endswith("_reverse")})
    x = torch.randn(2, 9, 6)
    assert torch.allclose(bidirectional_layer(forward, backward, x), layer(x)[0], atol=1e-6)


def test_masked_loss_equals_cross_entropy_with_ignore_index():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 6, 11, generator=g)
    targets = torch.randint(0, 11, (4, 6), generator=g)
    lengths = torch.tensor([6, 3, 1, 5])
    mask = torch.arange(6)[None] < lengths[:, None]
    pad = -100
    padded = targets.masked_fill(~mask, pad)
    expected = F.cross_entropy(logits.reshape(-1, 11), padded.reshape(-1), ignore_index=pad)
    assert torch.allclose(masked_cross_entropy(logits, targets, mask), expected, atol=1e-6)
    unmasked = F.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))
    assert not torch.allclose(unmasked, expected, atol=1e-3), "the mask changes the loss"


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_grad_by_distance_equals_autograd_on_a_hand_unrolled_loop(kind):
    config = RNNConfig(cell=kind, hidden=16, embed=8, bptt=12, batch_size=4, clip=0.0)
    trainer = RNNTrainer(TEXT, config, seed=0)
    model = trainer.model
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    ids, targets = trainer.streams[:, :12], trainer.streams[:, 1:13]
    trainer.train_steps(1)
    measured = trainer.grad_by_distance[0]

    fresh = type(model)(config, len(trainer.chars))
    fresh.load_state_dict(reference)
    cell, head, embedding = fresh.cell, fresh.head, fresh.embedding
    h = torch.zeros(4, 16)
    c = torch.zeros(4, 16)
    hiddens = []
    for t in range(12):  # unrolled by hand with torch's own cells
        x = embedding(ids[:, t])
        if kind == "lstm":
            h, c = torch.lstm_cell(x, (h, c), cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        elif kind == "gru":
            h = torch.gru_cell(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        else:
            h = torch.rnn_tanh_cell(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        hiddens.append(h)
    last = F.cross_entropy(head(hiddens[-1]), targets[:, -1])
    grads = torch.autograd.grad(last, hiddens)
    expected = np.array([float(grads[11 - d].norm()) for d in range(12)])
    np.testing.assert_allclose(measured, expected, rtol=1e-5, atol=1e-9)
    assert measured[0] > measured[-1], "gradient from far back is smaller at initialisation"


def test_fast_path_gives_the_same_losses():
    base = dict(cell="lstm", hidden=24, embed=8, bptt=16, batch_size=4, track_gradients=False)
    slow = RNNTrainer(TEXT, RNNConfig(**base, fast=False), seed=3)
    fast = RNNTrainer(TEXT, RNNConfig(**base, fast=True), seed=3)
    slow.train_steps(5)
    fast.train_steps(5)
    np.testing.assert_allclose(slow.losses, fast.losses, rtol=1e-5)


def test_clipping_reports_the_norm_before_and_applies_torchs_rule():
    config = RNNConfig(cell="rnn", hidden=16, embed=8, bptt=10, batch_size=4, clip=0.01, optimizer="sgd", lr=1.0)
    trainer = RNNTrainer(TEXT, config, seed=0)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.train_steps(1)
    step = torch.cat([(b - p.detach()).reshape(-1) for b, p in zip(before, trainer.model.parameters())])
    assert trainer.grad_norms[0] > 0.01
    assert math.isclose(float(step.norm()), 0.01, rel_tol=1e-4), "SGD at lr 1 moves by the clipped norm"


def test_truncated_bptt_carries_the_state_not_the_gradient():
    config = RNNConfig(cell="gru", hidden=8, embed=4, bptt=6, batch_size=2)
    trainer = RNNTrainer(TEXT, config, seed=0)
    trainer.train_steps(2)
    assert trainer.state is not None and not trainer.state.requires_grad
    assert trainer.position == 12 and trainer.chars_seen == 2 * 2 * 6
    assert torch.equal(trainer.streams[0, 6:12], trainer.streams[0, 6:12])  # the second chunk follows the first


def test_comparison_keeps_the_others_when_one_diverges():
    configs = {
        "off": RNNConfig(cell="rnn", hidden=16, embed=8, bptt=8, batch_size=4, clip=0.0),
        "on": RNNConfig(cell="rnn", hidden=16, embed=8, bptt=8, batch_size=4, clip=1.0),
    }
    comparison = CellComparison(TEXT, configs, seed=0)
    with torch.no_grad():
        comparison.trainers["off"].model.head.bias[0] = math.inf  # a blown-up weight: its loss is not finite
    for _ in range(4):
        metrics = comparison.train_steps(1)
    assert "off" in comparison.diverged and "on.loss" in metrics and "off.loss" not in metrics


def test_schedules_start_at_teacher_forcing_and_decay_to_the_floor():
    for schedule in ("linear", "exponential", "inverse_sigmoid"):
        assert teacher_probability(0, schedule, 100) == pytest.approx(1.0)
        assert teacher_probability(10_000, schedule, 100, floor=0.25) == 0.25
    assert teacher_probability(50, "linear", 100) == pytest.approx(0.5)
    assert teacher_probability(500, "none", 100) == 1.0


def test_scheduled_sampling_feeds_own_samples():
    config = RNNConfig(cell="lstm", hidden=16, embed=8, bptt=8, batch_size=4, schedule="linear", schedule_k=1)
    trainer = RNNTrainer(TEXT, config, seed=0)
    metrics = trainer.train_steps(3)
    assert metrics["teacher_prob"] == 0.5 and len(trainer.grad_by_distance) == 1  # measured at teacher forcing
    assert trainer.heldout_loss(teacher=0.5) != trainer.heldout_loss(teacher=1.0)


def test_sample_is_seeded_text_from_the_vocabulary():
    trainer = RNNTrainer(TEXT, RNNConfig(hidden=16, embed=8, bptt=8, batch_size=4), seed=0)
    a, b = trainer.sample("the ", 30, 0.8, seed=1), trainer.sample("the ", 30, 0.8, seed=1)
    assert a == b and a.startswith("the ") and len(a) == 34 and set(a) <= set(TEXT)


def test_bad_settings_and_texts_say_what_to_do():
    with pytest.raises(ValueError, match="hidden size must be between 1 and 1024"):
        RNNConfig(hidden=5000)
    with pytest.raises(ValueError, match="BPTT length must be between 2 and 512"):
        RNNConfig(bptt=1000)
    with pytest.raises(ValueError, match="Unknown cell"):
        RNNConfig(cell="transformer")
    with pytest.raises(ValueError, match="clipping threshold"):
        RNNConfig(clip=-1)
    with pytest.raises(ValueError, match="one chunk of 64 characters"):
        RNNTrainer("too short for a chunk", RNNConfig())
    with pytest.raises(ValueError, match="two different characters"):
        RNNTrainer("aaaa" * 100, RNNConfig())


def test_truncated_bptt_keeps_the_gradient_inside_the_chunk_and_cuts_it_beyond():
    config = RNNConfig(cell="lstm", hidden=16, embed=8, bptt=12, batch_size=4)
    full = gradient_profile(TEXT, config, cells=("lstm",))["lstm"]  # autograd through all 12 characters
    for T, profile in truncated_profile(TEXT, config, lengths=(3, 6, 12)).items():
        np.testing.assert_allclose(profile[:T], full[:T], rtol=1e-5)
        assert (profile[T:] == 0).all() and (profile[:T] > 0).all(), T


def test_untrained_gradient_profile_equals_the_trainers_own_measurement():
    config = RNNConfig(cell="gru", hidden=16, embed=8, bptt=12, batch_size=4, clip=0.0)
    trainer = RNNTrainer(TEXT, config, seed=0)
    trainer.train_steps(1)  # measures ‖∂L_last/∂h‖ before its first update
    np.testing.assert_allclose(
        gradient_profile(TEXT, config, cells=("gru",))["gru"], trainer.grad_by_distance[0], rtol=1e-5
    )


def test_recall_task_trains_one_distance_as_in_a_full_run():
    full = RecallTask(distances=(2, 3), cells=("rnn", "lstm"), hidden=8, batch_size=8)
    part = RecallTask(distances=(2, 3), cells=("rnn", "lstm"), hidden=8, batch_size=8)
    full.train_steps(3)
    part.train_steps(3, distances=(3,))
    for name in ("rnn@3", "lstm@3"):
        for a, b in zip(full.models[name].parameters(), part.models[name].parameters()):
            assert torch.equal(a, b), name
    assert not torch.equal(full.models["rnn@2"][2].weight, part.models["rnn@2"][2].weight), "distance 2 untrained"
