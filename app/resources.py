"""Shared, read-only resources (pretrained models, corpora) and the corpus / model pickers pages use.

`st.cache_resource` holds frozen objects shared by all sessions: never train a cached model; copy it into session
state first (`private_copy`).
"""

from __future__ import annotations

import copy
from functools import lru_cache

import streamlit as st

from app.classroom import share_storage
from models import corpora, registry
from models.text import MAX_UPLOAD_BYTES, check_text, decode_text, sentences_from_text


@st.cache_resource(max_entries=4, show_spinner=False)
def shared_model(name: str, device: str, allow_download: bool = False):
    """(model, tokenizer), loaded once per process and device; read-only."""
    model, tokenizer = registry.load_model(name, device=device, allow_download=allow_download)
    for p in model.parameters():
        p.requires_grad_(False)
    share_storage(model)  # runs that use it read-only are not charged for its memory
    return model, tokenizer


def private_copy(model):
    """A trainable copy of a shared model, for the session that trains it."""
    clone = copy.deepcopy(model)
    for p in clone.parameters():
        p.requires_grad_(True)
    return clone


def load_shared_model(name: str, device: str, allow_download: bool = False):
    with st.spinner(f"Loading {name} on {device} (the first SmolLM2 load converts it: up to ~30 s)…"):
        return shared_model(name, device, allow_download)


# The texts a small character-level model trains on (the MoE, RNN and pre-training lessons): a named corpus, cut to
# what a few hundred steps can see, or the student's own text
TRAINING_CORPORA = {"wiki": "Wikipedia sample", "lee": "Lee news corpus", "user": "Your own text"}
MAX_TRAINING_CHARS = 300_000


@lru_cache(maxsize=4)
def named_training_text(name: str) -> str:
    return corpora.load_corpus_text(name)[:MAX_TRAINING_CHARS]


def read_training_text(corpus: str, user_text: str) -> tuple[str, str]:
    """-> (label, text): a named corpus, or the user's text checked (empty, binary, too big: ValueError) and cut.
    A lesson adds its own checks of what its model needs (a training window, a held-out part)."""
    if corpus not in TRAINING_CORPORA:
        raise ValueError(f"Unknown corpus {corpus!r}; choose one of {', '.join(TRAINING_CORPORA)}.")
    if corpus != "user":
        return TRAINING_CORPORA[corpus], named_training_text(corpus)
    return "your text", check_text(user_text)[:MAX_TRAINING_CHARS]


@st.cache_resource(max_entries=8, show_spinner="Reading the corpus…")
def shared_corpus(name: str) -> list[list[str]]:
    return corpora.load_corpus(name)


@st.cache_resource(max_entries=4, show_spinner=False)
def shared_corpus_text(name: str) -> str:
    return corpora.load_corpus_text(name)


def model_picker(page, kinds: tuple[str, ...] = ("causal", "encoder")) -> tuple[str, bool]:
    """Bundled models first, then "Hugging Face id…"; returns (model name or id, allow_download). Its settings are
    the page's `model`, `hf_id` and `hf_download` (`page` is the lesson's `LessonPage`)."""
    infos = [m for m in registry.available_models() if m.kind in kinds and m.available]
    options = [m.name for m in infos] + ["hf"]
    # labels are the URL's values (bind="query-params"), so keep them short and stable (no sizes)
    titles = {m.name: m.title for m in infos}
    titles["hf"] = "A Hugging Face model id…"
    choice = page.widget(st.selectbox, "model", "Model", options, default=options[0], format_func=titles.get)
    if choice != "hf":
        info = next(m for m in infos if m.name == choice)
        size = f"{info.size_mb:.0f} MB, " if info.size_mb else ""
        st.caption(f"{size}{info.source}" + (f"; {info.note}" if info.note else ""))
        return choice, False
    model_id = page.widget(
        st.text_input, "hf_id", "Hugging Face model id", default="", placeholder="HuggingFaceTB/SmolLM2-360M-Instruct"
    ).strip()
    allow = page.widget(
        st.checkbox, "hf_download", "Download it if it is not cached (needs the internet)", default=False, url=False
    )
    return model_id, allow


def corpus_picker(page, default: str = "wiki", allow_user_text: bool = True) -> tuple[str, list]:
    """A corpus selector (named corpora + the user's own text); returns (label, tokenised sentences). Its settings
    are the page's `corpus` and `user_text` (`page` is the lesson's `LessonPage`).

    Raises ValueError with a clear message for empty, binary or oversized user text.
    """
    infos = [c for c in corpora.available_corpora() if c.available]
    options = [c.name for c in infos] + (["user"] if allow_user_text else [])
    titles = {c.name: c.title for c in infos}  # short, stable labels: they are the URL's values
    titles["user"] = "Your own text (paste or upload .txt)"
    missing = [c for c in corpora.available_corpora() if not c.available]
    choice = page.widget(
        st.selectbox,
        "corpus",
        "Corpus",
        options,
        default=default if default in options else options[0],
        format_func=titles.get,
        help="Not listed: " + "; ".join(f"{c.title} ({c.how_to_get})" for c in missing) if missing else None,
    )
    if choice != "user":
        st.caption(next(c.description for c in infos if c.name == choice))
        return titles[choice], shared_corpus(choice)
    upload = st.file_uploader(
        f"Upload a .txt file (up to {MAX_UPLOAD_BYTES // 1_000_000} MB)",
        type=["txt"],
        key=page.key("upload"),  # a file is not a setting: not in the URL, not in presets
    )
    pasted = page.widget(st.text_area, "user_text", "…or paste text", default="", url=False, height=120)
    if upload is not None:
        decoded = decode_text(upload.getvalue())
        if decoded.notice:
            st.info(decoded.notice)
        text = decoded.text
    else:
        text = check_text(pasted)
    sentences = sentences_from_text(text)
    return "your text", sentences
