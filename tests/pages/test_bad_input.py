"""The bad-input catalogue (issue 12): every page fed odd text, controls at and beyond their ends, learning rates
that blow the loss up, impossible combinations and impossible links, one table row each.

Each row names a page, a setting (`<page>.<setting>` is the widget key and the query parameter), the bad value
and a fragment of the message the page must show. A row either changes the widget after a first render (the
student typing; what was on screen must stay: the chart count does not drop, except in the `keep=False` rows,
where the input replaced the corpus or vocabulary the charts described and the page says so instead) or opens a link (`url`: the value
arrives in the query string, where a control can be beyond its range). `expect=None` means the input is odd but
fine (emoji, Chinese, Arabic): the page takes it without an error. Every row: no exception.

The per-page tests (tests/pages/test_<page>_page.py) cover single cases in depth (the stale caption, the exact
fallback); this file is the breadth. The rows that change one setting share one app per page (see `Shared`);
the 110 rows took 7 min on a 2-core machine shared with other jobs (load average ~8).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app.lessons import PAGES_DIR
from tests.conftest import ENTRY, open_tab, reveal, visible_keys

EMPTY = ""
ONE_WORD = "hello"
HUGE = "lorem ipsum " * 440_000  # 5.3 MB
BINARY = "\x00\xff\xfe\x01\x02\x1b[31m\x07\ufffd\x7f" * 40  # what a binary file read as text looks like
CONTROL = "\x00" * 200 + "\ufffd" * 50  # NULs and replacement characters only, no letter
EMOJI = "🙂 🚀 🔥 👩‍👩‍👧 " * 10
CJK = "自然语言处理很有趣。我们今天学习注意力机制。" * 5
RTL = "مرحبا بالعالم، هذه جملة عربية. " * 5 + "שלום עולם"
LINK = "link"  # the fragment of the kit's note on a refused link value (app/errors.py)
NAMES = {id(v): n for n, v in locals().copy().items() if n.isupper() and isinstance(v, str)}


@dataclass(frozen=True)
class Case:
    page: str
    setting: str  # widget key without the "<page>." prefix (several for a combination: see `setup`)
    value: Any
    expect: str | None  # a fragment of the error / warning / info shown; None: accepted without an error
    url: bool = False  # True: the value comes in the link (with `setup` as more query parameters)
    setup: tuple = ()  # ((setting, value), ...) applied before the bad value
    train: tuple = ()  # button keys pressed before the bad value (e.g. a Step, so that there is a result)
    click: tuple = ()  # button keys pressed after the bad value (e.g. a training Step)
    keep: bool = True  # the charts on screen before the bad value are all still there
    tab: str = ""  # the tab open when the value is given (default: the one holding the setting)

    @property
    def id(self) -> str:
        shown = NAMES.get(id(self.value)) or str(self.value)[:20]
        via = "url-" if self.url else ""
        given = "".join(f"-{name}={value}" for name, value in self.setup)
        return f"{self.page}-{via}{self.setting}={shown}{given}"


CASES = [
    # ----------------------------------------------------------------- next-token explorer
    Case("next_token", "prompt", EMPTY, "empty"),
    Case("next_token", "prompt", HUGE, "reads at most"),
    Case("next_token", "prompt", BINARY, None),
    Case("next_token", "prompt", EMOJI, None),
    Case("next_token", "prompt", CJK, None),
    Case("next_token", "prompt", RTL, None),
    Case("next_token", "temperature", 0.05, None),
    Case("next_token", "top_p", 0.05, None),
    Case("next_token", "top_k", 200, None),
    Case("next_token", "temperature", "0", LINK, url=True),
    Case("next_token", "top_p", "7", LINK, url=True),
    Case("next_token", "bars", "100000", LINK, url=True),
    Case("next_token", "model", "no-such-model", LINK, url=True),
    # ----------------------------------------------------------------- word embeddings
    Case("word_embeddings", "train.query", EMPTY, "Type a word", train=("word_embeddings:step",)),
    Case("word_embeddings", "train.query", EMOJI, "Type a word", train=("word_embeddings:step",)),
    Case("word_embeddings", "train.a", CJK, "is not in the vocabulary", train=("word_embeddings:step",)),
    Case("word_embeddings", "train.groups", RTL, None),
    Case("word_embeddings", "negative_sampling.centre", BINARY, "Type both a centre word"),
    Case(
        "word_embeddings",
        "user_text",
        ONE_WORD,
        "vocabulary is empty",
        setup=(("corpus", "user"),),
        keep=False,
    ),
    Case("word_embeddings", "user_text", BINARY, "looks binary", setup=(("corpus", "user"),)),
    Case("word_embeddings", "user_text", HUGE, "the limit is 5,000,000", setup=(("corpus", "user"),)),
    Case(
        "word_embeddings",
        "min_count",
        10_000,
        "Not in the vocabulary",
        keep=False,
        tab="One-hot vs dense",
    ),
    Case("word_embeddings", "dim", 300, None),
    Case("word_embeddings", "window", 20, None),
    Case("word_embeddings", "lr", 0.5, None, click=("word_embeddings:step",)),
    Case("word_embeddings", "dim", "100000", LINK, url=True),
    Case("word_embeddings", "arch", "bogus", LINK, url=True),
    Case("word_embeddings", "corpus", "no-such-corpus", LINK, url=True),
    # ----------------------------------------------------------------- pretrained embedding spaces
    Case("embedding_spaces", "neighbours.word", EMPTY, "Type a word"),
    Case("embedding_spaces", "neighbours.word", EMOJI, "Type one word"),
    Case("embedding_spaces", "neighbours.analogy_a", CJK, "not a whole-word token"),
    Case("embedding_spaces", "contextual.context_word", "zebra", "does not occur"),
    Case("embedding_spaces", "contextual.context_sentences", EMPTY, "sentence list is empty"),
    Case("embedding_spaces", "sentences.sentences", HUGE, "keep each under 1,000"),
    Case("embedding_spaces", "map.groups", RTL, "holds 0 of these words"),
    Case("embedding_spaces", "sentences.top_k", 20, None),
    Case("embedding_spaces", "sentences.sentences", ONE_WORD, "One sentence", keep=False),
    Case(
        "embedding_spaces",
        "sentences.query",
        EMPTY,
        "Type a query",
        click=("embedding_spaces:search-button",),
    ),
    Case("embedding_spaces", "contextual.layer", "99", LINK, url=True),
    Case("embedding_spaces", "space", "bogus", LINK, url=True),
    # ----------------------------------------------------------------- n-grams
    Case("ngrams", "sentence.sentence", EMPTY, "empty"),
    Case("ngrams", "sentence.sentence", EMOJI, "has no words"),
    Case("ngrams", "sentence.sentence", HUGE, "takes at most 2,000 characters"),
    Case("ngrams", "counts.context", RTL, "Not in the vocabulary"),
    Case("ngrams", "generate.start", CJK, None),
    Case("ngrams", "min_count", 1000, None),
    Case("ngrams", "order", 5, None),
    Case("ngrams", "user_text", BINARY, "looks binary", setup=(("corpus", "user"),)),
    Case("ngrams", "user_text", HUGE, "the limit is 5,000,000", setup=(("corpus", "user"),)),
    Case("ngrams", "k", 0.0, "must be above 0", setup=(("smoothing", "add_k"),)),
    Case("ngrams", "order", "9", LINK, url=True),
    Case("ngrams", "smoothing", "bogus", LINK, url=True),
    Case("ngrams", "tab", "No such tab", LINK, url=True),
    # ----------------------------------------------------------------- attention
    Case("attention", "real_model.text", EMPTY, "Enter some text"),
    Case("attention", "real_model.text", HUGE, "takes at most 50,000 characters"),
    Case("attention", "real_model.text", EMOJI, None),
    Case("attention", "real_model.text", CONTROL, None),
    Case("attention", "step_through.step_text", EMPTY, "Type a short sentence"),
    Case("attention", "step_through.step_text", CJK, None),
    Case("attention", "real_model.layer", 127, "there is no layer 127"),
    Case("attention", "real_model.query", 511, "no query token 511"),
    Case("attention", "step_through.step_row", 15, "showing the last one"),
    Case("attention", "training.n_heads", 3, "divisible"),
    Case("attention", "training.lr", "10", LINK, url=True),
    Case("attention", "positional.n_positions", "100000", LINK, url=True),
    # ----------------------------------------------------------------- LoRA
    Case("lora", "sandbox.ranks", [64, 128], "between 1 and the layer's width", setup=(("sandbox.d", 16),)),
    Case("lora", "sandbox.true_rank", 32, "target rank k must be between", setup=(("sandbox.d", 16),)),
    Case("lora", "sandbox.ranks", [], "at least one rank", setup=(("sandbox.full", False),)),
    Case("lora", "sandbox.lr", 1000.0, "diverged", click=("lora:step",) * 3),
    Case("lora", "real.target_modules", EMPTY, "at least one target module"),
    Case("lora", "sandbox.n_train", 2, None),
    Case("lora", "sandbox.d", "17", LINK, url=True),
    Case("lora", "sandbox.true_rank", "999", LINK, url=True),
    # ----------------------------------------------------------------- RLHF
    Case("rlhf", "sandbox.clip_eps", "abc", "must lie in (0, 1)"),
    Case("rlhf", "sandbox.clip_eps", EMPTY, "must lie in (0, 1)"),
    Case("rlhf", "clip.eps", -1.0, "must lie in (0, 1) (got -1)"),
    Case("rlhf", "clip.eps", 1e9, "must lie in (0, 1) (got 1e+09)"),
    Case("rlhf", "lm.kl_coef", -1.0, "cannot be negative"),
    Case("rlhf", "dpo.beta", 0.0, "must be positive"),
    Case("rlhf", "lm.prompts", EMPTY, "at least one non-empty prompt"),
    Case("rlhf", "lm.prompts", HUGE, "at most 64 prompts"),
    Case("rlhf", "lm.keyword", EMPTY, "needs a keyword", setup=(("lm.reward", "keyword"),)),
    Case("rlhf", "sandbox.methods", [], "Pick at least one"),
    Case("rlhf", "sandbox.task", "bogus", LINK, url=True),
    Case("rlhf", "sandbox.n_seeds", "-3", LINK, url=True),
    # ----------------------------------------------------------------- KV cache
    Case("kv_cache", "user_text", ONE_WORD, "use at least 16", setup=(("source", "user"),)),
    Case("kv_cache", "user_text", BINARY, "looks binary", setup=(("source", "user"),)),
    Case("kv_cache", "user_text", HUGE, "the limit is 5,000,000", setup=(("source", "user"),)),
    Case("kv_cache", "user_text", RTL, None, setup=(("source", "user"),)),
    Case("kv_cache", "budget", 8, "the sinks + 1 (17)", setup=(("sinks", 16),)),
    Case("kv_cache", "budget", 8, "plus the 32 new", setup=(("chunk", 32),)),
    Case("kv_cache", "policies", [], None),
    Case("kv_cache", "memory.calc_tokens", 10_000_000, None),
    Case("kv_cache", "budget", "0", LINK, url=True),
    Case("kv_cache", "sinks", "99", LINK, url=True),
    # ----------------------------------------------------------------- MoE
    Case("moe", "top_k", 4, "top-k must be between 1 and the number", setup=(("n_experts", 2),)),
    Case("moe", "n_experts", 1, "use at least 2 experts"),
    Case("moe", "aux_loss_coef", -1.0, "must be 0 or more"),
    Case("moe", "routing.probe_text", EMPTY, "Type some text to route", train=("moe:step",)),
    Case("moe", "routing.probe_text", EMOJI, None),
    Case("moe", "cost.calc_top_k", 64, "cannot exceed E", setup=(("cost.what_if", True),)),
    Case(
        "moe",
        "capacity_factor",
        0.0,
        "capacity factor must be above 0",
        setup=(("use_capacity", True),),
    ),
    Case("moe", "bias_update_rate", 1e30, None, click=("moe:step",)),
    Case("moe", "user_text", ONE_WORD, "one training window needs", setup=(("corpus", "user"),)),
    Case("moe", "user_text", HUGE, "the limit is 5,000,000", setup=(("corpus", "user"),)),
    Case("moe", "user_text", CONTROL, "looks binary", setup=(("corpus", "user"),)),
    Case("moe", "aux_loss_coef", 1e300, "blew up", click=("moe:step",) * 3),  # NaN in the aux-loss run
    Case("moe", "top_k", "99", LINK, url=True),
    Case("moe", "top_k", "8", "top-k must be between 1", url=True, setup=(("n_experts", "4"),)),
    # ----------------------------------------------------------------- recurrent networks
    Case("rnn", "user_text", ONE_WORD, "shorter than one chunk", setup=(("corpus", "user"),)),
    Case("rnn", "user_text", BINARY, "looks binary", setup=(("corpus", "user"),)),
    Case("rnn", "user_text", RTL, None, setup=(("corpus", "user"),)),
    Case("rnn", "lr", 0.0, "learning rate"),
    Case("rnn", "bptt", "100000", LINK, url=True),
    # ----------------------------------------------------------------- machine translation
    Case("translation", "pairs", EMPTY, "pair", setup=(("corpus", "user"),)),
    Case("translation", "pairs", ONE_WORD, "tab", setup=(("corpus", "user"),)),
    Case("translation", "pairs", EMOJI, "tab", setup=(("corpus", "user"),)),
    Case("translation", "pairs", CJK + "\t" + RTL, None, setup=(("corpus", "user"),)),
    Case("translation", "iterations", "0", LINK, url=True),
    # ----------------------------------------------------------------- pre-training objectives
    Case("pretraining", "user_text", EMPTY, "The text is empty", setup=(("corpus", "user"),)),
    Case("pretraining", "user_text", ONE_WORD, "characters; at least", setup=(("corpus", "user"),)),
    Case("pretraining", "objectives.mask_rate", 0.0, "between 0 and 1"),
    Case("pretraining", "objectives.mask_rate", 1.0, "between 0 and 1"),
    Case("pretraining", "masking.sentence", EMPTY, "sentence is empty"),
    Case("pretraining", "instruction.tasks", [], "task mixture is empty"),
    Case("pretraining", "chat.question", EMPTY, "no user turn"),
    Case("pretraining", "chat.question", EMOJI, None),
    Case("pretraining", "objectives.d_model", "7", LINK, url=True),
    # ----------------------------------------------------------------- prompting
    Case("prompting", "template", EMPTY, "template is empty"),
    Case("prompting", "template", "Sentiment: {y}", "{x} exactly once"),
    Case("prompting", "template", "{y} then {x}", "Put {x} before {y}"),
    Case("prompting", "template", HUGE, "at most 500"),
    Case("prompting", "verbalizers", "good, good", "used for two classes"),
    Case("prompting", "verbalizers", "positive, ", "label word is empty"),
    Case("prompting", "verbalizers", EMOJI, "give 2 label words"),
    Case("prompting", "verbalizers", "😞, 🙂", None),
    Case("prompting", "lines", ONE_WORD, "no “:”", setup=(("data", "user"),)),
    Case("prompting", "lines", BINARY, "binary", setup=(("data", "user"),)),
    Case("prompting", "shots", "99", LINK, url=True),
    # ----------------------------------------------------------------- long context
    Case("long_context", "rope.factor", 0.5, "at least 1"),
    Case("long_context", "patterns.window", 1000, "between 1 and the input"),
    Case("long_context", "memory.segment", 500, "at most half"),
    Case("long_context", "extrapolation.eval_len", 100_000, "evaluates up to 4,096"),
    Case("long_context", "lr", 0.0, "learning rate"),
    Case("long_context", "train_len", "4", LINK, url=True),
    # ----------------------------------------------------------------- retrieval-augmented LMs
    Case("retrieval", "knn.user_text", EMPTY, "empty", setup=(("knn.corpus", "user"),)),
    Case("retrieval", "knn.user_text", ONE_WORD, "at least 64", setup=(("knn.corpus", "user"),)),
    Case("retrieval", "knn.user_text", BINARY, "binary", setup=(("knn.corpus", "user"),)),
    Case("retrieval", "knn.user_text", EMOJI, "word", setup=(("knn.corpus", "user"),)),
    Case("retrieval", "knn.user_text", CJK, None, setup=(("knn.corpus", "user"),)),
    Case("retrieval", "knn.k", 1024, "holds", setup=(("knn.corpus", "user"), ("knn.user_text", RTL))),
    Case("retrieval", "knn.n_store", 65536, "over the limit"),
    Case("retrieval", "knn.lam", "1.5", LINK, url=True),
    Case("retrieval", "knn.k", "0", LINK, url=True),
    Case("retrieval", "search.own", EMPTY, "empty", setup=(("search.question", 22),)),
    Case("retrieval", "search.own", EMOJI, "no words", setup=(("search.question", 22),)),
    Case("retrieval", "search.own", RTL, "finds nothing", setup=(("search.question", 22),)),
    Case("retrieval", "swap.domains", [], "at least two"),
]

WIDGETS = ("slider select_slider number_input text_input text_area selectbox multiselect radio checkbox toggle").split()


def widget(at: AppTest, key: str):
    reveal(at, key)  # a lesson draws only its open tab: open the one with this setting
    for kind in WIDGETS:
        for element in at.get(kind):
            if getattr(element, "key", None) == key:
                return element
    raise LookupError(f"no widget {key!r} on the page")


def messages(at: AppTest) -> list[str]:
    return [m.value for kind in ("error", "warning", "info", "caption") for m in at.get(kind)]


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def open_page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.switch_page(str(PAGES_DIR / f"{page}.py"))
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


@dataclass
class Shared:
    """One app per page for the rows that change one setting: each row puts the previous row's setting back
    to its default in the same rerun as its own bad value (one rerun per row instead of a fresh page)."""

    at: AppTest
    charts: int  # on the first render, with the defaults
    defaults: dict  # {widget key: value on the first render}
    dirty: str | None = None  # the key the last row changed


SHARED: dict[str, Shared] = {}


def feed(case: Case) -> tuple[AppTest, int]:
    """Open the page, apply the row; returns the app and the chart count before the bad value."""
    key = f"{case.page}.{case.setting}"
    if case.url:
        query = {f"{case.page}.{name}": value for name, value in case.setup}
        at = open_page(case.page, query | {key: case.value})
        return reveal(at, key), 0  # a link to another tab's setting: the message shows on that tab
    if case.setup or case.train or case.tab:
        at = open_page(case.page)
        if case.tab:
            open_tab(at, case.tab)
        for name, value in case.setup:
            widget(at, f"{case.page}.{name}").set_value(value).run()
            assert not at.exception, [e.value for e in at.exception]
        for button in case.train:
            reveal(at, button).button(key=button).click().run()
            assert not at.exception, [e.value for e in at.exception]
        reveal(at, key)
        before = charts(at)
        widget(at, key).set_value(case.value)
    else:
        shared = SHARED.get(case.page)
        if shared is None or key not in visible_keys(shared.at):  # none yet, or on another tab
            at = reveal(open_page(case.page), key)
            shared = SHARED[case.page] = Shared(at, charts(at), {})
        at, before = shared.at, shared.charts
        if shared.dirty and shared.dirty != key:
            widget(at, shared.dirty).set_value(shared.defaults[shared.dirty])
        shared.defaults.setdefault(key, widget(at, key).value)
        widget(at, key).set_value(case.value)
        shared.dirty = key
    at.run()
    for button in case.click:
        reveal(at, button).button(key=button).click().run()
    return at, before


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input(case: Case, smollm2):
    try:
        at, before = feed(case)
        assert not at.exception, [e.value for e in at.exception]
        shown = messages(at)
        if case.expect is None:
            assert not at.error, [e.value for e in at.error]
        else:
            assert any(case.expect.lower() in m.lower() for m in shown), shown
        if case.url:
            assert at.title, "the page still draws"
        elif case.keep and case.expect is not None:
            assert charts(at) >= before, "the results on screen survive"
    except BaseException:
        SHARED.pop(case.page, None)  # the next row of this page starts from a fresh page
        raise


def test_the_catalogue_is_big_and_covers_every_page():
    from app.lessons import available_lessons

    assert len(CASES) >= 60
    assert {case.page for case in CASES} == {lesson.slug for lesson in available_lessons()}
    assert len({case.id for case in CASES}) == len(CASES), "one id per row"
