"""Tab "BERT's masking": the chosen 15 % of a sentence and their 80/10/10 fates; the shares over a corpus."""

from __future__ import annotations

import streamlit as st
import torch

from app.lessons.pretraining import figures
from app.lessons.pretraining.data import named_text
from app.page import LessonPage
from models.pretraining.masking import FATES, check_rate, fate_counts, mask_with_fates
from models.pretraining.objectives import CharVocab

TITLE = "BERT's masking"
CORPUS_CHARS = 100_000
SENTENCE = "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat by the door."


def draw_sentence(sentence: str, p: float, seed: int) -> dict:
    if not sentence.strip():
        raise ValueError("The sentence is empty: type a sentence to mask.")
    check_rate(p)
    vocab = CharVocab(sentence)
    ids = vocab.encode(sentence)
    inputs, _, fates = mask_with_fates(ids, vocab.mask_id, vocab.size - 1, p, torch.Generator().manual_seed(seed))
    return {"text": sentence, "inputs": vocab.decode(inputs), "fates": [FATES[int(f)] for f in fates]}


def corpus_shares(text: str, p: float, seed: int = 0) -> dict:
    """Shares over the first CORPUS_CHARS characters: chosen of all; [MASK], random, kept of the chosen."""
    check_rate(p)
    text = text[:CORPUS_CHARS]
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    _, _, fates = mask_with_fates(ids, vocab.mask_id, vocab.size - 1, p, torch.Generator().manual_seed(seed))
    counts = fate_counts(fates)
    chosen = counts["tokens"] - counts["not chosen"]
    return counts | {
        "chosen": chosen,
        "chosen share": chosen / counts["tokens"],
        "[MASK] share": counts["[MASK]"] / max(chosen, 1),
        "random share": counts["random token"] / max(chosen, 1),
        "kept share": counts["kept unchanged"] / max(chosen, 1),
    }


def named_corpus_shares(corpus: str, p: float, seed: int) -> dict:
    return corpus_shares(named_text(corpus), p, seed)


def render(page: LessonPage) -> None:
    setup = page.data
    with page.settings_area():
        cols = st.columns([3, 1, 1])
        page.widget(cols[0].text_input, "sentence", "A sentence", default=SENTENCE, max_chars=300)
        page.widget(cols[1].slider, "mask_rate", "Mask rate p", 0.0, 1.0, step=0.05, default=0.15)
        page.widget(cols[2].number_input, "seed", "Seed of the draw", 0, 10_000, default=0)
    p, seed = float(page.value("mask_rate", 0.15)), int(page.value("seed", 0))
    drawn = page.compute("sentence", "Masking the sentence", draw_sentence, page.value("sentence", SENTENCE), p, seed)
    if drawn is not None:
        page.chart(figures.fate_sentence(drawn["text"], drawn["fates"], drawn["inputs"]), None, "sentence")
        st.caption(
            "Only the coloured characters carry a loss (label = the original); every grey one has label −100. The "
            "model cannot tell a kept or random character from an ordinary one, so it must check them all."
        )
    if setup.corpus == "user":
        shares = page.compute("shares", "Counting the fates", corpus_shares, setup.text, p, seed)
    else:
        shares = page.compute("shares", "Counting the fates", page.shared, named_corpus_shares, setup.corpus, p, seed)
    if shares is None:
        return
    cols = st.columns(4)
    cols[0].metric("chosen (of all characters)", f"{shares['chosen share']:.1%}")
    cols[1].metric("→ [MASK] (of the chosen)", f"{shares['[MASK] share']:.1%}")
    cols[2].metric("→ random (of the chosen)", f"{shares['random share']:.1%}")
    cols[3].metric("→ kept (of the chosen)", f"{shares['kept share']:.1%}")
    rule = {"chosen": p, "[MASK]": 0.8, "random": 0.1, "kept": 0.1}
    measured = {
        "chosen": shares["chosen share"],
        "[MASK]": shares["[MASK] share"],
        "random": shares["random share"],
        "kept": shares["kept share"],
    }
    page.chart(*figures.fate_bars(measured, rule), name="fates")
    st.caption(
        f"{shares['tokens']:,} characters of the {setup.text_label}, {shares['chosen']:,} chosen. The draws are "
        "transformers' DataCollatorForLanguageModeling's, in the same order (the lesson's tests check the two give "
        "identical tensors). A random character may by chance be the original: that happens to 1 in ~100 here."
    )
