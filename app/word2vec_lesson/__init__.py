"""The word-embeddings lesson (pages/word_embeddings.py): one module per tab, and the pure helpers behind them.

Tabs (Streamlit): corpus_tab, onehot_tab, negative_sampling_tab, train_tab, evaluate_tab; lesson.py holds what
they share (key prefixes, the corpus and its vocabulary, the settings, the run's vectors).
Pure helpers (no Streamlit): trainer, corpus_stats, negative_sampling, vector_space, evaluation. Their names are
re-exported here, so `from app import word2vec_lesson as views` reaches every helper in one namespace.
"""

from app.word2vec_lesson.corpus_stats import (
    in_vocabulary,
    keep_figure,
    keep_frame,
    kept_share,
    vocabulary_stats,
    zipf_figure,
    zipf_fit,
    zipf_frame,
)
from app.word2vec_lesson.evaluation import (
    evaluate,
    pairs_figure,
    runs_frame,
    score_rows,
    scores_display,
    scores_figure,
    train_gensim,
    word2vec_text,
)
from app.word2vec_lesson.negative_sampling import (
    corpus_pair,
    explain_figure,
    explain_frame,
    noise_figure,
    noise_frame,
)
from app.word2vec_lesson.trainer import (
    ARCHITECTURES,
    TICKS_PER_EPOCH,
    TickedTrainer,
    build_trainer,
    make_config,
)
from app.word2vec_lesson.vector_space import (
    GROUP_COLORS,
    OTHER,
    PROJECTIONS,
    analogy_frame,
    cosine_figure,
    cosine_frame,
    learned_cosines,
    neighbours_frame,
    parse_groups,
    parse_words,
    project,
    projection_figure,
    projection_points,
)

__all__ = [
    # trainer
    "ARCHITECTURES",
    "TICKS_PER_EPOCH",
    "TickedTrainer",
    "build_trainer",
    "make_config",
    # corpus_stats
    "in_vocabulary",
    "keep_figure",
    "keep_frame",
    "kept_share",
    "vocabulary_stats",
    "zipf_figure",
    "zipf_fit",
    "zipf_frame",
    # negative_sampling
    "corpus_pair",
    "explain_figure",
    "explain_frame",
    "noise_figure",
    "noise_frame",
    # vector_space
    "GROUP_COLORS",
    "OTHER",
    "PROJECTIONS",
    "analogy_frame",
    "cosine_figure",
    "cosine_frame",
    "learned_cosines",
    "neighbours_frame",
    "parse_groups",
    "parse_words",
    "project",
    "projection_figure",
    "projection_points",
    # evaluation
    "evaluate",
    "pairs_figure",
    "runs_frame",
    "score_rows",
    "scores_display",
    "scores_figure",
    "train_gensim",
    "word2vec_text",
]
