"""The training text of the MoE lesson (a named corpus or the user's own, checked once), and what the page computes
without a click: the untrained router's loads (step 0) and a short run shared by every student.

The shared functions take a corpus *name* and the config as a tuple of its fields (`config_key`): `page.shared` keys
its cache by them, and a student's own text never reaches a shared cache (the tabs call `step0_loads` and
`short_run` on it directly).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.lessons.moe import figures
from app.resources import TRAINING_CORPORA, named_training_text, read_training_text
from models.moe.model import MoEConfig, MoETrainer

CORPORA = TRAINING_CORPORA  # the lesson's texts (the kit's, shared by the character-level lessons)

SHORT_RUN_STEPS = 50  # the router tab's run when the student has none: ~3 s of one model on one CPU thread
SEED = 0  # every run of the lesson: the three balancings share it, and the presets' numbers are measured with it


def training_text(corpus: str, user_text: str, context: int) -> tuple[str, str]:
    """-> (label, text). ValueError with what to do for an empty, too short or one-character text."""
    label, text = read_training_text(corpus, user_text)
    if corpus != "user":
        return label, text
    if len(set(text)) < 2:
        raise ValueError("The text uses a single character; a language model needs at least two.")
    if len(text) < context + 2:
        raise ValueError(f"The text has {len(text)} characters; one training window needs {context + 2}. Paste more.")
    return "your text", text


def config_key(config: MoEConfig) -> tuple:
    """The config as a hashable tuple of (field, value), for `page.shared`; `MoEConfig(**dict(key))` rebuilds it."""
    return tuple(sorted(vars(config).items()))


def step0_loads(text: str, config: MoEConfig) -> np.ndarray:
    """(layers, E): where the untrained router (the three runs' common start) sends 4 training batches."""
    return MoETrainer(text, config, seed=SEED).probe_loads().numpy()


def step0_view(corpus: str, settings: tuple):
    """The first view of a named corpus: (figure, frame) of `step0_loads` (for `page.shared_figure`)."""
    return figures.initial_loads(step0_loads(named_training_text(corpus), MoEConfig(**dict(settings))))


def short_run(text: str, config: MoEConfig, balance: str, steps: int = SHORT_RUN_STEPS) -> MoETrainer:
    """One of the three runs (`balance`) trained `steps` steps on the CPU, left in eval mode: what the router tab
    shows before the student has trained. Identical to that run of the lesson's comparison at the same step."""
    trainer = MoETrainer(text, replace(config, balance=balance), seed=SEED)
    trainer.train_steps(steps)
    trainer.model.eval()
    return trainer


def shared_short_run(corpus: str, settings: tuple, balance: str, steps: int = SHORT_RUN_STEPS) -> MoETrainer:
    """`short_run` on a named corpus, for `page.shared(..., read_only=True)`: nobody trains it further."""
    return short_run(named_training_text(corpus), MoEConfig(**dict(settings)), balance, steps)
