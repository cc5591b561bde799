"""LoRA rank effects (Lecture 7): the page is the lesson declared in app/lessons/lora/."""

from app.navigation import require_entry_script
from app.page import run_lesson

require_entry_script()
run_lesson("lora")
