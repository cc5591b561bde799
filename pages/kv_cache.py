"""KV cache and eviction (Lecture 14): the page is the lesson declared in app/lessons/kv_cache/."""

from app.navigation import require_entry_script
from app.page import run_lesson

require_entry_script()
run_lesson("kv_cache")
