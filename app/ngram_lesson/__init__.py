"""The n-gram smoothing lesson (pages/ngrams.py): one module per tab, and the helpers they share.

data.py counts the corpus and builds the models (cache.py caches them); tables.py and figures.py
turn the results into frames and charts, with labels.py naming each smoothing; overview.py smooths
the counts every way and draws the metrics above the tabs; each *_tab.py draws one tab.
"""
