"""The word-embeddings lesson (pages/word_embeddings.py): one module per tab, and the pure helpers behind them.

Tabs (Streamlit): corpus_tab, onehot_tab, negative_sampling_tab, train_tab, evaluate_tab; lesson.py holds what
they share (key prefixes, the corpus and its vocabulary, the settings, the run's vectors).
Pure helpers (no Streamlit): trainer, corpus_stats, negative_sampling, vector_space, evaluation.
"""
