"""Text helpers and the offline corpora and evaluation sets."""

import pytest

from models import corpora
from models.text import (
    check_text,
    count_words,
    decode_text,
    sentences_from_text,
    split_sentences,
    tokenize_words,
    train_heldout_split,
)
from models.toy_world import generate_toy_world, toy_world_analogies


def test_tokenize_words_handles_unicode_apostrophes_and_punctuation():
    assert tokenize_words("Don't STOP—Café, well-known ﬁsh!") == [
        "don't",
        "stop",
        "café",
        "well-known",
        "fish",
    ]
    assert tokenize_words("Hello", lowercase=False) == ["Hello"]
    assert tokenize_words("... !!! ---") == []


def test_split_sentences():
    text = 'He left. "Why?" she asked! It was 3 p.m. then\nNew paragraph'
    assert split_sentences(text) == [
        "He left.",
        '"Why?" she asked!',
        "It was 3 p.m. then",
        "New paragraph",
    ]


def test_decode_text_refuses_bad_input_and_notices_non_utf8():
    with pytest.raises(ValueError, match="empty"):
        decode_text(b"   \n ")
    with pytest.raises(ValueError, match="binary"):
        decode_text(b"abc\x00def")
    with pytest.raises(ValueError, match="limit"):
        decode_text(b"a" * 101, max_bytes=100)
    latin = decode_text("café au lait".encode("cp1252"))
    assert latin.text == "café au lait" and "UTF-8" in latin.notice
    assert decode_text("naïve".encode()).notice is None
    with pytest.raises(ValueError, match="word"):
        check_text("!!! ???")


def test_train_heldout_split_is_deterministic_and_disjoint():
    sentences = [[str(i)] for i in range(100)]
    train, held = train_heldout_split(sentences, 0.1, seed=3)
    assert len(held) == 10 and len(train) == 90
    assert sorted(train + held) == sorted(sentences)
    assert train_heldout_split(sentences, 0.1, seed=3) == (train, held)
    assert train_heldout_split(sentences, 0.1, seed=4)[1] != held
    with pytest.raises(ValueError):
        train_heldout_split([["one"]], 0.1)


def test_wikipedia_sample_is_real_and_large():
    sentences = corpora.load_corpus("wiki")
    assert count_words(sentences) > 400_000
    words = {w for s in sentences[:3000] for w in s}
    assert {"anarchism", "the", "political"} <= words


def test_news_corpus_and_unknown_name():
    assert 55_000 < count_words(corpora.load_corpus("lee")) < 70_000
    with pytest.raises(ValueError, match="Unknown corpus"):
        corpora.load_corpus("nope")


def test_gensim_evaluation_sets_parse():
    ws = corpora.load_word_pairs("wordsim353")
    sl = corpora.load_word_pairs("simlex999")
    assert len(ws) == 353 and ("tiger", "cat", 7.35) in ws
    assert len(sl) == 999 and all(0 <= s <= 10 for _, _, s in sl)
    analogies = corpora.load_analogies()
    assert len(analogies) == 14 and sum(len(q) for q in analogies.values()) == 19544
    assert ("athens", "greece", "baghdad", "iraq") in analogies["capital-common-countries"]
    polarity = corpora.load_polarity()
    assert len(polarity) == 200 and {label for label, _ in polarity} == {"pos", "neg"}


def test_toy_world_encodes_its_analogies_in_the_text():
    sentences = generate_toy_world(2000, seed=1)
    assert sentences == generate_toy_world(2000, seed=1)
    vocab = {w for s in sentences for w in s}
    for questions in toy_world_analogies().values():
        for question in questions:
            assert set(question) <= vocab, question


def test_user_text_to_sentences():
    assert sentences_from_text("One two. Three four five!") == [
        ["one", "two"],
        ["three", "four", "five"],
    ]


def test_decode_text_reads_utf16_and_utf32_with_a_byte_order_mark():
    """Notepad's "Unicode" .txt is UTF-16 with a BOM: full of NUL bytes, but not binary."""
    text = "Héllo wörld. Ünïcode text."
    for codec in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        data = text.encode(codec)
        if codec in ("utf-16-le", "utf-16-be"):  # these codecs write no BOM: add it
            data = ("\ufeff" + text).encode(codec)
        decoded = decode_text(data)
        assert decoded.text == text and decoded.notice is None, codec
    with pytest.raises(ValueError, match="UTF-16"):
        decode_text(b"\xff\xfeh\x00\x00\xd8")  # a BOM, then a broken surrogate
    with pytest.raises(ValueError, match="binary"):
        decode_text(b"PK\x03\x04\x00\x00")  # still refused: a zip file


def test_too_few_sentences_says_how_text_is_split():
    with pytest.raises(ValueError, match="line break"):
        train_heldout_split(sentences_from_text("hello world. goodbye moon."), 0.1)
