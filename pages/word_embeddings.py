"""Word embeddings (Lecture 2): one-hot against dense vectors, negative sampling made visible, word2vec
trained live, and its vectors evaluated beside gensim's."""

import hashlib
import json

import numpy as np
import pandas as pd
import streamlit as st

from app import word2vec_views as views
from app.errors import friendly_errors
from app.lecture import advanced_controls, presets_bar, show_chart
from app.navigation import require_entry_script
from app.resources import corpus_picker
from app.sidebar import current_device
from app.training import get_run, metric_chart, training_panel
from models.word2vec import Word2VecTrainer, noise_distribution
from models.word2vec_eval import explain_pair

require_entry_script()

P = "we_"  # this page's prefix for widget keys, query parameters and the kit's run
STATE = "we:"  # results (never stored under widget keys)
URL = dict(bind="query-params")
TABS = ["Corpus", "One-hot vs dense", "Negative sampling", "Train live", "Evaluate"]
SUBSAMPLES = [0.0, 1e-5, 1e-4, 1e-3, 1e-2]
GROUPS = "king queen prince princess; man woman boy girl; paris france berlin germany"
WIKI_GROUPS = GROUPS + "; january february july november"
MAX_WORDS = 12  # words in the cosine matrices

BASE = {
    "corpus": "wiki",
    "arch": "skipgram",
    "dim": 100,
    "window": 5,
    "neg": 5,
    "alpha": 0.75,
    "sample": 1e-3,
    "mincount": 5,
    "lr": 0.025,
    "epochs": 3,
    "groups": WIKI_GROUPS,
    "query": "january",
    "a": "he",
    "b": "his",
    "c": "she",
}


def preset(tab: str, **changes) -> dict:
    """A full set of settings (so a preset never inherits a stray value) and the tab to open."""
    return {f"{P}{key}": value for key, value in (BASE | changes).items()} | {f"{P}tab": tab}


TOY = dict(corpus="toy", dim=32, window=4, mincount=2, epochs=2, query="king", a="man", b="king")
TOY |= dict(c="woman", groups=GROUPS + "; walked walks ate eats")
PRESETS = {
    "Lecture demo: toy world analogies": preset("Train live", **TOY),
    "Lecture demo: skip-gram vs CBOW": preset("Train live", arch="cbow"),
    "Lecture demo: 5 vs 15 negatives": preset("Train live", **TOY, neg=15),
    "Lecture demo: no subsampling": preset("Corpus", sample=0.0),
    "Lecture demo: unigram noise (α = 1)": preset("Negative sampling", alpha=1.0),
}


@st.cache_data(max_entries=8, show_spinner="Counting the words…")
def vocabulary(key: str, _sentences: list) -> tuple[pd.DataFrame, dict]:
    return views.vocabulary_stats(_sentences)


@st.cache_resource(max_entries=2, show_spinner="Building the vocabulary and the initial vectors…")
def initial_trainer(key: str, _sentences: list, _settings: dict) -> Word2VecTrainer:
    """An untrained trainer (read-only: explain_pair never updates it) for the view before training."""
    return Word2VecTrainer(_sentences, views.make_config(_settings), "cpu")


@st.cache_resource(max_entries=4, show_spinner=False)
def gensim_result(key: str, _sentences: list, _settings: dict) -> dict:
    wv, seconds = views.train_gensim(_sentences, _settings)
    return {"wv": wv, "seconds": seconds, "scores": views.evaluate(wv, _settings["corpus"])}


def settings_key(values: dict) -> str:
    return json.dumps(values, sort_keys=True)


def vectors_of(run):
    """The run's word vectors, snapshotted once per chunk."""
    key = (run.run_id, run.steps_done)
    cached = st.session_state.get(f"{STATE}kv")
    if cached is None or cached[0] != key:
        cached = (key, run.trainer.model.keyed_vectors())
        st.session_state[f"{STATE}kv"] = cached
    return cached[1]


def pick_pair(sentences, vocabulary_words, arch, window) -> None:
    """on_click: fill the example's words with a real (centre, context) pair from the corpus."""
    draws = st.session_state.get(f"{STATE}draws", 0) + 1
    st.session_state[f"{STATE}draws"] = draws
    centre, context = views.corpus_pair(sentences, vocabulary_words, arch, window, seed=draws)
    st.session_state[f"{P}centre"], st.session_state[f"{P}context"] = centre, " ".join(context)


st.title("🧭 Word embeddings")
st.markdown(
    "A **one-hot** vector gives each word its own axis: *cat* and *dog* are as unrelated as *cat* and "
    "*democracy*, and a vocabulary of 10,000 words needs 10,000 numbers per word. **Word2vec** learns "
    "a short dense vector per word instead, trained so that a word's vector predicts its neighbours; "
    "words used in similar contexts end up close, and directions in the space carry meaning "
    "(*king − man + woman ≈ queen*, when the corpus says so)."
)
names = list(PRESETS)
presets_bar(P, {name: PRESETS[name] for name in names[:3]})
presets_bar(P, {name: PRESETS[name] for name in names[3:]})

# ============================================================================ corpus and hyperparameters
c_corpus, c_arch, c_epochs = st.columns([4, 2, 1])
with c_corpus:
    with friendly_errors("Reading the corpus"):
        label, picked = corpus_picker(P)
        choice = st.session_state.get(f"{P}corpus", "wiki")
        if choice == "user":
            text = "\n".join(" ".join(s) for s in picked).encode("utf-8")
            choice = "user:" + hashlib.sha1(text).hexdigest()[:16]
        st.session_state[f"{STATE}corpus"] = (choice, label, picked)
arch = c_arch.radio(
    "Architecture",
    list(views.ARCHITECTURES),
    format_func=views.ARCHITECTURES.get,
    horizontal=True,
    key=f"{P}arch",
    help="Skip-gram: each context word predicts the centre word. CBOW: the mean of the context "
    "words' vectors predicts it.",
    **URL,
)
epochs = c_epochs.number_input("Epochs", 1, 50, 3, key=f"{P}epochs", **URL)
h = st.columns(7)
dim = h[0].number_input(
    "Dimension d", 1, 300, 100, key=f"{P}dim", help="Numbers per word vector", **URL
)
window = h[1].slider(
    "Window", 1, 20, 5, key=f"{P}window", help="Largest distance of a context word", **URL
)
negatives = h[2].slider(
    "Negatives K", 1, 25, 5, key=f"{P}neg", help="Noise words per true pair", **URL
)
exponent = h[3].slider(
    "Noise exponent α",
    0.0,
    1.0,
    0.75,
    0.05,
    key=f"{P}alpha",
    help="Noise words are drawn with probability ∝ count^α (1 = unigram, 0 = uniform)",
    **URL,
)
subsample = h[4].selectbox(
    "Subsampling t",
    SUBSAMPLES,
    index=SUBSAMPLES.index(1e-3),
    format_func=lambda t: "off" if t == 0 else f"{t:g}",
    key=f"{P}sample",
    help="Words more frequent than t are dropped at random (0 = off)",
    **URL,
)
min_count = h[5].number_input(
    "min_count", 1, 10_000, 5, key=f"{P}mincount", help="Rarer words are left out", **URL
)
lr = h[6].number_input(
    "Learning rate", 0.001, 0.5, 0.025, 0.005, "%.3f", key=f"{P}lr", help="Decays linearly", **URL
)
with advanced_controls():
    a1, a2, _ = st.columns(3)
    seed = a1.number_input("Seed", 0, 1_000_000, 0, key=f"{P}seed", **URL)
    batch_size = a2.number_input(
        "Batch size (0 = automatic)",
        0,
        65_536,
        0,
        key=f"{P}batch",
        help="Training pairs per SGD step (CBOW: windows). Automatic: 1,024 on a CPU, more on a GPU.",
        **URL,
    )

stored_corpus = st.session_state.get(f"{STATE}corpus")
if stored_corpus is None:
    st.info("Pick a corpus (or paste a text) above; the lesson appears here.")
    st.stop()
corpus_key, corpus_label, sentences = stored_corpus
if corpus_key != st.session_state.get(f"{P}corpus", "wiki") and not corpus_key.startswith("user:"):
    st.caption(f"Still using the last corpus that worked: {corpus_label}.")
frame, stats = vocabulary(corpus_key, sentences)
vocab = views.in_vocabulary(frame, int(min_count))
device = current_device()
settings = {
    "corpus": corpus_key,
    "arch": arch,
    "dim": int(dim),
    "window": int(window),
    "negatives": int(negatives),
    "ns_exponent": float(exponent),
    "subsample": float(subsample),
    "min_count": int(min_count),
    "lr": float(lr),
    "epochs": int(epochs),
    "seed": int(seed),
    "batch_size": int(batch_size),
}
if vocab.empty:
    st.warning(
        f"No word of {corpus_label} occurs min_count = {min_count} times (the most frequent occurs "
        f"{int(frame['count'].max()) if len(frame) else 0:,} times): the vocabulary is empty. "
        "Lower min_count or use a larger corpus."
    )
elif window >= stats["longest"]:
    st.warning(
        f"The window ({window}) reaches past every sentence: the longest has {stats['longest']} "
        "words, so every context is already the whole sentence and a larger window changes nothing."
    )

tabs = st.tabs(TABS, key=f"{P}tab", **URL)
run = get_run(P)

# ============================================================================ Corpus
with tabs[0]:
    st.markdown(
        "Word2vec learns from counts of who-appears-near-whom, so first look at the words. A few "
        "words are very frequent and most are rare (**Zipf's law**: count ∝ 1/rank). Words rarer "
        "than min_count get no vector, and the very frequent ones (*the*, *of*) are **subsampled**: "
        "dropped at random, which speeds training and lets the rarer words' contexts count more."
    )
    m = st.columns(6)
    m[0].metric("Sentences", f"{stats['sentences']:,}", help=corpus_label)
    m[1].metric("Words (tokens)", f"{stats['tokens']:,}")
    m[2].metric("Distinct words", f"{stats['distinct']:,}")
    m[3].metric(f"Vocabulary (≥ {min_count}×)", f"{len(vocab):,}")
    m[4].metric(
        "Tokens in the vocabulary",
        f"{vocab['count'].sum() / max(stats['tokens'], 1):.1%}",
        help="The rest are rarer than min_count and skipped",
    )
    kept = views.kept_share(frame, int(min_count), float(subsample))
    m[5].metric(
        "Kept by subsampling",
        "–" if np.isnan(kept) else f"{kept:.1%}",
        help="Expected share of the in-vocabulary tokens left in each epoch",
    )
    left, right = st.columns(2)
    with left:
        slope, intercept = views.zipf_fit(frame, int(min_count))
        points = views.zipf_frame(frame)
        show_chart(
            views.zipf_figure(points, int(min_count), slope, intercept, len(frame)),
            points,
            "w2v-zipf",
            P,
        )
        st.caption(
            f"A straight line on log-log axes is a power law; the fitted slope is {slope:.2f} "
            "(Zipf's law says about −1). Below the dotted line: no vector for these words."
        )
    with right:
        if vocab.empty:
            st.info("The vocabulary is empty at this min_count: nothing to subsample.")
        else:
            rows = views.keep_frame(frame, int(min_count), float(subsample))
            show_chart(views.keep_figure(rows, float(subsample)), rows, "w2v-subsampling", P)
            st.caption(
                "Each occurrence of a word with frequency f is kept with probability "
                "(√(f/t) + 1)·t/f (capped at 1): words below about 2.6·t are always kept."
                if subsample > 0
                else "Subsampling is off: every occurrence is kept, so *the* and *of* dominate "
                "the training pairs."
            )

# ============================================================================ One-hot vs dense
with tabs[1]:
    st.markdown(
        "The cosine similarity of two one-hot vectors is always 0: they share no non-zero entry, so "
        "every pair of different words is equally unrelated. Learned vectors share their d "
        "dimensions, so their cosines can say that *king* is closer to *queen* than to *france*."
    )
    words_text = st.text_input(
        f"Words to compare (up to {MAX_WORDS})",
        "king queen man woman paris france",
        key=f"{P}words",
        **URL,
    )
    kv = vectors_of(run) if run is not None else None
    known_words = set(kv.index_to_word) if kv is not None else set(vocab["word"])
    words = views.parse_words(words_text)[:MAX_WORDS]
    missing = [w for w in words if w not in known_words]
    words = [w for w in words if w in known_words]
    if missing:
        st.warning(
            f"Not in the vocabulary (absent from the corpus or rarer than min_count): "
            f"{', '.join(missing)}."
        )
    if not words:
        st.info("Type a few words of the corpus to compare, e.g. king queen man woman.")
    else:
        left, right = st.columns(2)
        with left:
            identity = np.eye(len(words))
            show_chart(
                views.cosine_figure(identity, words, "One-hot vectors: cosine similarity"),
                views.cosine_frame(identity, words),
                "w2v-onehot-cosines",
                P,
            )
            n_vocab = len(kv) if kv is not None else len(vocab)
            st.caption(
                f"Each one-hot vector has V = {n_vocab:,} entries, {n_vocab - 1:,} of them 0: the "
                "matrix is the identity whatever the words."
            )
        with right:
            if kv is None:
                st.info(
                    "Train first (the **Train live** tab): the learned cosine similarities of "
                    "these words appear here, from the current or last training run."
                )
            else:
                cosines = views.learned_cosines(kv, words)
                state = "training" if run.running else f"step {run.steps_done}/{run.total_steps}"
                show_chart(
                    views.cosine_figure(
                        cosines, words, f"Learned vectors (d = {kv.vectors.shape[1]})"
                    ),
                    views.cosine_frame(cosines, words),
                    "w2v-dense-cosines",
                    P,
                )
                st.caption(
                    f"From the run '{run.label}' ({state}); each vector has "
                    f"{kv.vectors.shape[1]} entries, none of them 0. On a small corpus all "
                    "cosines are high (the vectors share a common direction): what carries "
                    "meaning is which words are closer than others."
                )

# ============================================================================ Negative sampling
with tabs[2]:
    st.markdown(
        "A softmax over the whole vocabulary is expensive. **Negative sampling** turns each training "
        "pair into K + 1 yes/no questions: is *this* the word that appeared here? The true word "
        "should get σ(u·v) near 1, and K **noise words**, drawn from count^α, near 0. The exponent "
        "α = 0.75 flattens the unigram distribution: frequent words are drawn less often than "
        "their share, rare words more often."
    )
    if vocab.empty:
        st.info(
            "The vocabulary is empty at this min_count: lower it to see the noise distribution."
        )
    else:
        noise_rows = views.noise_frame(frame, int(min_count), float(exponent), top=20)
        show_chart(views.noise_figure(noise_rows, float(exponent)), noise_rows, "w2v-noise", P)
        counts = vocab["count"].to_numpy()
        unigram = counts / counts.sum()
        noise = noise_distribution(counts, float(exponent))
        n1, n2, n3 = st.columns(3)
        n1.metric("10 most frequent words, share of the corpus", f"{unigram[:10].sum():.1%}")
        n2.metric(f"… share of the noise draws (α = {exponent:g})", f"{noise[:10].sum():.1%}")
        n3.metric(
            f"A word seen {int(counts[-1])} times is drawn",
            f"× {noise[-1] / unigram[-1]:.1f}",
            help="its noise probability over its unigram share",
        )

        st.subheader("One training example under the microscope")
        e1, e2, e3, e4 = st.columns([2, 3, 1, 2])
        centre_text = e1.text_input(
            "Centre word", "", key=f"{P}centre", placeholder="from the corpus", **URL
        )
        context_text = e2.text_input(
            "Context word(s)",
            "",
            key=f"{P}context",
            placeholder="skip-gram: one word; CBOW: the window's words",
            **URL,
        )
        noise_seed = e3.number_input("Noise seed", 0, 10_000, 0, key=f"{P}noiseseed", **URL)
        same_corpus_run = run is not None and run.settings["corpus"] == corpus_key
        with friendly_errors("Explaining the example"):
            if same_corpus_run:
                trainer = run.trainer.model
                source = f"the vectors of the run '{run.label}' at step {run.steps_done}"
            else:
                trainer = initial_trainer(settings_key(settings), sentences, settings)
                source = (
                    "the **initial** vectors: the output vectors start at 0, so every σ is 0.5 and "
                    "every loss term log 2 = 0.693 until you train (the **Train live** tab)"
                )
            e4.button(
                "🎲 A real pair from the corpus",
                on_click=pick_pair,
                args=(
                    sentences,
                    set(trainer.vocab.words),
                    trainer.config.arch,
                    trainer.config.window,
                ),
                width="stretch",
                key=f"{P}drawpair",
            )
            centre_words, context_words = (
                views.parse_words(centre_text),
                views.parse_words(context_text),
            )
            if not centre_words and not context_words:
                centre, context = views.corpus_pair(
                    sentences,
                    set(trainer.vocab.words),
                    trainer.config.arch,
                    trainer.config.window,
                    seed=0,
                )
            elif not centre_words or not context_words:
                raise ValueError("Type both a centre word and at least one context word.")
            else:
                centre, context = centre_words[0], context_words
            if trainer.config.arch == "skipgram" and len(context) > 1:
                st.caption(
                    f"Skip-gram pairs the centre with one context word at a time: using "
                    f"'{context[0]}'. (CBOW averages the whole window.)"
                )
                context = context[:1]
            explanation = explain_pair(
                trainer, centre, context, negatives_k=trainer.config.negatives, seed=int(noise_seed)
            )
            st.session_state[f"{STATE}explain"] = (explanation, source, trainer.config.arch)
        stored = st.session_state.get(f"{STATE}explain")
        if stored is not None:
            explanation, source, used_arch = stored
            rows = views.explain_frame(explanation)
            context_shown = " ".join(explanation["context_words"])
            hidden = (
                f"the input vector of '{context_shown}'"
                if len(explanation["context_words"]) == 1
                else f"the mean input vector of '{context_shown}'"
            )
            st.markdown(
                f"**{views.ARCHITECTURES[used_arch]}** example: {hidden} is scored against the "
                f"output vector of the true centre word **'{explanation['centre_word']}'** and "
                f"of {len(rows) - 1} noise words. Computed with {source}."
            )
            left, right = st.columns(2)
            with left:
                show_chart(views.explain_figure(rows), rows, "w2v-example", P)
            with right:
                hidden_columns = ["role"] + ([] if rows["skipped"].any() else ["skipped"])
                st.dataframe(
                    rows.drop(columns=hidden_columns).style.format(
                        {
                            "P(noise)": "{:.2e}",
                            "dot u·v": "{:.3f}",
                            "σ(dot)": "{:.3f}",
                            "loss term": "{:.3f}",
                            "label − σ": "{:+.3f}",
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                )
                st.metric(
                    "Loss of this example",
                    f"{explanation['loss']:.3f}",
                    help="−log σ(u·v_true) − Σ log σ(−u·v_noise), in nats",
                )
                st.caption(
                    "The update moves each output vector along the hidden vector by "
                    f"lr × (label − σ), lr = {explanation['lr']:.4f} now: the true word is pulled "
                    "closer, the noise words pushed away. A noise word equal to the true word "
                    "is skipped."
                )


# ============================================================================ Train live
def draw_projection(run, kv) -> None:
    with friendly_errors("Projecting the vectors"):
        groups = views.parse_groups(groups_text)
        points, unknown = views.projection_points(kv, groups, int(top_n))
        dims = 3 if three_d else 2
        method = projection
        if method != "pca" and run.running:
            method = "pca"
            st.caption(
                f"{views.PROJECTIONS[projection]} is slow: it is computed when training is paused "
                "or finished. PCA meanwhile."
            )
        vectors = kv.vectors[[kv.index(w) for w in points["word"]]]
        if method == "pca":
            coords, axes = views.project(vectors, "pca", dims, int(seed))
        else:
            key = (run.run_id, run.steps_done, method, dims, tuple(points["word"]))
            cached = st.session_state.get(f"{STATE}projection")
            if cached is None or cached[0] != key:
                spinner = f"Computing {views.PROJECTIONS[method]} of {len(points)} words…"
                if method == "umap":
                    spinner += " (the first UMAP compiles its code: up to ~20 s)"
                with st.spinner(spinner):
                    cached = (key, views.project(vectors, method, dims, int(seed)))
                st.session_state[f"{STATE}projection"] = cached
            coords, axes = cached[1]
        for i, column in enumerate("xyz"[:dims]):
            points[column] = coords[:, i]
        epoch = run.trainer.model.progress * run.trainer.model.config.epochs
        title = f"{views.PROJECTIONS[method]} of {len(points)} word vectors, epoch {epoch:.2f}"
        show_chart(views.projection_figure(points, axes, title), points, "w2v-projection", P)
        if unknown:
            st.warning(f"Not in the vocabulary, so not drawn: {', '.join(unknown)}.")


def draw_neighbours(run, kv) -> None:
    with friendly_errors("Nearest neighbours"):
        words = views.parse_words(query)
        if not words:
            raise ValueError("Type a word to see its nearest neighbours.")
        st.session_state[f"{STATE}neighbours"] = (
            words[0],
            run.steps_done,
            views.neighbours_frame(kv, words[0]),
        )
    stored = st.session_state.get(f"{STATE}neighbours")
    if stored is not None:
        word, step, table = stored
        st.markdown(f"**Nearest neighbours of '{word}'** (cosine similarity, step {step})")
        st.dataframe(table.style.format({"cosine": "{:.3f}"}), hide_index=True, width="stretch")


def draw_analogy(run, kv) -> None:
    with friendly_errors("The analogy"):
        a, b, c = (views.parse_words(x)[:1] for x in (word_a, word_b, word_c))
        if not (a and b and c):
            raise ValueError("Type the three words of the analogy a : b :: c : ?")
        table = views.analogy_frame(kv, a[0], b[0], c[0])
        st.session_state[f"{STATE}analogy"] = ((a[0], b[0], c[0]), run.steps_done, table)
    stored = st.session_state.get(f"{STATE}analogy")
    if stored is not None:
        (a, b, c), step, table = stored
        st.markdown(
            f"**{a} : {b} :: {c} : ?** — the words closest to {b} − {a} + {c} (step {step}), "
            "the three query words excluded"
        )
        st.dataframe(table.style.format({"cosine": "{:.3f}"}), hide_index=True, width="stretch")


def render_training(run) -> None:
    model, kv = run.trainer.model, vectors_of(run)
    last = run.history[-1] if run.history else {}
    m = st.columns(4)
    m[0].metric("Epoch", f"{model.progress * model.config.epochs:.2f} / {model.config.epochs}")
    m[1].metric("Learning rate", f"{model.lr:.4f}", help="Decays linearly with the words read")
    m[2].metric("Words / s", f"{last.get('words_per_s', 0):,.0f}", help=f"on {run.device}")
    loss = last.get("loss", float("nan"))
    m[3].metric(
        "Loss (last chunk)",
        "–" if np.isnan(loss) else f"{loss:.3f}",
        help="Mean over examples of −log σ(u·v) − Σ log σ(−u·n), K + 1 terms each",
    )
    left, right = st.columns([2, 3])
    with left:
        figure = metric_chart(run, "loss", P, "Negative-sampling loss per example", x="epochs")
        show_chart(figure, run.history_frame(), "w2v-loss", P)
        st.caption(
            "The loss falls as the true words score higher and the noise lower. It starts at "
            "(K + 1)·log 2 (all outputs 0); with more negatives it sits higher, so compare runs "
            "with the same K. 📌 marks pinned runs."
        )
    with right:
        draw_projection(run, kv)
    n_col, a_col = st.columns(2)
    with n_col:
        draw_neighbours(run, kv)
    with a_col:
        draw_analogy(run, kv)


with tabs[3]:
    st.markdown(
        "Press **▶ Start** and watch the space organise itself: the loss falls, words of a group "
        "drift together in the projection, and the neighbours and the analogy change as you "
        "watch. **Compare**: 📌 pin a run, change one setting (skip-gram → CBOW, 5 → 15 "
        "negatives), train again with the same seed, and the loss curves overlay."
    )
    v1, v2, v3, v4 = st.columns([5, 2, 1, 2])
    groups_text = v1.text_input(
        "Words to highlight (groups separated by ;)", WIKI_GROUPS, key=f"{P}groups", **URL
    )
    projection = v2.selectbox(
        "Projection",
        list(views.PROJECTIONS),
        format_func=views.PROJECTIONS.get,
        key=f"{P}proj",
        help="PCA is redrawn every chunk. t-SNE and UMAP (slow, non-linear) are computed when "
        "training is paused or finished.",
        **URL,
    )
    three_d = v3.toggle("3D", key=f"{P}3d", **URL)
    top_n = v4.slider("Frequent words drawn", 0, 1000, 300, 50, key=f"{P}topn", **URL)
    q1, q2, q3, q4 = st.columns([2, 1, 1, 1])
    query = q1.text_input("Nearest neighbours of", "january", key=f"{P}query", **URL)
    word_a = q2.text_input("Analogy a", "he", key=f"{P}a", **URL)
    word_b = q3.text_input("is to b", "his", key=f"{P}b", **URL)
    word_c = q4.text_input("as c is to ?", "she", key=f"{P}c", **URL)
    st.caption(
        f"{views.ARCHITECTURES[arch]}, d = {dim}, window {window}, K = {negatives}, α = {exponent:g}, "
        f"t = {subsample:g}, min_count {min_count}, lr {lr:g}, {epochs} epoch(s) on {corpus_label}. "
        f"One step = 1% of an epoch."
    )
    training_panel(
        P,
        lambda: views.build_trainer(sentences, settings, device),
        int(epochs) * views.TICKS_PER_EPOCH,
        settings,
        render_training,
        device=device,
        label=f"{views.ARCHITECTURES[arch]}, d={dim}, K={negatives}, {corpus_label}",
    )

# ============================================================================ Evaluate
with tabs[4]:
    st.markdown(
        "**Intrinsic evaluation**: do cosine similarities agree with people's similarity ratings "
        "(WordSim-353 mixes relatedness and similarity; SimLex-999 asks for similarity only), and "
        "does b − a + c land on d in analogy questions? Only items whose words are all in the "
        "vocabulary count, so the **coverage** matters: a small corpus knows few test words. Beside "
        "our vectors: gensim's C implementation of word2vec, same corpus, same settings."
    )
    run = get_run(P)
    if run is None or not run.history:
        st.info("Train first (the **Train live** tab): the scores of the current run appear here.")
    else:
        evals = st.session_state.setdefault(f"{STATE}evals", {})
        entry = evals.get(run.run_id)
        if run.running:
            st.caption("Training is running: the scores are computed when it pauses or finishes.")
        elif entry is None or entry["steps"] != run.steps_done:
            with friendly_errors("Evaluating the vectors"):
                with st.spinner("Scoring the vectors on WordSim-353, SimLex-999 and analogies…"):
                    result = views.evaluate(vectors_of(run), run.settings["corpus"])
                model = run.trainer.model
                evals[run.run_id] = entry = {
                    "label": run.label,
                    "steps": run.steps_done,
                    "epochs": model.progress * model.config.epochs,
                    "seconds": run.elapsed_s,
                    "settings": dict(run.settings),
                    "scores": result,
                }
                for old in list(evals)[:-6]:  # the last six runs are kept for comparison
                    del evals[old]
        if entry is not None:
            run_settings = entry["settings"]
            same_corpus = run_settings["corpus"] == corpus_key
            g1, g2 = st.columns([2, 3])
            clicked = g1.button(
                "Train gensim with the same settings",
                key=f"{P}gensim",
                disabled=not same_corpus,
                help=None if same_corpus else "Switch back to the run's corpus first.",
            )
            gensim_key = settings_key(run_settings)
            if clicked:
                with friendly_errors("Training gensim"):
                    with st.spinner("gensim's Word2Vec is training on the same corpus…"):
                        gensim_result(gensim_key, sentences, run_settings)
                    st.session_state[f"{STATE}gensim"] = gensim_key
            gensim = None
            if st.session_state.get(f"{STATE}gensim") == gensim_key and same_corpus:
                gensim = gensim_result(gensim_key, sentences, run_settings)
            g2.caption(
                "gensim ignores our batch size (it updates after every pair, one C thread); both "
                "times count training only, not building the vocabulary."
            )
            results = {"ours": entry["scores"]} | ({"gensim": gensim["scores"]} if gensim else {})
            rows = pd.DataFrame(
                [row for name, result in results.items() for row in views.score_rows(result, name)]
            )
            t1, t2, t3 = st.columns(3)
            t1.metric(
                "Our training time",
                f"{entry['seconds']:.2f} s",
                help=f"torch on {run.device}, {entry['epochs']:.2f} of {run_settings['epochs']} "
                "epochs",
            )
            if gensim:
                t2.metric("gensim's training time", f"{gensim['seconds']:.2f} s", help="1 worker")
            if entry["epochs"] < run_settings["epochs"] - 1e-6:
                t3.warning(
                    f"Our run stopped at epoch {entry['epochs']:.2f} of {run_settings['epochs']}: "
                    "finish it for a fair comparison."
                )
            left, right = st.columns([3, 2])
            with left:
                show_chart(views.scores_figure(rows), rows, "w2v-scores", P)
            with right:
                st.dataframe(views.scores_display(rows), hide_index=True, width="stretch")
                if entry["scores"]["analogy_set"] == "toy":
                    sections = pd.DataFrame(entry["scores"]["analogies"]["sections"])
                    st.markdown("**Toy-world analogies by section** (ours)")
                    st.dataframe(
                        sections[["section", "correct", "covered", "accuracy"]].style.format(
                            {"accuracy": "{:.0%}"}
                        ),
                        hide_index=True,
                        width="stretch",
                    )
            benchmark = "wordsim" if entry["scores"]["wordsim"]["pairs_used"] >= 3 else None
            if benchmark:
                pairs = pd.concat(
                    [
                        pd.DataFrame(r[benchmark]["pairs"]).assign(model=n)
                        for n, r in results.items()
                    ]
                )
                show_chart(views.pairs_figure(results, benchmark), pairs, "w2v-wordsim-pairs", P)
            if len(evals) > 1:
                st.markdown("**Runs scored in this session** (compare settings side by side)")
                table = views.runs_frame(list(evals.values()))
                st.dataframe(table.round(3), hide_index=True, width="stretch")
            kv = vectors_of(run)
            st.download_button(
                f"⬇ the vectors ({len(kv):,} words × {kv.vectors.shape[1]}, word2vec text format)",
                lambda: views.word2vec_text(kv),
                file_name="word2vec-vectors.txt",
                mime="text/plain",
                key=f"{P}download",
                on_click="ignore",
            )
