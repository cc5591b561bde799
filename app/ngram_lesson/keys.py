"""Where the n-gram lesson keeps its state: widget keys, query parameters, pins and results."""

P = "ng_"  # this page's prefix for widget keys, query parameters and pins
STATE = "ng:"  # results (never stored under widget keys)
URL = dict(bind="query-params")
