"""Prompting and in-context learning (Lecture 9): the page is the lesson declared in app/lessons/prompting/."""

from app.page import run_lesson

run_lesson("prompting")
