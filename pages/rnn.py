"""Recurrent networks (Lecture 4): the page is the lesson declared in app/lessons/rnn/."""

from app.page import run_lesson

run_lesson("rnn")
