"""Machine translation's models against trusted references on the same inputs: NLTK's IBMModel1, transformers'
beam search, sacrebleu, the attention lesson's attention, and the n-gram lesson's LM."""

import copy
import math

import numpy as np
import pytest
import torch
from nltk.translate import AlignedSent
from nltk.translate import IBMModel1 as NltkIBMModel1
from sacrebleu.metrics import BLEU

from models.attention.mechanism import scaled_dot_product_attention
from models.registry import random_smollm2
from models.translation.beam import CachedLMStep, beam_search, beam_search_ids, beam_search_result, causal_lm_step
from models.translation.bleu import bleu_report, check_lines
from models.translation.corpora import (
    ADJECTIVES,
    ADVERBS,
    MAX_PAIRS,
    OBJECTS,
    SUBJECTS,
    VERBS,
    parallel_corpus,
    parse_pairs,
)
from models.translation.ibm_model1 import NULL, IBMModel1, aer_by_iteration, alignment_error_rate
from models.translation.noisy_channel import ChannelConfig, _LMScorer, english_lm, noisy_channel_decode
from models.translation.seq2seq import Seq2SeqConfig, Seq2SeqTrainer, dot_product_attention


@pytest.fixture(scope="module")
def toy():
    return parallel_corpus("toy", n_pairs=300, seed=0)


@pytest.fixture(scope="module")
def toy_ibm(toy):
    return IBMModel1(toy[0]).train(10)


# ---- IBM Model 1 against NLTK -----------------------------------------------------------------------------------
def no_repeats(pairs):
    """NLTK normalises a word repeated in a sentence over all its occurrences at once: compare without repeats."""
    return [(f, e) for f, e in pairs if len(set(f)) == len(f) and len(set(e)) == len(e)]


@pytest.mark.parametrize("iterations", [1, 3, 6])
def test_table_and_viterbi_equal_nltk(toy, iterations):
    pairs = no_repeats(toy[0])
    assert len(pairs) > 100
    ours = IBMModel1(pairs).train(iterations)
    bitext = [AlignedSent(f, e) for f, e in pairs]  # NLTK: words = the generated side f, mots = e
    nltk_model = NltkIBMModel1(bitext, iterations)
    for k in range(len(ours.t)):  # every co-occurring pair, NULL included
        f, e = ours.foreign_vocab[ours.pair_f[k]], ours.english_vocab[ours.pair_e[k]]
        reference = nltk_model.translation_table[f][None if e == NULL else e]
        assert ours.t[k] == pytest.approx(reference, rel=1e-9, abs=1e-12), (f, e)
    same = 0
    for sentence, (f, e) in zip(bitext, pairs):  # NLTK aligned the bitext in place: (j, i) 0-based, None = NULL
        expected = [(j + 1, 0 if i is None else i + 1) for j, i in sorted(sentence.alignment)]
        for (j, i), (_, i_nltk) in zip(ours.align(f, e), expected):
            same += i == i_nltk
            if i != i_nltk:  # only a tie, broken differently by the last bits of two equal sums
                weights = ours.link_weights(f, e)[j - 1]
                assert weights[i] == pytest.approx(weights[i_nltk], rel=1e-12)
    assert same >= 0.98 * sum(len(f) for f, _ in pairs)


def test_em_basics(toy, toy_ibm):
    ibm = toy_ibm
    assert np.all(np.diff(ibm.log_likelihoods) >= -1e-9), "EM never lowers the likelihood"
    totals = np.bincount(ibm.pair_e, ibm.t)  # sum_f t(f | e) = 1 for every e
    assert np.allclose(totals, 1.0)
    assert ibm.prob("kapo", "dog") > 0.9 and ibm.prob("ta", NULL) > 0 and ibm.prob("kapo", "zebra") == 0.0
    assert ibm.align_corpus(3) == [ibm.align(f, e, 3) for f, e in ibm.pairs], "vectorised = one by one"
    # the uniform start, then the same table from a copy frozen at iteration 4
    assert ibm.prob("kapo", "dog", 0) == pytest.approx(1 / len(ibm.foreign_vocab))
    assert ibm.at_iteration(4).prob("kapo", "dog") == ibm.prob("kapo", "dog", 4)


def test_das_haus_converges():
    pairs, gold = parallel_corpus("das_haus")
    ibm = IBMModel1(pairs).train(10)
    curve = [ibm.prob("das", "the", k) for k in range(11)]
    assert curve[0] == 0.25 and curve[1] == pytest.approx(0.5)
    assert all(a < b for a, b in zip(curve, curve[1:])) and curve[-1] > 0.95
    assert gold is None


def test_gold_alignments_are_the_grammar(toy):
    """Every foreign word is linked once, to its English source word (or NULL for the particles)."""
    lexicon = {v: k for k, v in {**SUBJECTS, **OBJECTS, **ADJECTIVES}.items()}
    lexicon |= {f: e for e, (f, _) in ADVERBS.items()}
    for (foreign, english), gold in zip(*toy):
        assert [j for j, _ in gold] == list(range(1, len(foreign) + 1))
        for j, i in gold:
            f = foreign[j - 1]
            if f in ("ga", "o"):
                assert i == 0
            elif f == "ta" or f in VERBS:
                assert english[i - 1] in {form for forms in VERBS.values() for form in forms}
            else:
                assert english[i - 1] in (lexicon.get(f), lexicon.get(f[:-2], "") + "s")


def test_aer():
    assert alignment_error_rate([[(1, 1), (2, 2)]], [[(1, 1), (2, 2)]]) == 0.0
    assert alignment_error_rate([[(1, 2), (2, 0)]], [[(1, 1), (2, 2)]]) == 1.0
    assert alignment_error_rate([[(1, 1), (2, 1)]], [[(1, 1), (2, 2)]]) == pytest.approx(0.5)


def test_aer_falls_with_em(toy, toy_ibm):
    aer = aer_by_iteration(toy_ibm, toy[1])
    assert aer[0] > 0.6 and aer[-1] < 0.2 and len(aer) == 11


# ---- corpora and bad input --------------------------------------------------------------------------------------
def test_user_pairs_and_their_errors():
    assert parse_pairs("Das  Haus\tthe house\n\nein\u200b Buch\ta book") == [
        (["das", "haus"], ["the", "house"]),
        (["ein", "buch"], ["a", "book"]),
    ]
    for text, message in [
        ("", "empty"),
        ("   \n ", "empty"),
        ("das Haus the house", "no tab"),
        ("das Haus\t!!!", "no English words"),
        ("x\ty\n" + "a" * 600 + "\tb", "Line 2 has 602 characters"),
        ("a\tb\n" * (MAX_PAIRS + 1), "at most 2,000"),
        (" ".join(["w"] * 41) + "\tx", "over 40 words"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_pairs(text)
    many = "\n".join(" ".join(f"w{k}x{n}" for n in range(3)) + f"\tv{k}" for k in range(1100))
    with pytest.raises(ValueError, match="3,300 foreign and 1,100 English words"):
        parse_pairs(many)


# ---- the noisy channel -------------------------------------------------------------------------------------------
def test_noisy_channel_scores_are_lm_plus_model1(toy, toy_ibm):
    lm = english_lm(toy[0], order=2)
    foreign = "nodoli ga sika o ama".split()
    decoded = noisy_channel_decode(foreign, toy_ibm, lm, ChannelConfig())
    best = decoded["candidates"][0]
    assert best["english"] == "the farmers like the book"
    words = best["english"].split()
    assert best["log p(e)"] == pytest.approx(sum(s.logprob for s in lm.score_tokens(words)))
    assert best["log p(f|e)"] == pytest.approx(toy_ibm.log_prob(foreign, words))
    assert _LMScorer(lm).sentence(tuple(words)) == pytest.approx(best["log p(e)"])
    scores = [c["score"] for c in decoded["candidates"]]
    assert scores == sorted(scores, reverse=True)
    assert best["log p(e)"] - decoded["word_for_word"]["log p(e)"] > 20
    with pytest.raises(ValueError, match="no t\\(f | e\\) for: zzz"):
        noisy_channel_decode(["zzz"], toy_ibm, lm)
    with pytest.raises(ValueError, match="beam keeps"):
        ChannelConfig(beam_size=0)


# ---- beam search against transformers ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eos_prone_lm(tiny_lm):
    """The random tiny Llama with a random EOS row, so that beams end at different lengths."""
    model, tokenizer = tiny_lm
    model = copy.deepcopy(model)
    with torch.no_grad():
        model.lm_head.weight[tokenizer.eos_token_id] = torch.randn(32, generator=torch.Generator().manual_seed(1))
    return model, tokenizer


@pytest.mark.parametrize("num_beams", [1, 3, 8])
def test_beam_search_equals_generate(tiny_lm, eos_prone_lm, num_beams):
    for model, tokenizer in (tiny_lm, eos_prone_lm):
        for prompt in ["Translate to French: the house", "Hello"]:
            ids = tokenizer(prompt, return_tensors="pt").input_ids
            out = model.generate(
                ids,
                num_beams=num_beams,
                do_sample=False,
                max_new_tokens=8,
                num_return_sequences=num_beams,
                return_dict_in_generate=True,
                output_scores=True,
                pad_token_id=tokenizer.eos_token_id,
            )
            eos = tokenizer.eos_token_id
            expected = [s[ids.shape[1] :].tolist() for s in out.sequences]
            expected = [row[: row.index(eos) + 1] if eos in row else row for row in expected]
            for step in (causal_lm_step(model, ids), CachedLMStep(model, ids)):  # the whole prefix; a KV cache
                ours = beam_search_ids(step, num_beams, 8, eos)
                assert ours.sequences == expected
                if num_beams > 1:
                    assert ours.scores == pytest.approx(out.sequences_scores.tolist(), abs=1e-5)
            texts = beam_search(model, tokenizer, prompt, num_beams=num_beams, max_new_tokens=8)
            assert [t for t, _ in texts] == tokenizer.batch_decode(
                out.sequences[:, ids.shape[1] :], skip_special_tokens=True
            )
    with pytest.raises(ValueError, match="Between 1 and 8 beams"):
        beam_search_ids(lambda prefixes: torch.zeros(len(prefixes), 5), 9, 4, 0)


def generate_ids(model, ids, num_beams, max_new_tokens, eos):
    """transformers' beam search: each returned sequence's generated ids (up to EOS), and the scores."""
    out = model.generate(
        ids,
        num_beams=num_beams,
        do_sample=False,
        max_new_tokens=max_new_tokens,
        num_return_sequences=num_beams,
        return_dict_in_generate=True,
        output_scores=True,
        pad_token_id=eos,
        eos_token_id=eos,
    )
    rows = [s[ids.shape[1] :].tolist() for s in out.sequences]
    rows = [row[: row.index(eos) + 1] if eos in row else row for row in rows]
    return rows, (out.sequences_scores.tolist() if num_beams > 1 else None)


@pytest.fixture(scope="module")
def smollm2_shaped():
    """SmolLM2-135M's architecture (30 layers, GQA 9/3 heads, tied 49,152-token embeddings), random weights."""
    return random_smollm2(seed=0)


@pytest.mark.parametrize("num_beams", [1, 4])
def test_cached_beam_search_equals_generate_on_smollm2_architecture(smollm2_shaped, num_beams):
    prompt = torch.randint(3, 49152, (1, 12), generator=torch.Generator().manual_seed(num_beams))
    expected, scores = generate_ids(smollm2_shaped, prompt, num_beams, 10, eos=2)
    step = CachedLMStep(smollm2_shaped, prompt)
    ours = beam_search_ids(step, num_beams, 10, eos_token_id=2)
    assert ours.sequences == expected
    if scores is not None:
        assert ours.scores == pytest.approx(scores, abs=1e-5)
    assert step.cache.get_seq_length() == 12 + 10 - 1, "the cache holds the prompt and every token fed since"
    with pytest.raises(RuntimeError, match="keep_beams"):  # a cached step must be told the beams' parents
        fresh = CachedLMStep(smollm2_shaped, prompt)
        fresh([[], []])
        fresh([[5], [6]])


def test_beam_search_on_smollm2_prompted_to_translate(smollm2):
    """The page's own setting: SmolLM2, the few-shot translation prompt, 4 beams, 12 new tokens."""
    from models.translation.llm_prompt import shared_start, translation_prompt

    model, tokenizer = smollm2
    prompt = translation_prompt(tokenizer, "The house is small.")
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    expected, scores = generate_ids(model, ids, 4, 12, eos=tokenizer.eos_token_id)
    ours = beam_search_result(model, tokenizer, prompt, num_beams=4, max_new_tokens=12)
    assert ours.sequences == expected and ours.scores == pytest.approx(scores, abs=1e-5)
    assert [len(step) for step in ours.tree] == [4] * len(ours.tree)
    # from the examples' cache, computed once for every sentence (the glossary tab's shortcut): the same beams
    start = shared_start(model, tokenizer, with_glossary=False)
    assert CachedLMStep(model, ids, start).start is start and 80 < len(start.ids) < ids.shape[1]
    shortcut = beam_search_result(model, tokenizer, prompt, num_beams=4, max_new_tokens=12, start=start)
    assert shortcut.sequences == expected and shortcut.scores == pytest.approx(scores, abs=1e-4)


# ---- BLEU --------------------------------------------------------------------------------------------------------
def test_bleu_opened_up_is_sacrebleus():
    hypotheses = ["the house is small", "the dog sleeps on the sofa", "a man reads book"]
    references = ["the house is small", "the dog is sleeping on the sofa", "the man reads a book"]
    report = bleu_report(hypotheses, references)
    assert report["bleu"] == BLEU().corpus_score(hypotheses, [references]).score
    assert report["recomputed"] == pytest.approx(report["bleu"])
    short = bleu_report(["the cat"], ["the cat sat on the mat"])
    assert short["bp"] == pytest.approx(math.exp(1 - 6 / 2)) and short["precisions"][:2] == [1.0, 1.0]
    with pytest.raises(ValueError, match="2 hypothesis line"):
        check_lines("a\nb", "a")


# ---- the tiny encoder-decoder ------------------------------------------------------------------------------------
def test_attention_equals_the_attention_lessons():
    g = torch.Generator().manual_seed(0)
    query, memory = torch.randn(2, 5, 16, generator=g), torch.randn(2, 7, 16, generator=g)
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[1, 4:] = False  # padding
    context, weights = dot_product_attention(query, memory, mask)
    reference_out, reference_weights = scaled_dot_product_attention(query, memory, memory, mask=mask[:, None, :])
    assert torch.allclose(weights, reference_weights, atol=1e-6) and torch.allclose(context, reference_out, atol=1e-6)
    sdpa = torch.nn.functional.scaled_dot_product_attention(query, memory, memory, attn_mask=mask[:, None, :])
    assert torch.allclose(context, sdpa, atol=1e-5)
    assert torch.all(weights[1, :, 4:] == 0)


def test_tiny_model_learns_and_beam_1_is_greedy(toy):
    trainer = Seq2SeqTrainer(toy[0], Seq2SeqConfig(seed=0))
    first = trainer.train_steps(1)
    metrics = trainer.train_steps(120)
    assert metrics["loss"] < first["loss"] / 3 and metrics["heldout_bleu"] > 40
    for foreign, english in trainer.heldout[:5]:
        greedy = trainer.greedy([foreign])[0]
        beam = beam_search_ids(trainer.next_log_probs(foreign), 1, trainer.config.max_len, eos_token_id=2)
        assert trainer.target_vocab.decode(beam.sequences[0]) == greedy
        attention = trainer.attention(foreign, english)
        assert attention.shape == (len(english) + 1, len(foreign))
        assert torch.allclose(attention.sum(-1), torch.ones(len(english) + 1))
    with pytest.raises(ValueError, match="at least 50"):
        Seq2SeqTrainer(toy[0][:20])


# ---- prompting an LM to translate, with a glossary ---------------------------------------------------------------
def test_glossary_terms_are_matched_as_whole_words():
    from models.translation.glossary import contains_term, term_accuracy, term_hits, terms_in

    glossary = {"window": "fenêtre", "kitchen": "cuisine", "car": "voiture"}
    assert terms_in("Open the Window in the kitchen.", glossary) == {"window": "fenêtre", "kitchen": "cuisine"}
    assert terms_in("The cart is red.", glossary) == {}, "whole words only"
    assert contains_term("Ouvrez la FENÊTRE.", "fenêtre")
    assert contains_term("Ouvrez la fene\u0302tre.", "fenêtre"), "an NFD output is the same word"
    assert contains_term("L'infirmière arrive.", "infirmière") and not contains_term("Les vélos", "vélo")
    hits = term_hits("Open the window in the kitchen.", "Ouvrez la fenêtre.", glossary)
    assert [(h.source, h.found) for h in hits] == [("window", True), ("kitchen", False)]
    assert term_accuracy([hits, []]) == 0.5 and term_accuracy([[], []]) is None


def test_glossary_and_sentences_bad_input_is_a_message():
    from models.translation.glossary import DEFAULT_GLOSSARY, DEFAULT_SENTENCES, parse_glossary, parse_sentences
    from models.translation.llm_prompt import DecodeConfig, clean_sentence

    assert parse_glossary(DEFAULT_GLOSSARY)["window"] == "fenêtre"
    assert parse_sentences(DEFAULT_SENTENCES)[0] == ("The server is down.", "Le serveur est en panne.")
    assert parse_sentences("Hello there.") == [("Hello there.", "")]
    assert clean_sentence("  The\u200b house\u202e is\n small. ") == "The house is small."
    assert clean_sentence("自然语言处理很有趣。") == "自然语言处理很有趣。", "any script is a sentence"
    assert clean_sentence("Cafe\u0301 au lait") == "Café au lait", "NFC"
    for call, message in [
        (lambda: parse_glossary("window fenêtre"), "no “=”"),
        (lambda: parse_glossary(" \n "), "empty"),
        (lambda: parse_glossary("window = \u200b"), "empty"),
        (lambda: parse_glossary("\n".join(f"w{k} = m{k}" for k in range(31))), "at most 30"),
        (lambda: parse_sentences(""), "No sentences"),
        (lambda: parse_sentences("a\nb\nc\nd\ne\nf\ng"), "at most 6"),
        (lambda: parse_sentences("word " * 100), "at most 200"),
        (lambda: clean_sentence("\u200b\u200b ?!"), "empty"),
        (lambda: clean_sentence("🙂 🚀 🔥 " * 3), "empty"),
        (lambda: clean_sentence("\x00" * 50 + "\ufffd"), "empty"),
        (lambda: DecodeConfig(num_beams=9), "Between 1 and 8 beams"),
        (lambda: DecodeConfig(max_new_tokens=100), "Between 4 and 32"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()


def test_translation_prompt_shows_the_glossary_only_when_asked(tiny_lm):
    from models.translation.llm_prompt import SHOTS, answer_text, translation_prompt

    _, tokenizer = tiny_lm  # SmolLM2's tokenizer and chat template
    plain = translation_prompt(tokenizer, "Open the window.")
    told = translation_prompt(tokenizer, "Open the window.", {"window": "fenêtre"})
    assert "Glossary" not in plain and plain.endswith("<|im_start|>assistant\n")
    assert "Glossary: window = fenêtre\nEnglish: Open the window.<|im_end|>" in told
    assert "Glossary: car = voiture" in told, "the examples show their own terms"
    assert all(french in plain for _, french, _ in SHOTS)

    class NoTemplate:  # a tokenizer without a chat template: plain "English: / French:" lines
        chat_template = None

    text = translation_prompt(NoTemplate(), "Open the window.", {"window": "fenêtre"})
    assert text.endswith("Glossary: window = fenêtre\nEnglish: Open the window.\nFrench:")
    ids = tokenizer(" La maison.\nEnglish: next").input_ids + [tokenizer.eos_token_id]
    assert answer_text(tokenizer, ids) == "La maison."


def test_glossary_comparison_translates_as_generate_does(tiny_lm):
    """On the random tiny Llama: each output is generate()'s greedy continuation of the same prompt, cut; the
    term counts are the hits'; chrF and BLEU are sacrebleu's on the outputs."""
    from sacrebleu.metrics import CHRF

    from models.translation.glossary import compare_glossary, terms_in
    from models.translation.llm_prompt import DecodeConfig, answer_text, translation_prompt

    model, tokenizer = tiny_lm
    sentences = [("Open the window in the kitchen.", "Ouvrez la fenêtre de la cuisine."), ("Hello.", "Bonjour.")]
    glossary = {"window": "fenêtre", "kitchen": "cuisine"}
    result = compare_glossary(model, tokenizer, sentences, glossary, DecodeConfig(num_beams=1, max_new_tokens=6))
    for row, (english, _) in zip(result.rows, sentences):
        for condition, terms in (("without", None), ("with", terms_in(english, glossary))):
            ids = tokenizer(translation_prompt(tokenizer, english, terms), return_tensors="pt").input_ids
            out = model.generate(ids, do_sample=False, num_beams=1, max_new_tokens=6, pad_token_id=2, eos_token_id=2)
            assert row[condition] == answer_text(tokenizer, out[0, ids.shape[1] :].tolist())
    assert result.n_terms == 2 and result.rows[1]["terms"] == {}
    assert result.terms_found["with"] == sum(h.found for row in result.rows for h in row["with hits"])
    chrf = CHRF().corpus_score([row["with"] for row in result.rows], [[r for _, r in sentences]]).score
    assert result.chrf["with"] == pytest.approx(chrf)
