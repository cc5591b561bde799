"""Long context (Lecture 13): the page is the lesson declared in app/lessons/long_context/."""

from app.page import run_lesson

run_lesson("long_context")
