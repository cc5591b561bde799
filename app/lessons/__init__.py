"""The course map: every lesson declared once.

A lesson's **slug** is one word used everywhere: the page file (`pages/<slug>.py`), the URL path (`/<slug>`), the
package of its tabs (`app/lessons/<slug>/`), the prefix of its settings (`<slug>.<tab>.<config field>` as widget key and
query parameter), its session state (`<slug>:<name>`), its benchmark (`benchmarks/<slug>.py`) and its tests
(`tests/models/test_<slug>.py`, `tests/pages/test_<slug>_page.py`). Navigation, the Home cards, the page tests, the browser test and the benchmarks all read
`LESSONS`. How to add a lesson: app/lessons/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PAGES_DIR = ROOT / "pages"
SECTIONS = ["Foundations", "Transformers", "Adapting and aligning", "Scaling and efficiency"]


@dataclass(frozen=True)
class Lesson:
    slug: str  # page file stem = URL path = package = settings prefix = benchmark name
    title: str
    icon: str
    section: str  # one of SECTIONS
    lecture: str
    summary: str  # the Home card's promise: what you will see
    package_name: str = ""  # where its tabs live; empty = app.lessons.<slug> (tests point elsewhere)

    @property
    def file(self) -> str:
        return f"{self.slug}.py"

    @property
    def page_path(self) -> Path:
        return PAGES_DIR / self.file

    @property
    def package(self) -> str:
        return self.package_name or f"app.lessons.{self.slug}"


LESSONS = [
    Lesson(
        "next_token",
        "Next-token explorer",
        "🔮",
        "Foundations",
        "Lectures 3 and 9",
        "Type a prompt and watch SmolLM2's next-token distribution; see which tokens survive "
        "temperature, top-k and top-p, and sample a continuation token by token.",
    ),
    Lesson(
        "word_embeddings",
        "Word embeddings",
        "🧭",
        "Foundations",
        "Lecture 2",
        "Train word2vec live (skip-gram or CBOW with negative sampling), watch words cluster, "
        "solve analogies and compare with gensim.",
    ),
    Lesson(
        "ngrams",
        "N-gram smoothing",
        "🧮",
        "Foundations",
        "Lecture 3",
        "Count-based language models: why zero counts break them, how smoothing moves mass to "
        "the unseen, and perplexity across orders.",
    ),
    Lesson(
        "attention",
        "Attention",
        "🎯",
        "Transformers",
        "Lecture 5",
        "Queries, keys and values step by step, every head of a real model, positional encodings, "
        "and a tiny transformer trained live.",
    ),
    Lesson(
        "embedding_spaces",
        "Pretrained embedding spaces",
        "🌌",
        "Foundations",
        "Lectures 2 and 6",
        "The embedding spaces of pretrained models: SmolLM2's token vectors solve king − man + woman, "
        "MiniLM's contextual vectors tell a river bank from a money bank, sentence vectors find paraphrases.",
    ),
    Lesson(
        "lora",
        "LoRA rank effects",
        "🪛",
        "Adapting and aligning",
        "Lecture 7",
        "Fine-tune a few parameters instead of all: LoRA's low-rank update trained live at several ranks, "
        "the Eckart–Young floor, QLoRA's 4-bit base, and the other PEFT families.",
    ),
    Lesson(
        "rlhf",
        "Policy gradients and PPO clipping",
        "🎢",
        "Adapting and aligning",
        "Lectures 10 and 12",
        "REINFORCE, PPO's clipped surrogate, GRPO and DPO trained live: why clipping keeps updates "
        "stable, the KL penalty to a reference, and reward hacking on a real language model.",
    ),
    Lesson(
        "kv_cache",
        "KV cache and eviction",
        "🗄️",
        "Scaling and efficiency",
        "Lecture 14",
        "The KV cache's memory on a real model, and what StreamingLLM, H2O, SnapKV, PyramidKV and R-KV keep "
        "when the budget is small: kept tokens, perplexity against budget, attention sinks.",
    ),
    Lesson(
        "moe",
        "Mixture-of-Experts routing",
        "🔀",
        "Scaling and efficiency",
        "Lecture 16",
        "A tiny MoE language model trained live: expert loads collapse without balancing; the auxiliary "
        "loss and DeepSeek-V3's bias fix them; capacity, dropped tokens, active against total parameters.",
    ),
    Lesson(
        "translation",
        "Machine translation",
        "🌐",
        "Transformers",
        "Lecture 17",
        "Word alignment learnt by IBM Model 1's EM, the noisy channel p(e)·p(f|e), a tiny encoder-decoder "
        "trained live whose attention is a soft alignment, greedy against beam search, and BLEU and chrF opened up.",
    ),
    Lesson(
        "rnn",
        "Recurrent networks",
        "🔁",
        "Foundations",
        "Lecture 4",
        "Vanilla RNN, LSTM and GRU trained live on one text: vanishing gradients as a heatmap, the forget gate, "
        "long-range memory, clipping, padding masks, truncated BPTT and exposure bias.",
    ),
    Lesson(
        "prompting",
        "Prompting and in-context learning",
        "💬",
        "Adapting and aligning",
        "Lecture 9",
        "SmolLM2 labels movie reviews from a prompt alone: shots, their order and the label words swing its "
        "accuracy; contextual calibration, chain of thought and prompt ensembles.",
    ),
    Lesson(
        "long_context",
        "Long context",
        "📏",
        "Scaling and efficiency",
        "Lecture 13",
        "Train at one length, test at longer ones: which position schemes extrapolate, RoPE scaling (PI, NTK, "
        "YaRN), sparse attention patterns, their reach and cost, needle in a haystack.",
    ),
    Lesson(
        "pretraining",
        "Pre-training objectives",
        "🏗️",
        "Transformers",
        "Lecture 6",
        "Causal, masked and replaced-token objectives trained side by side from one seed; BERT's 80/10/10 "
        "masking, SFT loss masking, instruction tuning in miniature and SmolLM2's chat template.",
    ),
    Lesson(
        "retrieval",
        "Retrieval-augmented LMs",
        "📚",
        "Adapting and aligning",
        "Lecture 15",
        "A datastore helps SmolLM2 at its output (kNN-LM: perplexity against λ, k and the datastore), at its input "
        "(RAG: BM25 against MiniLM, the gold passage against a distractor) and in the middle (RETRO), at a cost.",
    ),
]


def lesson(slug: str) -> Lesson:
    for item in LESSONS:
        if item.slug == slug:
            return item
    raise KeyError(f"no lesson {slug!r} in LESSONS")


def available_lessons() -> list[Lesson]:
    """Lessons with a page file: every lesson of the course (tests/pages/test_pages.py checks), not a test's own
    lesson registered without one (tests/kit_demo)."""
    return [item for item in LESSONS if item.page_path.exists()]


def lessons_by_section() -> dict[str, list[Lesson]]:
    grouped: dict[str, list[Lesson]] = {}
    for section in SECTIONS:
        members = [item for item in available_lessons() if item.section == section]
        if members:
            grouped[section] = members
    return grouped
