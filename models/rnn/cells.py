"""Recurrent cells written out: the vanilla (Elman) RNN, the LSTM and the GRU, one time step each.

Parameters are named and shaped as torch.nn's cells (`weight_ih` (G·H, I), `weight_hh` (G·H, H), `bias_ih`,
`bias_hh` (G·H,), gates stacked in torch's order), so `cell.load_state_dict(torch.nn.LSTMCell(16, 32).state_dict())`
works and the tests compare against torch on the same weights.

    RNN  (Elman 1990):   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
    LSTM (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000), torch's order i, f, g, o:
         i = σ(·), f = σ(·), g = tanh(·), o = σ(·)    each (·) = W_ih,k x + b_ih,k + W_hh,k h + b_hh,k
         c' = f ⊙ c + i ⊙ g                           the additive cell path: ∂c'/∂c = f, no matrix, no squashing
         h' = o ⊙ tanh(c')
    GRU  (Cho et al. 2014), torch's order r, z, n:
         r = σ(·), z = σ(·), n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
         h' = (1 − z) ⊙ n + z ⊙ h                      z near 1 copies h forward (the GRU's carry path)

Backpropagation through time multiplies one Jacobian ∂h_t/∂h_{t-1} per step: for the RNN that is
diag(tanh') · W_hh, whose norm is below 1 at a usual initialisation, so gradients from far back vanish (Bengio et
al. 1994; Pascanu et al. 2013). A forget-gate bias of 1 starts f near σ(1) = 0.73 instead of 0.5 (Jozefowicz et
al. 2015), so the cell path carries further before training.

`run_layer` is the plain Python loop over time (it can return every gate); `fused_layer` is the same arithmetic
through torch's fused kernels (torch.lstm, what nn.LSTM calls; cuDNN on a GPU), tested equal.

Papers: https://arxiv.org/abs/1211.5063 · https://www.bioinf.jku.at/publications/older/2604.pdf ·
https://arxiv.org/abs/1406.1078 · https://proceedings.mlr.press/v37/jozefowicz15.pdf
"""

from __future__ import annotations

import math

import torch
from torch import nn

CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # stacked blocks of H rows in weight_ih / weight_hh
GATE_NAMES = {"lstm": ("input i", "forget f", "candidate g", "output o"), "gru": ("reset r", "update z", "new n")}


class _Cell(nn.Module):
    """The parameters every cell shares, initialised as torch's: uniform(−1/√H, 1/√H)."""

    kind = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        rows = GATES[self.kind] * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(rows)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(rows)) if bias else None
        bound = 1 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _affine(self, x, h):
        """(W_ih x + b_ih, W_hh h + b_hh), each (B, G·H)."""
        gi, gh = x @ self.weight_ih.t(), h @ self.weight_hh.t()
        if self.bias_ih is not None:
            gi, gh = gi + self.bias_ih, gh + self.bias_hh
        return gi, gh

    def zero_state(self, batch: int, device=None):
        h = torch.zeros(batch, self.hidden_size, device=device)
        return (h, h.clone()) if self.kind == "lstm" else h


class RNNCell(_Cell):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh). forward(x (B, I), h (B, H)) -> h' (B, H)."""

    kind = "rnn"

    def step(self, x, h):
        gi, gh = self._affine(x, h)
        h = torch.tanh(gi + gh)
        return h, {}

    def forward(self, x, h=None):
        h = self.zero_state(x.shape[0], x.device) if h is None else h
        return self.step(x, h)[0]


class LSTMCell(_Cell):
    """forward(x (B, I), (h, c) each (B, H)) -> (h', c'). `step` also returns the gates."""

    kind = "lstm"

    def set_forget_bias(self, value: float) -> None:
        """f = σ(value) at the start: b_ih's forget block set to value, b_hh's to 0."""
        H = self.hidden_size
        with torch.no_grad():
            self.bias_ih[H : 2 * H] = value
            self.bias_hh[H : 2 * H] = 0.0

    def step(self, x, state):
        h, c = state
        gi, gh = self._affine(x, h)
        i, f, g, o = (gi + gh).chunk(4, dim=-1)  # each (B, H)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g  # the cell path: additive, scaled by f only
        h = o * torch.tanh(c)
        return (h, c), {"input i": i, "forget f": f, "candidate g": g, "output o": o, "cell c": c}

    def forward(self, x, state=None):
        state = self.zero_state(x.shape[0], x.device) if state is None else state
        return self.step(x, state)[0]


class GRUCell(_Cell):
    """forward(x (B, I), h (B, H)) -> h' (B, H). `step` also returns the gates."""

    kind = "gru"

    def step(self, x, h):
        gi, gh = self._affine(x, h)
        i_r, i_z, i_n = gi.chunk(3, dim=-1)  # each (B, H)
        h_r, h_z, h_n = gh.chunk(3, dim=-1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)  # the reset gate scales the recurrent part of the candidate only
        h = (1 - z) * n + z * h
        return h, {"reset r": r, "update z": z, "new n": n}

    def forward(self, x, h=None):
        h = self.zero_state(x.shape[0], x.device) if h is None else h
        return self.step(x, h)[0]


def make_cell(kind: str, input_size: int, hidden_size: int, forget_bias: float | None = None) -> _Cell:
    if kind not in CELLS:
        raise ValueError(f"Unknown cell {kind!r}; choose one of {', '.join(CELLS)}.")
    cell = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}[kind](input_size, hidden_size)
    if kind == "lstm" and forget_bias is not None:
        cell.set_forget_bias(forget_bias)
    return cell


def hidden_of(state):
    """h of a state: the state itself, or h of an LSTM's (h, c)."""
    return state[0] if isinstance(state, tuple) else state


def detach_state(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def run_layer(cell: _Cell, x, state=None, reverse: bool = False, keep_gates: bool = False):
    """The textbook loop over time. x (B, T, I) -> (outputs (B, T, H), final state, [h_t], [gates_t]).

    [h_t] are the graph's own hidden states (for ∂L/∂h_t); gates_t are kept when asked (for the LSTM's heatmap).
    `reverse` reads the sequence backwards (the backward half of a bidirectional layer); outputs stay in order.
    """
    B, T, _ = x.shape
    state = cell.zero_state(B, x.device) if state is None else state
    hiddens, gates = [None] * T, [None] * T
    for t in reversed(range(T)) if reverse else range(T):
        state, g = cell.step(x[:, t], state)
        hiddens[t] = hidden_of(state)  # (B, H)
        if keep_gates:
            gates[t] = g
    return torch.stack(hiddens, dim=1), state, hiddens, gates


def bidirectional_layer(forward_cell: _Cell, backward_cell: _Cell, x):
    """x (B, T, I) -> (B, T, 2H): [forward h_t ; backward h_t], as torch.nn.LSTM(bidirectional=True) returns.

    The backward half reads right to left, so position t sees the whole sentence: a sentence representation is
    [last forward h ; first backward h] (what ELMo-style and BiLSTM encoders use)."""
    forward_out = run_layer(forward_cell, x)[0]
    backward_out = run_layer(backward_cell, x, reverse=True)[0]
    return torch.cat([forward_out, backward_out], dim=-1)


_FUSED = {"rnn": torch.rnn_tanh, "lstm": torch.lstm, "gru": torch.gru}


def fused_layer(cell: _Cell, x, state=None, training: bool = True):
    """The same layer through torch's fused kernel (what nn.RNN/LSTM/GRU call; cuDNN on a GPU), on the cell's
    own parameters. x (B, T, I) -> (outputs (B, T, H), final state)."""
    B = x.shape[0]
    state = cell.zero_state(B, x.device) if state is None else state
    params = [cell.weight_ih, cell.weight_hh] + ([cell.bias_ih, cell.bias_hh] if cell.bias_ih is not None else [])
    has_bias = cell.bias_ih is not None
    if cell.kind == "lstm":
        h0, c0 = (s.unsqueeze(0) for s in state)  # (1, B, H): one layer, one direction
        out, h, c = torch.lstm(x, (h0, c0), params, has_bias, 1, 0.0, training, False, True)
        return out, (h[0], c[0])
    out, h = _FUSED[cell.kind](x, state.unsqueeze(0), params, has_bias, 1, 0.0, training, False, True)
    return out, h[0]
