"""Attention (Lecture 5): the page is the lesson declared in app/lessons/attention/."""

from app.page import run_lesson

run_lesson("attention")
