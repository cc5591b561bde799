"""N-gram smoothing (Lecture 3): the page is the lesson declared in app/lessons/ngrams/."""

from app.page import run_lesson

run_lesson("ngrams")
