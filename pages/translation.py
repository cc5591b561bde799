"""Machine translation (Lecture 17): the page is the lesson declared in app/lessons/translation/."""

from app.page import run_lesson

run_lesson("translation")
