"""The benchmark command prints a table of ratios against the reference, for every lesson.

The default suite checks that every lesson has its benchmark and runs one quick benchmark end to end; each
lesson's quick run is a `slow` test of its own (a lesson's quick run takes 10 s to a few minutes on 2 cores).
"""

import importlib
import inspect

import pytest

from app.lessons import LESSONS as COURSE
from benchmarks.__main__ import LESSONS, main


def _table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| lesson")
    ]


def _check_rows(text: str, lesson: str) -> None:
    rows = _table_rows(text)
    assert rows and all(row[0] == lesson and row[1] != "FAILED" for row in rows), rows
    ratios = [row[4] for row in rows if row[4] != "—"]
    assert ratios and all(r.endswith("x") and float(r[:-1]) > 0 for r in ratios), rows


def test_every_lesson_has_a_benchmark_named_by_its_slug():
    assert LESSONS == [lesson.slug for lesson in COURSE]
    for slug in LESSONS:
        run = importlib.import_module(f"benchmarks.{slug}").run
        assert list(inspect.signature(run).parameters) == ["quick", "device"], slug


def test_quick_ngram_benchmark_prints_ratios(capsys):
    assert main(["--quick", "--only", "ngrams"]) == 0
    _check_rows(capsys.readouterr().out, "ngrams")


def test_a_failing_benchmark_is_a_failed_row_and_a_nonzero_exit(capsys, monkeypatch):
    import benchmarks.ngrams

    def broken(quick, device):
        raise RuntimeError("boom")

    monkeypatch.setattr(benchmarks.ngrams, "run", broken)
    assert main(["--quick", "--only", "ngrams"]) == 1
    assert "| ngrams | FAILED |" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_every_benchmark_runs_quick(capsys, lesson):
    assert main(["--quick", "--only", lesson]) == 0
    _check_rows(capsys.readouterr().out, lesson)
