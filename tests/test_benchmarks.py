"""The benchmark command prints a table of ratios against the reference (smoke runs on small inputs)."""

import pytest

from benchmarks.__main__ import LESSONS, main


def _table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| lesson")
    ]


def test_quick_ngram_benchmark_prints_ratios(capsys):
    assert main(["--quick", "--only", "ngrams"]) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert rows and all(row[0] == "ngrams" for row in rows)
    ratios = [row[4] for row in rows if row[4] != "—"]
    assert ratios and all(r.endswith("x") and float(r[:-1]) > 0 for r in ratios)


def test_benchmarks_are_named_by_lesson_slugs():
    assert {"next_token", "word_embeddings", "ngrams", "attention"} <= set(LESSONS)


@pytest.mark.slow
def test_every_benchmark_runs_quick(capsys):
    assert main(["--quick"]) == 0
    lessons = {row[0] for row in _table_rows(capsys.readouterr().out)}
    assert lessons == set(LESSONS)
