"""Word embeddings (Lecture 2): the page is the lesson declared in app/lessons/word_embeddings/."""

from app.page import run_lesson

run_lesson("word_embeddings")
