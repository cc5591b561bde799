"""Policy gradients and PPO clipping (Lectures 10 and 12): the lesson declared in app/lessons/rlhf/."""

from app.page import run_lesson

run_lesson("rlhf")
