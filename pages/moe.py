"""Mixture-of-Experts routing (Lecture 16): the page is the lesson declared in app/lessons/moe/."""

from app.page import run_lesson

run_lesson("moe")
