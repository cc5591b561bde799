"""N-gram smoothing: counts, zero counts, where smoothing moves the mass, held-out perplexity (Lecture 3)."""

import hashlib

import pandas as pd
import streamlit as st

from app import ngram_views as views
from app.errors import friendly_errors
from app.lecture import (
    advanced_controls,
    clear_pins,
    export_buttons,
    pin,
    pinned,
    presets_bar,
    show_chart,
)
from app.navigation import require_entry_script
from app.resources import corpus_picker
from models.ngram import NGramConfig, same_vocabulary
from models.ngram_curves import perplexity_by_order
from models.ngram_smoothing import SMOOTHINGS
from models.text import tokenize_words

require_entry_script()

P = "ng_"  # this page's prefix for widget keys, query parameters and pins
STATE = "ng:"  # results (never stored under widget keys)
URL = dict(bind="query-params")
SENTENCE = "the city of new york is the largest city in the united states"
TABS = [
    "Counts and smoothing",
    "Kneser-Ney's idea",
    "Perplexity curves",
    "Score a sentence",
    "Generate",
    "Vocabulary cut",
]


@st.cache_resource(max_entries=3, show_spinner="Counting n-grams up to order 5…")
def counted(key, label, _sentences, fraction, seed, min_count) -> views.Data:
    return views.split_and_count(key, label, _sentences, fraction, seed, min_count)


@st.cache_data(max_entries=16, show_spinner="Held-out perplexity of every smoothing and order…")
def order_curves(key: str, _data: views.Data, k: float, discount: float) -> dict:
    return perplexity_by_order(_data.counts, _data.heldout_lookup, k=k, discount=discount)


@st.cache_data(max_entries=16, show_spinner=False)
def hyper_curves(key: str, _data: views.Data, order: int) -> dict:
    return views.hyperparameter_curves(_data, order)


@st.cache_data(max_entries=8, show_spinner=False)
def continuation(key: str, _data: views.Data) -> pd.DataFrame:
    return views.continuation_frame(_data.counts)


@st.cache_data(max_entries=8, show_spinner="Recounting with each min_count…")
def vocabulary_sweep(key: str, _data: views.Data, config: NGramConfig) -> pd.DataFrame:
    return views.vocabulary_sweep(_data, config)


st.title("🧮 N-gram smoothing")
st.markdown(
    "An n-gram model predicts each word from the **n − 1 words before it**, by counting. Counts alone "
    "(maximum likelihood) give **probability 0** to everything never seen after a context, so one new word "
    "pair makes a whole text impossible. **Smoothing** takes a little mass from what was seen and gives it "
    "to the unseen; **held-out perplexity** says which way of doing it generalises (lower is better, and "
    "only comparable over the same vocabulary)."
)
PRESETS = {
    "Lecture demo: add-one is terrible": {
        f"{P}smoothing": "add-k",
        f"{P}k": 1.0,
        f"{P}order": 3,
        f"{P}context": "of the",
        f"{P}logy": False,
        f"{P}zoom": False,
    },
    "Lecture demo: zero counts break MLE": {
        f"{P}smoothing": "MLE",
        f"{P}order": 3,
        f"{P}sentence": "the moon is made of green cheese",
    },
    "Lecture demo: Kneser-Ney vs absolute discounting": {
        f"{P}smoothing": "Kneser-Ney",
        f"{P}order": 2,
        f"{P}discount": 0.75,
        f"{P}context": "visited",
        f"{P}extra": "york angeles",
        f"{P}logy": True,
        f"{P}zoom": True,
    },
    "Lecture demo: the San Francisco effect": {
        f"{P}word": "york",
        f"{P}order": 2,
        f"{P}context": "new",
        f"{P}extra": "york",
    },
    "Lecture demo: the vocabulary cut": {f"{P}min_count": 5, f"{P}smoothing": "Kneser-Ney"},
}
for names in (list(PRESETS)[:3], list(PRESETS)[3:]):  # two rows, so the names fit
    presets_bar(P, {name: PRESETS[name] for name in names})

corpus_col, fraction_col, cut_col = st.columns([3, 2, 2])
with corpus_col:
    sentences = None
    with friendly_errors("Reading the corpus"):
        corpus_label, sentences = corpus_picker(P)
fraction = fraction_col.slider("Held-out fraction", 0.05, 0.5, 0.1, 0.05, key=f"{P}heldout", **URL)
min_count = cut_col.number_input(
    "Vocabulary cut: min_count",
    1,
    1000,
    1,
    key=f"{P}min_count",
    help="Words seen fewer times than this in training become <unk>.",
    **URL,
)
order_col, smoothing_col, k_col, d_col = st.columns([2, 3, 1, 1])
order = order_col.slider("Order n", 1, views.MAX_ORDER, 3, key=f"{P}order", **URL)
smoothing_name = smoothing_col.selectbox(
    "Smoothing",
    list(views.CHOICES),
    index=list(views.CHOICES).index("Kneser-Ney"),
    key=f"{P}smoothing",
    help="MLE: raw counts. Stupid backoff gives a score, not a probability (no perplexity).",
    **URL,
)
smoothing = views.CHOICES[smoothing_name]
k = k_col.number_input(
    "add-k: k", 0.0, 10.0, 1.0, 0.01, "%.4g", key=f"{P}k", help="1 = Laplace", **URL
)
discount = d_col.number_input(
    "Discount D",
    0.0,
    1.0,
    0.75,
    0.05,
    key=f"{P}discount",
    help="Absolute discounting and Kneser-Ney subtract D from every seen count.",
    **URL,
)
with advanced_controls():
    seed_col, backoff_col = st.columns(2)
    split_seed = seed_col.number_input("Split seed", 0, 1_000_000, 0, key=f"{P}split_seed", **URL)
    backoff = backoff_col.slider(
        "Stupid backoff factor", 0.05, 1.0, 0.4, 0.05, key=f"{P}backoff", **URL
    )

if sentences is not None:
    with friendly_errors("Splitting and counting the corpus"):
        choice = st.session_state.get(f"{P}corpus", "wiki")
        if choice == "user":
            text = "\n".join(" ".join(s) for s in sentences).encode("utf-8")
            choice = "user:" + hashlib.sha1(text).hexdigest()[:16]
        key = f"{choice}|{fraction}|{int(split_seed)}|{int(min_count)}"
        st.session_state[f"{STATE}data"] = counted(
            key, corpus_label, sentences, fraction, int(split_seed), int(min_count)
        )
with friendly_errors("Building the model"):
    st.session_state[f"{STATE}config"] = NGramConfig(
        order=int(order),
        smoothing=smoothing,
        k=float(k),
        discount=float(discount),
        backoff=float(backoff),
        min_count=int(min_count),
    )

data: views.Data | None = st.session_state.get(f"{STATE}data")
config: NGramConfig | None = st.session_state.get(f"{STATE}config")
if data is None or config is None:
    st.info("Pick a corpus and valid settings above; the lesson appears here.")
    st.stop()

# everything below is drawn from the last valid corpus and settings, so bad input keeps it on screen
models = None
with friendly_errors("Smoothing the counts"):
    curves = order_curves(data.key, data, config.k, config.discount)
    models = views.build_models(data, config, curves["lambdas"])
if models is None:
    st.stop()
main = models[config.smoothing]
perplexity = curves["perplexity"].get(config.smoothing, [None] * views.MAX_ORDER)[config.order - 1]
unk_rate = data.counts.unk_rate(data.heldout)
used = f"{views.TITLES[config.smoothing]}, n = {config.order}"

cols = st.columns(5)
cols[0].metric("Training words", f"{sum(map(len, data.train)):,}", help=data.label)
cols[1].metric("Held-out words", f"{sum(map(len, data.heldout)):,}")
cols[2].metric("Vocabulary", f"{len(data.counts.vocab):,}", help="with <s>, </s> and <unk>")
cols[3].metric("Held-out <unk> rate", f"{unk_rate:.2%}")
cols[4].metric(
    "Held-out perplexity",
    views.number(perplexity),
    help=used + (". Stupid backoff gives scores, not probabilities." if perplexity is None else ""),
)
tabs = st.tabs(TABS)

with tabs[0]:
    st.markdown(
        "For one context, the training **count** of each next word, its maximum-likelihood estimate "
        "c(h w) / c(h), and what each smoothing makes of it (same order, k and D). Smoothing lowers the "
        "seen words a little; the second chart shows **how much mass went to words never seen after the "
        "context**."
    )
    c1, c2, c3, c4 = st.columns([3, 3, 2, 1])
    context_text = c1.text_input(
        "Context: the words before the next one", "of the", key=f"{P}context", **URL
    )
    extra_text = c2.text_input(
        "Also show these next words", "", key=f"{P}extra", placeholder="york angeles", **URL
    )
    top = c3.slider("Top next words", 3, 30, 10, key=f"{P}top", **URL)
    log_y = c4.toggle("log scale", key=f"{P}logy", **URL)
    with friendly_errors("Reading the context"):
        words = tokenize_words(context_text)
        if not words and config.order > 1:
            raise ValueError(
                "The context is empty: type the word(s) before the next one, e.g. 'of the'."
            )
        extra = tokenize_words(extra_text)
        st.session_state[f"{STATE}context"] = views.side_by_side(models, words, top, extra)
    result = st.session_state.get(f"{STATE}context")
    if result is not None:
        n_read = result["order"] - 1
        st.markdown(
            f"An order-{result['order']} model reads the last {n_read} word(s): "
            f"**{' '.join(result['used']) or '(nothing: a unigram model ignores the context)'}**, "
            f"seen **{result['context_count']:,}** times in training."
        )
        if result["oov"]:
            st.info(f"Not in the vocabulary, read as <unk>: {', '.join(result['oov'])}.")
        if result["context_count"] == 0:
            st.info(
                "This context never appears in training: MLE has no estimate (0 / 0), and the smoothings "
                "fall back to shorter contexts. Frequent contexts here: "
                + ", ".join(f"'{s}'" for s in views.frequent_contexts(data.counts, max(n_read, 1)))
            )
        table = result["table"]
        figure = views.next_word_bars(table, list(SMOOTHINGS), log_y)
        show_chart(figure, table, "ngram-next-words", P, key=f"{P}chart-next-words")
        number_format = {views.SHORT[s]: "{:.4g}" for s in SMOOTHINGS}
        st.dataframe(table.style.format(number_format), hide_index=True, width="stretch")
        mass = result["mass"].drop(columns="key")
        show_chart(views.mass_bars(mass), mass, "ngram-unseen-mass", P, key=f"{P}chart-mass")
        st.caption(
            "Add-one hands most of the mass to the tens of thousands of unseen words. Stupid backoff "
            "(hatched) is a **score, not a probability**: its total is not 1, so it has no perplexity."
        )

with tabs[1]:
    st.markdown(
        "A unigram model asks *how often* a word occurs. Kneser-Ney's lower orders ask *after how many "
        "different words* it occurs: 'york' is frequent but nearly always follows 'new', so after a context "
        "never seen it is a bad guess. Words far below the dotted line are the 'San Francisco' words."
    )
    frame = continuation(data.key, data)
    h1, h2 = st.columns([3, 2])
    word_text = h1.text_input(
        "A word's left neighbours", "", key=f"{P}word", placeholder="the largest gap below", **URL
    )
    hide_starts = h2.toggle("Hide words that mostly open sentences", True, key=f"{P}starts", **URL)
    candidates = frame[frame["top left word"] != "(sentence start)"] if hide_starts else frame
    gaps = views.largest_gaps(candidates, min_count=10, top=15)
    words = tokenize_words(word_text)
    word = words[0] if words else (gaps["word"].iloc[0] if len(gaps) else "")
    marked = gaps["word"].head(8).tolist() + [word]
    figure = views.continuation_scatter(frame, marked, max_points=3000)
    points = frame.head(3000)  # the most frequent words, the ones drawn
    show_chart(figure, points, "ngram-continuation-counts", P, key=f"{P}chart-continuation")
    st.caption("The 3,000 most frequent words; hover a point for the word. Largest gaps:")
    gap_format = {
        "count per left word": "{:.1f}",
        "p unigram": "{:.2e}",
        "p continuation": "{:.2e}",
    }
    gap_format["top left share"] = "{:.0%}"
    st.dataframe(gaps.style.format(gap_format), hide_index=True, width="stretch")
    st.caption(
        "p continuation = distinct left words / all distinct word pairs: Kneser-Ney's unigram, before "
        "discounting. For these words it is far below p unigram."
    )
    with friendly_errors("Looking up the word"):
        if not word:
            st.session_state.pop(f"{STATE}word", None)
            st.info("No word here is seen 10 times or more: type one to see its left neighbours.")
        else:
            st.session_state[f"{STATE}word"] = (word, views.left_neighbours(data.counts, word, 15))
    if st.session_state.get(f"{STATE}word"):
        shown_word, neighbours = st.session_state[f"{STATE}word"]
        st.markdown(
            f"**The words right before '{shown_word}'** in training: few distinct ones means a low "
            "Kneser-Ney lower-order probability, however frequent the word is."
        )
        figure = views.left_neighbour_bars(neighbours, shown_word)
        show_chart(figure, neighbours, "ngram-left-neighbours", P, key=f"{P}chart-left")

with tabs[2]:
    st.markdown(
        "Held-out perplexity of every smoothing as the order grows (log scale; lower is better). Higher "
        "orders see more context but more of it is unseen: add-k collapses, the interpolated smoothings "
        "keep improving slowly. MLE is infinite at every order (some held-out n-gram has count 0) and "
        "stupid backoff has no perplexity, so neither is drawn. 📌 marks pinned models."
    )
    zoom = st.toggle("Zoom in on the interpolated smoothings (hide add-k)", key=f"{P}zoom", **URL)
    pins = [{**p["payload"], "label": p["label"]} for p in pinned(P)]
    pins = [p for p in pins if p["perplexity"] is not None]
    figure = views.order_curves_figure(curves, pins, hide=("add_k",) if zoom else ())
    frame = views.order_curve_frame(curves)
    show_chart(figure, frame, "ngram-perplexity-by-order", P, key=f"{P}chart-order")
    hyper = hyper_curves(data.key, data, config.order)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**add-k against k** (order {config.order}): a smaller k moves less mass.")
        figure = views.sweep_figure(
            hyper["k"]["k"], [hyper["k"]["perplexity"]], "k (log scale)", config.k, True, ["add_k"]
        )
        frame = pd.DataFrame(hyper["k"])
        show_chart(figure, frame, "ngram-perplexity-by-k", P, key=f"{P}chart-k")
    with right:
        st.markdown(
            f"**Discount D** (order {config.order}): one D, two ways to fill the lower orders."
        )
        names = ["kneser_ney", "absolute_discounting"]
        figure = views.sweep_figure(
            hyper["discount"],
            [hyper[n] for n in names],
            "discount D",
            config.discount,
            False,
            names,
        )
        frame = pd.DataFrame({n: hyper[n] for n in ["discount", *names]})
        show_chart(figure, frame, "ngram-perplexity-by-discount", P, key=f"{P}chart-discount")
    st.markdown(
        "**Interpolation weights**, fitted by EM on the held-out text (which flatters interpolation a "
        "little): how much each order's estimate counts when its context was seen."
    )
    weights = views.lambda_frame(curves["lambdas"])
    show_chart(views.lambda_bars(weights), weights, "ngram-lambdas", P, key=f"{P}chart-lambdas")
    d = models["modified_kneser_ney"].discounts
    st.caption(
        "Modified Kneser-Ney estimates its own discounts (D1, D2, D3+) per order from count-of-counts: "
        + "; ".join(f"order {n}: " + ", ".join(f"{x:.2f}" for x in d[n]) for n in sorted(d))
    )

with tabs[3]:
    st.markdown(
        f"Each token's {'probability' if main.is_distribution else 'score'} under the chosen model "
        f"({used}), green for likely, red for unlikely; below it, log10 and the longest n-gram found in "
        "training. Dashed tokens are outside the vocabulary and scored as <unk>; ⟨end⟩, the end of the "
        "sentence, is predicted too."
    )
    sentence = st.text_input(
        "Sentence to score", SENTENCE, key=f"{P}sentence", max_chars=2000, **URL
    )
    with friendly_errors("Scoring the sentence"):
        tokens = tokenize_words(sentence)
        if not tokens:
            raise ValueError("The sentence is empty: type some words to score.")
        scored = views.score_frame(main.score_tokens(tokens))
        st.session_state[f"{STATE}scores"] = (scored, used, main.is_distribution, config.order)
    if st.session_state.get(f"{STATE}scores"):
        scored, scored_with, is_distribution, scored_order = st.session_state[f"{STATE}scores"]
        word_name = "p" if is_distribution else "score"
        st.markdown(views.token_html(scored, word_name), unsafe_allow_html=True)
        oov = scored["out of vocabulary"].iloc[:-1]  # the words, not ⟨end⟩
        if oov.all():
            st.warning(
                "Every word is outside the vocabulary: the model only sees <unk>. The smoothed models "
                "still give it a small, finite probability (the share of the uniform distribution kept "
                "for <unk>); MLE gives it 0."
            )
        log10_total = float(scored["log10 p"].sum())
        m1, m2, m3 = st.columns(3)
        m1.metric(f"log10 {word_name}(sentence)", views.number(log10_total, 2), help=scored_with)
        if not is_distribution:
            m2.metric(
                "Perplexity", "not defined", help="stupid backoff scores are not probabilities"
            )
        elif log10_total > float("-inf"):
            m2.metric("Perplexity of this sentence", f"{10 ** (-log10_total / len(scored)):,.1f}")
        else:
            m2.metric("Perplexity of this sentence", "∞")
            st.warning(
                "A token has probability 0 (its n-gram was never seen and MLE keeps nothing for the "
                "unseen), so the whole sentence gets probability 0 and infinite perplexity. This is "
                "why we smooth."
            )
        m3.metric("Out-of-vocabulary words", int(oov.sum()))
        figure = views.token_bars(scored, scored_order, word_name)
        show_chart(figure, scored, "ngram-sentence-scores", P, key=f"{P}chart-scores")

with tabs[4]:
    st.markdown(
        "Sampling word by word from the chosen model. Temperature below 1 sharpens the distribution "
        "(safer, repetitive), above 1 flattens it (more surprising); the seed makes it repeatable. "
        "⏎ ends a sentence."
    )
    g1, g2, g3, g4 = st.columns([3, 2, 2, 1])
    start = g1.text_input("Start with (empty: a new sentence)", "", key=f"{P}start", **URL)
    n_words = g2.slider("Words", 5, 150, 40, key=f"{P}gen_words", **URL)
    temperature = g3.slider("Temperature", 0.1, 2.0, 1.0, 0.05, key=f"{P}temp", **URL)
    gen_seed = g4.number_input("Seed", 0, 1_000_000, 0, key=f"{P}gen_seed", **URL)
    with friendly_errors("Generating"):
        start_words = tokenize_words(start)
        generated = main.generate(n_words, int(gen_seed), temperature, context=start_words)
        about = f"{used}, temperature {temperature:g}, seed {int(gen_seed)}"
        st.session_state[f"{STATE}generated"] = (start_words, generated, about)
    if st.session_state.get(f"{STATE}generated"):
        start_words, generated, about = st.session_state[f"{STATE}generated"]
        prefix = f"**{' '.join(start_words)}** " if start_words else ""
        st.markdown(prefix + views.generated_text(generated))
        st.caption(
            about + ("" if main.is_distribution else " (stupid backoff's scores normalised)")
        )

with tabs[5]:
    st.markdown(
        "Words seen fewer than **min_count** times become <unk>. A harsher cut makes <unk> common and "
        "easy to predict, so perplexity drops **without the model getting better**: perplexities are "
        "only comparable over the same vocabulary. Pin a model, change min_count, and compare."
    )
    v1, v2, v3, v4 = st.columns(4)
    v1.metric("min_count", data.counts.min_count, help="Change it with the box at the top.")
    v2.metric("Vocabulary size", f"{len(data.counts.vocab):,}")
    v3.metric("Held-out <unk> rate", f"{unk_rate:.2%}")
    v4.metric("Held-out perplexity", views.number(perplexity))
    current = views.pin_payload(data, config, perplexity, unk_rate)
    b1, b2, _ = st.columns([2, 1, 2])
    if b1.button("📌 Pin this model (perplexity + vocabulary)", key=f"{P}pin"):
        label = (
            f"{views.SHORT[config.smoothing]} n={config.order}, min_count={data.counts.min_count}"
        )
        pin(P, f"{label}, {data.label}", current)
        st.rerun()  # redraw the earlier tabs with the new pin
    if b2.button("Clear pins", key=f"{P}clear"):
        clear_pins(P)
        st.rerun()
    if pinned(P):
        comparison = views.comparison_frame(current, pinned(P), same_vocabulary)
        comparison_format = {"held-out perplexity": "{:,.1f}", "<unk> rate": "{:.2%}"}
        st.dataframe(
            comparison.style.format(comparison_format, na_rep="not defined"),
            hide_index=True,
            width="stretch",
        )
        export_buttons(comparison, "ngram-pinned-models", P)
        different = comparison.loc[~comparison["same vocabulary"], "model"].tolist()
        if different:
            st.warning(
                f"Not comparable: {', '.join(different)} used a different vocabulary from the current "
                "model, so the perplexities measure different tasks (predicting <unk> is easier than "
                "predicting the rare word it hides)."
            )
    if st.button("Sweep min_count (recounts the corpus 6 times)", key=f"{P}sweep"):
        sweep_config = config if main.is_distribution else NGramConfig(order=config.order)
        with friendly_errors("Sweeping min_count"):
            sweep = vocabulary_sweep(data.key.rsplit("|", 1)[0], data, sweep_config)
            about = f"{views.TITLES[sweep_config.smoothing]}, order {sweep_config.order}"
            st.session_state[f"{STATE}sweep"] = (sweep, about)
    if st.session_state.get(f"{STATE}sweep"):
        sweep, about = st.session_state[f"{STATE}sweep"]
        figure = views.vocabulary_sweep_figure(sweep)
        show_chart(figure, sweep, "ngram-vocabulary-sweep", P, key=f"{P}chart-sweep")
        st.caption(
            f"{about}. Every point has its own vocabulary: the falling perplexity is the easier task, "
            "not a better model."
        )
