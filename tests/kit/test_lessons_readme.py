"""Every code block of app/lessons/README.md runs: the bash block scaffolds a lesson (on a copy of the project,
tests/kit/test_scaffold.py), and the tab in the python block renders and trains on a real page."""

import re
import shlex
from pathlib import Path

from streamlit.testing.v1 import AppTest

README = Path(__file__).resolve().parents[2] / "app" / "lessons" / "README.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_the_bash_block_is_the_scaffold_and_its_tests():
    """The command line parses as written (tests/kit/test_scaffold.py runs the same command on a copy)."""
    from app.lessons import SECTIONS
    from app.lessons.scaffold import parser

    (command, test), *_ = [block.strip().splitlines() for block in blocks("bash")]
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "app.lessons"], words
    args = parser().parse_args(words[3:])
    assert (args.slug, args.lecture) == ("tokenizers", "5") and args.section in SECTIONS
    assert test == f"python -m pytest tests/models/test_{args.slug}.py tests/pages/test_{args.slug}_page.py"


def _tab_script(code: str):
    import types

    from app.lessons import lesson
    from app.page import LessonPage

    module = types.ModuleType("readme_tab")
    exec(code, module.__dict__)
    module.render(LessonPage(lesson("moe"), "cpu"))


def test_the_tab_block_renders_and_trains():
    (code,) = blocks("python")
    at = AppTest.from_function(_tab_script, args=(code,), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    step = next(b for b in at.button if b.key == "moe:step")
    step.click().run()
    assert not at.exception and not at.error, [e.value for e in at.exception] + [e.value for e in at.error]
    run = at.session_state["moe:run"]
    assert run.steps_done >= 1 and len(run.history) >= 1
    assert len(at.get("plotly_chart")) >= 1
