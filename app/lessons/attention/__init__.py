"""The Attention lesson (pages/attention.py), one module per tab plus the pure helpers behind them.

Tabs (Streamlit): real_model_tab, step_through_tab, positional_tab, training_tab.
Pure helpers (no Streamlit): labels, heads, measures, step_through, positional_figures, tiny_trainer.
"""

P = "at_"  # this page's prefix for widget keys, query parameters and session state
STATE = "at:"  # results (never stored under widget keys)
