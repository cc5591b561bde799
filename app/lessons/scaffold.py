"""`python -m app.lessons new <slug> --title "..." --lecture N`: a new lesson that runs before anyone edits it.

Writes, from app/lessons/templates/:
- its `Lesson(...)` entry at the end of `LESSONS` (app/lessons/__init__.py),
- the page `pages/<slug>.py` (two lines),
- the lesson package `app/lessons/<slug>/` (INTRO, one preset, `controls`) with one tab, `explore_tab.py`,
- the model package `models/<slug>/` with a config dataclass that validates itself and a computation,
- `tests/models/test_<slug>.py` (the model against a reference) and `tests/pages/test_<slug>_page.py` (AppTest).
The placeholder model is a softmax at a temperature, tested against torch.softmax; replace it with the lesson's.
Navigation, the Home card, the page and browser tests pick the lesson up from `LESSONS`.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from app.lessons import LESSONS, ROOT, SECTIONS

TEMPLATES = Path(__file__).resolve().parent / "templates"
SLUG = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


def files(slug: str) -> dict[str, str]:
    """{path relative to the root: template name}."""
    return {
        f"pages/{slug}.py": "page.py.tmpl",
        f"app/lessons/{slug}/__init__.py": "lesson_init.py.tmpl",
        f"app/lessons/{slug}/explore_tab.py": "tab.py.tmpl",
        f"models/{slug}/__init__.py": "model_init.py.tmpl",
        f"models/{slug}/model.py": "model.py.tmpl",
        f"tests/models/test_{slug}.py": "test_model.py.tmpl",
        f"tests/pages/test_{slug}_page.py": "test_page.py.tmpl",
    }


def lesson_entry(slug: str, title: str, icon: str, section: str, lecture: str, summary: str) -> str:
    args = [slug, title, icon, section, lecture, summary]
    return "    Lesson(\n" + "".join(f"        {json.dumps(a, ensure_ascii=False)},\n" for a in args) + "    ),\n"


def new_lesson(
    slug: str,
    title: str,
    lecture: str,
    section: str = SECTIONS[0],
    icon: str = "🧩",
    summary: str = "",
    root: Path = ROOT,
) -> list[Path]:
    """Write the lesson's files under `root`; returns them. Refuses a taken slug or an existing file."""
    if not SLUG.match(slug):
        raise ValueError(f"A slug is one lowercase word (letters, digits, _), like 'rnn' (got {slug!r}).")
    if section not in SECTIONS:
        raise ValueError(f"The section must be one of {SECTIONS} (got {section!r}).")
    registry = root / "app" / "lessons" / "__init__.py"
    text = registry.read_text()
    if slug in {item.slug for item in LESSONS} or f'"{slug}",' in text or f"'{slug}'," in text:
        raise ValueError(f"A lesson {slug!r} exists already.")
    targets = {root / path: template for path, template in files(slug).items()}
    taken = [str(path) for path in targets if path.exists()]
    if taken:
        raise FileExistsError("Not overwriting: " + ", ".join(taken))
    name = "".join(part.capitalize() for part in slug.split("_"))
    lecture_number = lecture.removeprefix("Lecture ").strip()
    fill = {"__SLUG__": slug, "__NAME__": name, "__TITLE__": title, "__LECTURE__": lecture_number}
    for path, template in targets.items():
        body = (TEMPLATES / template).read_text()
        for token, value in fill.items():
            body = body.replace(token, value)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    start = text.index("LESSONS = [")
    end = text.index("\n]\n", start) + 1  # the list's closing bracket, alone on its line
    summary = summary or f"{title}: scaffolded; say here what a student will see."
    entry = lesson_entry(slug, title, icon, section, f"Lecture {lecture_number}", summary)
    registry.write_text(text[:end] + entry + text[end:])
    written = [registry, *targets]
    # the house format (ruff, a dev requirement): the templates' lines fit any line length once formatted
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", *map(str, written)], cwd=root, check=False)
    return written


def parser() -> argparse.ArgumentParser:
    command_line = argparse.ArgumentParser(
        prog="python -m app.lessons",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = command_line.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="scaffold a lesson")
    new.add_argument("slug", help="one lowercase word: page file, URL path, package, settings prefix")
    new.add_argument("--title", required=True)
    new.add_argument("--lecture", required=True, help="the course lecture's number, e.g. 4")
    new.add_argument("--section", default=SECTIONS[0], choices=SECTIONS)
    new.add_argument("--icon", default="🧩")
    new.add_argument("--summary", default="", help="the Home card's promise")
    new.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    return command_line


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        written = new_lesson(args.slug, args.title, args.lecture, args.section, args.icon, args.summary, args.root)
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}")
        return 2
    for path in written:
        print(f"wrote {path.relative_to(args.root)}")
    print(f"next: python -m pytest tests/models/test_{args.slug}.py tests/pages/test_{args.slug}_page.py")
    return 0
