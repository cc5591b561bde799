"""Retrieval-augmented LMs (Lecture 15): the page is the lesson declared in app/lessons/retrieval/."""

from app.page import run_lesson

run_lesson("retrieval")
