"""Recurrent networks (Lecture 4): the model code behind app/lessons/rnn/ (pure torch, no Streamlit).

- `cells`: the vanilla RNN, LSTM and GRU cells written out, named and shaped as torch.nn's; the loop over time.
- `model`: a character-level language model trained with truncated BPTT, clipping and scheduled sampling.
- `experiments`: the lesson's other measurements: long-range recall, gates over a sentence, padding and buckets.

    from models.rnn import LSTMCell, RNNConfig, RNNTrainer
    trainer = RNNTrainer(text, RNNConfig(cell="lstm", hidden=128, bptt=64, clip=1.0), seed=0)
    trainer.train_steps(50)  # {"loss": ..., "grad_norm": ...}; trainer.grad_by_distance (steps, bptt)
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "CELLS": "cells",
    "GRUCell": "cells",
    "LSTMCell": "cells",
    "RNNCell": "cells",
    "bidirectional_layer": "cells",
    "fused_layer": "cells",
    "make_cell": "cells",
    "run_layer": "cells",
    "CellComparison": "model",
    "CharRNN": "model",
    "RNNConfig": "model",
    "RNNTrainer": "model",
    "masked_cross_entropy": "model",
    "teacher_probability": "model",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
