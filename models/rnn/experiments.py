"""The lesson's other measurements, each a few lines over models/rnn/cells.py and model.py.

- `RecallTask` (the long-range test of Hochreiter & Schmidhuber 1997, simplified): read a symbol, then D − 1
  distractors, then a query mark; output the symbol. Chance is 1/K. One small model per cell and distance, trained
  the same number of steps from one seed: accuracy against D says how far back each cell's gradient reaches.
- `gradient_profile`: ‖∂L_last/∂h_{T−1−d}‖ of an untrained model on one chunk of text, per cell (the first view).
- `truncated_profile`: the same over one window read in chunks of T (the state carried, detached): the gradient
  inside the last chunk is unchanged, and exactly 0 beyond it.
- `gate_trace`: every gate of an LSTM (or GRU) over a sentence.
- `padding_report` / `bucket_padding`: a padded batch's loss with and without the mask; what bucketing saves.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.rnn.cells import CELLS, detach_state, fused_layer, make_cell, run_layer
from models.rnn.model import CharRNN, RNNConfig, RNNTrainer, masked_cross_entropy


class RecallTask:
    """{cell: {D: model}}; train_steps(n) -> "<cell>.loss" (mean over D) and "<cell>.acc@<D>"."""

    def __init__(self, distances=(2, 5, 10, 20, 40), cells=CELLS, hidden: int = 32, symbols: int = 4,
                 batch_size: int = 64, lr: float = 1e-2, forget_bias: float = 1.0, seed: int = 0):  # fmt: skip
        if not distances or min(distances) < 1 or max(distances) > 500:
            raise ValueError("Distances run from 1 to 500 steps.")
        if not 2 <= symbols <= 32:
            raise ValueError("Between 2 and 32 symbols to recall, please.")
        self.distances, self.cells, self.symbols, self.batch_size = tuple(distances), tuple(cells), symbols, batch_size
        self.vocab = 2 * symbols + 1  # symbols, as many distractors, the query mark
        torch.manual_seed(seed)
        self.models = nn.ModuleDict()
        for cell in self.cells:
            for d in self.distances:
                embedding = nn.Embedding(self.vocab, 16)
                core = make_cell(cell, 16, hidden, forget_bias)
                self.models[f"{cell}@{d}"] = nn.ModuleList([embedding, core, nn.Linear(hidden, symbols)])
        self.optimizers = {name: torch.optim.Adam(m.parameters(), lr=lr) for name, m in self.models.items()}
        self.generator = torch.Generator().manual_seed(seed)
        self.eval_batches = {d: self.batch(d, 512, torch.Generator().manual_seed(10_000 + d)) for d in self.distances}
        self.steps = 0

    def batch(self, distance: int, size: int, generator):
        """-> ids (size, D + 1): symbol, D − 1 distractors, query; targets (size,): the symbol."""
        s = self.symbols
        symbol = torch.randint(0, s, (size, 1), generator=generator)
        noise = torch.randint(s, 2 * s, (size, distance - 1), generator=generator)
        query = torch.full((size, 1), 2 * s)
        return torch.cat([symbol, noise, query], dim=1), symbol[:, 0]

    def logits(self, name: str, ids):
        embedding, core, head = self.models[name]
        out, _ = fused_layer(core, embedding(ids))  # (B, D + 1, H)
        return head(out[:, -1])  # (B, symbols): read at the query

    def train_steps(self, n: int, distances=None) -> dict[str, float]:
        """n steps of every model; `distances` trains only those distances' models (every batch is still drawn,
        so they see the same sequences as in a full run: a test checks one distance at a fifth of the cost)."""
        losses = {}
        for _ in range(n):
            for cell in self.cells:
                for d in self.distances:
                    name = f"{cell}@{d}"
                    ids, target = self.batch(d, self.batch_size, self.generator)
                    if distances is not None and d not in distances:
                        continue
                    loss = F.cross_entropy(self.logits(name, ids), target)
                    self.optimizers[name].zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(self.models[name].parameters(), 1.0)
                    self.optimizers[name].step()
                    losses[name] = float(loss.detach())
            self.steps += 1
        metrics = {
            f"{cell}.loss": float(np.mean([v for k, v in losses.items() if k.startswith(f"{cell}@")]))
            for cell in self.cells
        }
        metrics |= {f"{cell}.acc@{d}": acc for (cell, d), acc in self.accuracy().items()}
        return metrics

    @torch.no_grad()
    def accuracy(self) -> dict[tuple[str, int], float]:
        """Share of 512 held-out sequences per distance whose symbol is recalled (argmax)."""
        out = {}
        for cell in self.cells:
            for d in self.distances:
                ids, target = self.eval_batches[d]
                out[(cell, d)] = float((self.logits(f"{cell}@{d}", ids).argmax(-1) == target).float().mean())
        return out


def gradient_profile(text: str, config: RNNConfig, cells=CELLS, seed: int = 0) -> dict[str, np.ndarray]:
    """{cell: (T,)} ‖∂L_last/∂h_{T−1−d}‖ of untrained models (one seed) on the first chunk of the text."""
    data = RNNTrainer(text, RNNConfig(**{**config.__dict__, "cell": "rnn"}), seed=seed)  # streams and vocabulary
    ids, targets = data.batch()  # (B, T) each
    out = {}
    for cell in cells:
        torch.manual_seed(seed)  # the weights RNNTrainer(text, config with this cell, seed) starts from
        model = CharRNN(RNNConfig(**{**config.__dict__, "cell": cell}), len(data.chars))
        logits, _, hiddens, _ = model(ids)
        last = F.cross_entropy(logits[:, -1], targets[:, -1])
        grads = torch.autograd.grad(last, hiddens)
        out[cell] = np.array([float(g.norm()) for g in reversed(grads)])
    return out


def truncated_profile(text: str, config: RNNConfig, lengths=(4, 16, 64), seed: int = 0) -> dict[int, np.ndarray]:
    """{T: (W,)} ‖∂L_last/∂h_{W−1−d}‖ of an untrained model (config.cell, one seed) over the first W = max(lengths)
    characters of every stream, read in chunks of T with the state carried across and detached (truncated BPTT).

    Forward values do not depend on T; the gradient inside the last chunk equals full BPTT's, and is exactly 0
    further back (the detached state ends the graph)."""
    window = max(lengths)
    data = RNNTrainer(text, RNNConfig(**{**config.__dict__, "bptt": window}), seed=seed)
    ids, targets = data.batch()  # (B, W) each
    torch.manual_seed(seed)
    model = CharRNN(config, len(data.chars))
    out = {}
    for T in lengths:
        state, hiddens, logits = None, [], None
        for start in range(0, window, T):
            logits, state, chunk_hiddens, _ = model(ids[:, start : start + T], state)
            hiddens += chunk_hiddens
            state = detach_state(state) if start + T < window else state  # the gradient stops at the chunk's start
        last = F.cross_entropy(logits[:, -1], targets[:, -1])
        grads = torch.autograd.grad(last, hiddens, allow_unused=True)  # None: not in the last chunk's graph
        out[T] = np.array([0.0 if g is None else float(g.norm()) for g in reversed(grads)])
    return out


@torch.no_grad()
def gate_trace(model, stoi: dict[str, int], sentence: str) -> tuple[str, dict[str, np.ndarray]]:
    """Run a CharRNN over a sentence (unknown characters dropped). -> (kept text, {gate: (T, H)})."""
    kept = "".join(ch for ch in sentence if ch in stoi)
    if not kept:
        raise ValueError("None of these characters occur in the training text; type some that do.")
    if model.config.cell == "rnn":
        raise ValueError("A vanilla RNN has no gates: pick the LSTM or the GRU.")
    ids = torch.tensor([[stoi[ch] for ch in kept]])
    _, _, _, gates = run_layer(model.cell, model.embedding(ids), keep_gates=True)
    return kept, {name: torch.stack([g[name][0] for g in gates]).numpy() for name in gates[0]}


def padding_report(model, stoi: dict[str, int], sentences: list[str], pad: int = 0) -> dict:
    """A batch of sentences padded to the longest; next-character loss three ways (teacher forcing)."""
    encoded = [[stoi[ch] for ch in s if ch in stoi] for s in sentences]
    encoded = [e for e in encoded if len(e) >= 2]
    if not encoded:
        raise ValueError("Give at least one sentence of two or more known characters.")
    longest = max(len(e) for e in encoded)
    ids = torch.full((len(encoded), longest), pad)
    for row, e in enumerate(encoded):
        ids[row, : len(e)] = torch.tensor(e)
    lengths = torch.tensor([len(e) - 1 for e in encoded])  # predicted positions per sentence
    mask = torch.arange(longest - 1)[None] < lengths[:, None]  # (B, T − 1) real targets
    with torch.no_grad():
        logits = model(ids[:, :-1])[0]  # (B, T − 1, V)
        targets = ids[:, 1:]
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
        nll = nll.view(len(encoded), -1)
        per_sentence = (nll * mask).sum(1) / lengths
    return {
        "ids": ids,
        "mask": mask,
        "nll": nll.numpy(),
        "masked": float(masked_cross_entropy(logits, targets, mask)),  # sum over real / number of real
        "unmasked": float(nll.mean()),  # padding counted as if it were text
        "mean_of_sentence_means": float(per_sentence.mean()),  # every sentence weighs the same
        "real": int(mask.sum()),
        "padded": int((~mask).sum()),
    }


def bucket_padding(lengths: list[int], batch_size: int, seed: int = 0) -> dict[str, float]:
    """Padding share of batches drawn at random against batches of similar lengths (sorted, then cut)."""
    if batch_size < 1 or not lengths:
        raise ValueError("Need sentences and a batch size of at least 1.")
    rng = np.random.default_rng(seed)

    def share(order) -> float:
        batches = [np.asarray(lengths)[order[i : i + batch_size]] for i in range(0, len(order), batch_size)]
        padded = sum(len(b) * b.max() for b in batches)
        return 1 - sum(b.sum() for b in batches) / padded

    return {"random": share(rng.permutation(len(lengths))), "bucketed": share(np.argsort(lengths, kind="stable"))}
