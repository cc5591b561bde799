"""Pretrained embedding spaces (Lectures 2 and 6): the lesson declared in app/lessons/embedding_spaces/."""

from app.page import run_lesson

run_lesson("embedding_spaces")
