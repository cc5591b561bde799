"""KV cache and eviction (Lecture 14): the page is the lesson declared in app/lessons/kv_cache/."""

from app.page import run_lesson

run_lesson("kv_cache")
