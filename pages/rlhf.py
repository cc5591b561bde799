"""Policy gradients and PPO clipping (Lectures 10 and 12): the lesson declared in app/lessons/rlhf/."""

from app.navigation import require_entry_script
from app.page import run_lesson

require_entry_script()
run_lesson("rlhf")
