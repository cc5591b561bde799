"""Pre-training objectives (Lecture 6): the page is the lesson declared in app/lessons/pretraining/."""

from app.page import run_lesson

run_lesson("pretraining")
