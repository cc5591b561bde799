"""Next-token explorer (Lectures 3 and 9): the page is the lesson declared in app/lessons/next_token/."""

from app.page import run_lesson

run_lesson("next_token")
