"""The suite's time budget, a pytest plugin (loaded by tests/conftest.py).

Every test that is not marked `slow` has BUDGET_S seconds (setup, call and teardown together), measured on a quiet
2-core machine running the suite with its default workers. The summary lists every test over the budget, and the
run ends red when one takes over LIMIT_S (three times the budget, room for a loaded machine). A test whose claim
truly needs minutes is marked `slow` and runs with its own command, `python -m pytest -m slow`.

Under pytest-xdist the workers' reports reach the controller, which keeps the tally; a report carries its test's
markers in `keywords`.
"""

import os

import pytest

BUDGET_S = float(os.environ.get("NLP_PLAYGROUND_TEST_BUDGET_S", "30"))
LIMIT_S = float(os.environ.get("NLP_PLAYGROUND_TEST_LIMIT_S", str(3 * BUDGET_S)))

_SPENT: dict[str, float] = {}  # test id -> seconds, setup + call + teardown, tests not marked slow


def over(seconds: float) -> list[tuple[str, float]]:
    """Tests not marked slow that took longer than `seconds`, slowest first."""
    late = [(nodeid, spent) for nodeid, spent in _SPENT.items() if spent > seconds]
    return sorted(late, key=lambda item: -item[1])


def pytest_runtest_logreport(report):
    if "slow" not in report.keywords:
        _SPENT[report.nodeid] = _SPENT.get(report.nodeid, 0.0) + report.duration


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    late = over(BUDGET_S)
    if _is_worker(config) or not late:
        return
    terminalreporter.section("time budget")
    terminalreporter.write_line(
        f"{len(late)} test(s) not marked slow took over {BUDGET_S:.0f} s "
        f"(the run fails when one takes over {LIMIT_S:.0f} s):"
    )
    for nodeid, spent in late:
        flag = "  OVER THE LIMIT" if spent > LIMIT_S else ""
        terminalreporter.write_line(f"  {spent:6.1f} s  {nodeid}{flag}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if not _is_worker(session.config) and exitstatus == pytest.ExitCode.OK and over(LIMIT_S):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
