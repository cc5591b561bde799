"""Mixture-of-Experts routing (Lecture 16): the page is the lesson declared in app/lessons/moe/.

run_lesson calls require_entry_script() first, like every page.
"""

from app.page import run_lesson

run_lesson("moe")
