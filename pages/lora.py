"""LoRA rank effects (Lecture 7): the page is the lesson declared in app/lessons/lora/."""

from app.page import run_lesson

run_lesson("lora")
