"""Retrieval-augmented LMs (Lecture 15): one module per tab, no shared controls (each tab has its own settings).

data.py computes (datastores, held-out scores, the passage pool, RAG comparisons; named corpora once per server),
figures.py draws; each *_tab.py draws one tab (TITLE and render(page)).
"""

from app.lessons.retrieval import knn_tab, rag_tab, search_tab, swap_tab, where_tab
from app.page import Preset
from models.retrieval import QUESTIONS

INTRO = (
    "A datastore of text can help a language model in three places: at the **input** (RAG: retrieved passages "
    "prepended to the prompt), in the **middle** (RETRO: cross-attention to retrieved chunks) and at the **output** "
    "(kNN-LM: the next-token distribution mixed with one read off the nearest stored contexts, "
    "p = λ·p_kNN + (1 − λ)·p_LM). Here SmolLM2 gets a kNN-LM datastore built from a corpus you pick, BM25 races "
    "MiniLM's dense retrieval on questions over Wikipedia, and RAG is measured, distractors included. Every number "
    "is computed on this page."
)

PRESETS = {  # full state: settings not named go back to their defaults; each opens the tab that shows it
    "Lecture demo: a datastore that knows the domain": Preset(
        "On the toy world's text, a 1,024-token datastore at λ = 0.5 more than halves SmolLM2's perplexity on the "
        "held-out tokens (no sampling anywhere: the same numbers on every run).",
        tab=knn_tab.TITLE,
        values={"corpus": "toy", "lam": 0.5},
    ),
    "Lecture demo: Wikipedia wants a small λ": Preset(
        "On Wikipedia a 1,024-token datastore helps little: the best λ on the curves is at most 0.15, and "
        "the paper's λ = 0.25 is worse than SmolLM2 alone.",
        tab=knn_tab.TITLE,
        values={"corpus": "wiki", "lam": 0.25},
    ),
    "Lecture demo: swap the datastore, not the weights": Preset(
        "Wikipedia and the toy world: each held-out text is predicted best with its own domain's datastore, by more "
        "than 5 % against the other domain's; the weights never change.",
        tab=swap_tab.TITLE,
        values={"domains": ["wiki", "toy"]},
    ),
    "Lecture demo: BM25 against MiniLM": Preset(
        "“Who was the commander of Apollo 8?”: BM25 ranks the gold passage first, MiniLM puts an Apollo 11 passage "
        "above it (on topic, wrong mission). Over the 22 questions, recall@1 is 100 % for BM25, below it for MiniLM.",
        tab=search_tab.TITLE,
        values={"question": 16},
    ),
    "Lecture demo: a paraphrase only MiniLM finds": Preset(
        "“the sixteenth US president's birthplace” shares no rare word with Lincoln's article: MiniLM's first "
        "passage is Abraham Lincoln's, and none of BM25's top 3 is.",
        tab=search_tab.TITLE,
        values={"question": len(QUESTIONS), "own": "the sixteenth US president's birthplace"},
    ),
    "Lecture demo: a distractor misleads SmolLM2": Preset(
        "“Who composed An American in Paris?”: the gold passage lifts log p(George Gershwin) by more than 10 nats; "
        "BM25's best passage from another article, put before it, takes more than 1 nat back.",
        tab=rag_tab.TITLE,
        values={"question": 1, "retriever": "bm25"},
    ),
    "Lecture demo: an exact search over 103M tokens": Preset(
        "kNN-LM over WikiText-103 (103M tokens), searched exactly, costs more than 100× SmolLM2's own arithmetic per "
        "token: why the paper quantises its keys and searches approximately.",
        tab=where_tab.TITLE,
        values={"datastore_tokens": 103_000_000},
    ),
}
TABS = [knn_tab, swap_tab, search_tab, rag_tab, where_tab]  # each module: TITLE and render(page)
