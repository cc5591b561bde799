"""Tab "Static vs contextual": one word in several sentences, its vector at every layer of a transformer."""

import numpy as np
import pandas as pd
import streamlit as st

from app.lessons.embedding_spaces import figures, spaces
from app.page import LessonPage
from models.embedding_spaces.spaces import cosine_matrix, sense_cosines

TITLE = "Static vs contextual"
LAYERS = {"minilm": 6, "smollm2": 30}
BANK = (
    "river | We had a picnic on the bank of the river.\n"
    "river | The boat drifted toward the muddy bank.\n"
    "river | Fishermen lined the bank of the stream at dawn.\n"
    "money | She deposited her salary at the bank.\n"
    "money | The bank raised its interest rates again.\n"
    "money | He asked the bank for a loan to buy a house."
)


def follow_word(model_name: str, device: str, word: str, text: str):
    word = spaces.check_word(word)
    senses, sentences = spaces.parse_senses(text)
    found = spaces.occurrences(model_name, device, tuple(sentences), word)
    labels = [senses[i] for i in found.sentence_index]
    return found, labels


def layer_map(found, labels: list[str], layer: int, static: np.ndarray | None):
    """PCA of the occurrences at `layer`, with the static token vector projected on the same axes."""
    vectors = found.vectors(layer)  # (N, d)
    coordinates, axes = spaces_pca(vectors)
    rows = []
    for n, (i, sense) in enumerate(zip(found.sentence_index, labels)):
        rows.append(
            {
                "sense": sense,
                "label": f"s{i + 1}",
                "sentence": found.sentences[i],
                "x": coordinates[n, 0],
                "y": coordinates[n, 1],
            }
        )
    if static is not None:
        centred = static - vectors.mean(0)
        directions = np.linalg.svd(vectors - vectors.mean(0), full_matrices=False)[2][:2]
        x, y = (directions @ centred).tolist() + [0.0] * (2 - len(directions))
        rows.append({"sense": "static", "label": "static", "sentence": "", "x": x, "y": y})
    return pd.DataFrame(rows), axes


def spaces_pca(vectors):
    coordinates, axes = figures.pca(vectors, 2)
    if coordinates.shape[1] < 2:  # one occurrence: a single point
        coordinates = np.hstack([coordinates, np.zeros((len(coordinates), 2 - coordinates.shape[1]))])
        axes = axes + ["PC2"] * (2 - len(axes))
    return coordinates, axes


def render(page: LessonPage) -> None:
    st.markdown(
        "A static space gives a word **one** vector whatever its sentence. A transformer's hidden state at "
        "layer ℓ is that word's vector *in this sentence*. Label each sentence with its sense "
        "(`sense | sentence`) to see, layer by layer, whether occurrences of one sense end up closer to each "
        "other than to the other senses. **Which context a vector sees** is the lecture's core distinction: "
        "SmolLM2 is a causal (left-to-right) model, so its vector for *bank* has read only the words before it, "
        "as GPT's and ELMo's forward LSTM's do; MiniLM is a BERT encoder, trained to fill in masked words, so "
        "its vector has read the whole sentence, both sides. A sense that only the words after the word reveal "
        "(“the bank of the river”) can separate in MiniLM and not in SmolLM2."
    )
    left, right = st.columns([1, 2])
    with left:
        model_name = page.widget(
            st.selectbox,
            "context_model",
            "Model",
            list(spaces.MODELS),
            default="minilm",
            format_func=spaces.MODELS.get,
        )
        word = page.widget(st.text_input, "context_word", "Word", default="bank")
        top = LAYERS[model_name]
        if page.value("layer", top) > top:
            page.set_value("layer", top)
        layer = page.widget(st.slider, "layer", "Layer shown in the map and matrix", 0, top, default=6)
    with right:
        text = page.widget(
            st.text_area,
            "context_sentences",
            "Sentences (sense | sentence, one per line)",
            default=BANK,
            height=180,
        )
    result = page.compute("contextual", "Following the word", follow_word, model_name, page.device, word, text)
    if result is None:
        return
    found, labels = result
    layer = min(layer, len(found.hidden) - 1)
    rows = sense_cosines(found, labels)
    static_space = spaces.token_space(model_name, page.device)
    static = static_space[found.word] if found.word in static_space else None
    top_row = rows[layer]
    cols = st.columns(3)
    cols[0].metric(
        "Occurrences found",
        len(labels),
        f"in {len(set(found.sentence_index))} sentences",
        delta_color="off",
        delta_arrow="off",
    )
    cols[1].metric(
        f"Same sense, layer {layer}",
        f"{top_row['same_sense']:.2f}",
        "mean cosine",
        delta_color="off",
        delta_arrow="off",
    )
    cols[2].metric(
        f"Different senses, layer {layer}",
        f"{top_row['different_sense']:.2f}",
        "mean cosine",
        delta_color="off",
        delta_arrow="off",
    )
    if len(set(labels)) > 1:
        page.chart(
            figures.sense_layers_figure(rows, found.word, spaces.MODELS[model_name]),
            pd.DataFrame(rows),
            "senses",
        )
    split = [p for p in found.pieces if len(p) > 1]
    if split:
        st.caption(
            f"“{found.word}” is split into {' + '.join(split[0])} here: each occurrence is the mean of "
            "its pieces' states, and there is no single static vector to show."
        )
    left, right = st.columns(2)
    with left:
        frame, axes = layer_map(found, labels, layer, static if not split else None)
        page.chart(
            figures.occurrences_figure(frame, axes, f"Layer {layer}: each occurrence (PCA)"),
            frame,
            "occurrences",
        )
        st.caption(
            "The star is the word's row of the input embedding matrix, the same in every sentence"
            + (
                " (at layer 0 SmolLM2's states are exactly that row)."
                if model_name == "smollm2"
                else " (MiniLM adds position and a LayerNorm before layer 0's state)."
            )
        )
    with right:
        short = [f"s{i + 1} {s}" for i, s in zip(found.sentence_index, labels)]
        page.chart(
            figures.heatmap_figure(
                cosine_matrix(found.vectors(layer)),
                short,
                f"Layer {layer}: cosine between occurrences",
            ),
            name="matrix",
        )
    with st.expander("The sentences"):
        page.table(
            pd.DataFrame(
                {
                    "sentence": [f"s{i + 1}" for i in range(len(found.sentences))],
                    "text": found.sentences,
                }
            ),
            hide_index=True,
            width="stretch",
        )
