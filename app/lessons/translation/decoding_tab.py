"""Tab "Beam search": greedy against beam search on the tiny model trained in "Neural MT": score, length and BLEU
per beam width, and one sentence's beams as a tree."""

import pandas as pd
import streamlit as st

from app.lessons.translation import figures
from app.page import LessonPage
from models.translation.beam import MAX_BEAMS, beam_search_ids
from models.translation.bleu import corpus_bleu

TITLE = "Beam search"
WIDTHS = [1, 2, 4, 8]


def by_width(trainer) -> pd.DataFrame:
    """Every held-out pair decoded at each beam width: BLEU, mean length and mean score."""
    rows = []
    references = [" ".join(e) for _, e in trainer.heldout]
    for width in WIDTHS:
        hypotheses, scores, lengths = [], [], []
        for foreign, _ in trainer.heldout:
            best = beam_search_ids(trainer.next_log_probs(foreign), width, trainer.config.max_len, eos_token_id=2)
            words = trainer.target_vocab.decode(best.sequences[0])
            hypotheses.append(" ".join(words))
            scores.append(best.log_probs[0])
            lengths.append(len(words))
        rows.append(
            {
                "beams": width,
                "BLEU": corpus_bleu(hypotheses, references),
                "mean log p": sum(scores) / len(scores),
                "mean length": sum(lengths) / len(lengths),
            }
        )
    return pd.DataFrame(rows)


def render(page: LessonPage) -> None:
    st.markdown(
        "Greedy decoding takes the likeliest word at each step; **beam search** keeps the k likeliest prefixes and "
        "scores finished ones by log p / length (as transformers' `generate(num_beams=k)`, which this equals). "
        "A wider beam finds translations the model likes more; whether BLEU agrees is another matter."
    )
    run = page.run()
    if run is None or run.trainer is None or run.steps_done == 0:
        st.info("Train the tiny model in the “Neural MT” tab first (▶ Start or ⏭ Step); it is decoded here.")
        return
    trainer = run.trainer
    with page.settings_area():
        a, b = st.columns(2)
        page.widget(a.slider, "num_beams", "Beams for the tree", 1, MAX_BEAMS, default=4)
        page.widget(b.number_input, "pair", "Held-out pair", 1, 1000, default=1)
    stamp = (run.run_id, run.steps_done)
    kept = page.result("widths")
    if kept is None or kept[0] != stamp:
        table = page.compute("by-width", "Decoding the held-out pairs", by_width, trainer)
        kept = page.keep("widths", (stamp, table))
    table = kept[1]
    if table is None:
        return
    st.caption(f"The model after {run.steps_done:,} steps, {len(trainer.heldout)} held-out pairs.")
    st.dataframe(table.style.format({"BLEU": "{:.1f}", "mean log p": "{:.3f}", "mean length": "{:.2f}"}))
    k = min(int(page.value("pair", 1)), len(trainer.heldout)) - 1
    foreign, english = trainer.heldout[k]
    width = int(page.value("num_beams", 4))
    result = beam_search_ids(trainer.next_log_probs(foreign), width, trainer.config.max_len, eos_token_id=2)
    itos = trainer.target_vocab.itos
    title = f"Beams for “{' '.join(foreign)}” (k = {width}); node: word and summed log p"
    page.chart(figures.beam_tree(result.tree, lambda token: itos[token], title), None, "beam-tree")
    finished = pd.DataFrame(
        {
            "hypothesis": [" ".join(trainer.target_vocab.decode(ids)) for ids in result.sequences],
            "sum log p": result.log_probs,
            "score (log p / length)": result.scores,
        }
    )
    st.markdown(f"Reference: “{' '.join(english)}”")
    st.dataframe(finished, hide_index=True)
