"""The live-training kit: nothing trains on load; Step, Pin and Reset behave; errors become messages; a class
shares the server: a queue with places shown, one run per student, a cap on held runs, sessions kept apart."""

import gc
import time

import pytest
from streamlit.testing.v1 import AppTest

import app.training as training
from app.classroom import freeze_what_is_loaded


def kit_app():
    import streamlit as st

    from app.training import metric_chart, training_panel

    class Counter:
        def __init__(self, lr):
            if lr <= 0:
                raise ValueError("The learning rate must be positive.")
            self.loss, self.lr = 10.0, lr

        def train_steps(self, n):
            for _ in range(n):
                self.loss *= 1 - self.lr
            return {"loss": self.loss}

    lr = st.number_input("lr", value=0.1, key="k_lr", min_value=-1.0)
    run = training_panel(
        "k",
        lambda: Counter(lr),
        20,
        {"k_lr": lr},
        lambda r: st.plotly_chart(metric_chart(r, "loss", "k")),
    )
    st.session_state["steps_seen"] = 0 if run is None else run.steps_done


def test_nothing_trains_on_first_load_then_step_reset_pin():
    at = AppTest.from_function(kit_app, default_timeout=60).run()
    assert not at.exception and at.session_state["steps_seen"] == 0
    step = [b for b in at.button if "Step" in b.label][0]
    step.click().run()
    run = at.session_state["k:run"]
    assert run.steps_done >= 1 and run.history[-1]["loss"] < 10
    assert run.history[-1]["loss"] == 10 * 0.9**run.steps_done
    [b for b in at.button if "Pin" in b.label][0].click().run()
    assert len(at.session_state["k:pins"]) == 1
    [b for b in at.button if "Reset" in b.label][0].click().run()
    assert "k:run" not in at.session_state
    assert len(at.session_state["k:pins"]) == 1  # pinned curves survive a reset


def test_bad_hyperparameters_become_a_message():
    at = AppTest.from_function(kit_app, default_timeout=60).run()
    at.number_input(key="k_lr").set_value(-0.5).run()
    [b for b in at.button if "Start" in b.label][0].click().run()
    assert not at.exception
    assert any("learning rate must be positive" in e.value for e in at.error)


def test_advance_runs_to_completion_and_sizes_chunks():
    from app.training import TrainingRun, advance

    class Slow:
        def train_steps(self, n):
            return {"loss": 1.0, "n": n}

    run = TrainingRun(Slow(), total_steps=1000, settings={}, running=True)
    for _ in range(50):
        advance(run, chunk_seconds=0.01)
        if run.finished:
            break
    assert run.finished and not run.running and run.steps_done == 1000
    assert run.history[-1]["n"] > 1, "chunks grow when steps are fast"


def test_out_of_memory_in_a_chunk_stops_the_run_with_a_message():
    import torch

    from app.training import TrainingRun, advance

    class Hungry:
        def train_steps(self, n):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    run = TrainingRun(Hungry(), total_steps=10, settings={}, running=True)
    advance(run)
    assert not run.running and "ran out of memory" in run.error and run.steps_done == 0


def oom_app():
    import streamlit as st
    import torch

    from app.lessons import lesson
    from app.page import LessonPage

    def hungry():
        raise torch.cuda.OutOfMemoryError("CUDA out of memory.")

    st.session_state["device"] = "cuda"
    LessonPage(lesson("moe"), "cuda").compute("loss", "Training", hungry)
    st.write("still alive")


def test_out_of_memory_in_page_compute_is_a_message():
    at = AppTest.from_function(oom_app, default_timeout=60).run()
    assert not at.exception
    assert "ran out of memory" in at.error[0].value
    assert at.markdown[-1].value == "still alive"


def test_a_trainer_that_finishes_early_shows_full_progress():
    from app.training import TrainingRun, advance

    class Short:
        done = False

        def train_steps(self, n):
            self.done = True  # e.g. a small text whose epochs end before the planned steps
            return {"loss": 1.0}

    run = TrainingRun(Short(), total_steps=300, settings={}, running=True)
    advance(run)
    assert run.finished and not run.running and run.steps_done < 300 and run.progress == 1.0


# ------------------------------------------------------------------------------------ a class on one server
@pytest.fixture
def fresh_server(monkeypatch):
    """A fresh queue and run table with small limits (the process-wide ones are cached per server)."""

    # The first run table of a process freezes what is alive (gc.freeze, once per process, as the server does in
    # its first page before any session holds a run). Freeze here, before this test's AppTest exists: frozen, its
    # session state would never be collected, and a test that runs first in its worker would see a closed
    # session's run stay in the table.
    freeze_what_is_loaded()

    def configure(max_runs=2, max_held=40, per_session=1):
        monkeypatch.setattr(training, "MAX_RUNS", max_runs)
        monkeypatch.setattr(training, "MAX_HELD_RUNS", max_held)
        monkeypatch.setattr(training, "RUNS_PER_SESSION", per_session)
        training.run_queue.clear()
        training.run_table.clear()

    yield configure
    training.run_queue.clear()
    training.run_table.clear()


def two_lessons_app():
    import streamlit as st

    from app.training import training_panel

    class Counter:
        def __init__(self):
            self.loss = 1.0

        def train_steps(self, n):
            self.loss *= 0.5**n
            return {"loss": self.loss}

    for prefix in ("ngrams", "attention"):
        st.subheader(prefix)
        training_panel(prefix, Counter, 1_000_000, {}, lambda r: st.write(f"loss={r.history}"))


def click(at, key):
    at.button(key=key).click().run()
    assert not at.exception, at.exception


def test_a_full_queue_shows_the_place_and_trains_when_a_turn_comes(fresh_server):
    fresh_server(max_runs=1)
    queue = training.run_queue()
    assert queue.request("another-students-run") is None  # the one training slot is taken
    assert queue.request("a-run-that-came-earlier") == 0  # and someone waits already
    at = AppTest.from_function(two_lessons_app, default_timeout=60).run()
    click(at, "ngrams:start")
    run = at.session_state["ngrams:run"]
    assert run.running and run.steps_done == 0 and run.waiting == 1
    assert any("1 run ahead of yours" in i.value for i in at.info)
    queue.release("another-students-run")
    queue.release("a-run-that-came-earlier")
    at.run()  # the next poll of the queue: a turn
    assert run.waiting is None and run.steps_done >= 1
    assert not any("ahead of yours" in i.value for i in at.info)


def test_turns_pass_on_when_the_quantum_is_over():
    from app.classroom import RunQueue

    now = [0.0]
    queue = RunQueue({"cpu": 1}, quantum_s=30, stale_s=10, clock=lambda: now[0])
    assert queue.request("a") is None
    assert queue.request("b") == 0  # b waits, first in line
    for t in range(5, 35, 5):  # both keep asking: a trains, b keeps its place
        now[0] = t
        assert queue.request("a") is None and queue.request("b") == 0
    now[0] = 35
    assert queue.request("a") == 1, "after 30 s with someone waiting, a goes to the back"
    assert queue.request("b") is None and queue.request("a") == 0


def test_a_second_run_of_the_same_student_pauses_the_first_and_says_so(fresh_server):
    fresh_server(per_session=1)
    at = AppTest.from_function(two_lessons_app, default_timeout=60).run()
    click(at, "ngrams:start")
    click(at, "attention:start")
    first, second = at.session_state["ngrams:run"], at.session_state["attention:run"]
    assert second.running and not first.running and first.steps_done >= 1
    assert any("was paused so that this one can train" in i.value for i in at.info)
    assert any("Paused when you started a run" in i.value for i in at.info)  # on the first panel
    click(at, "ngrams:start")  # Resume the first: the second pauses
    assert first.running and not second.running


def test_the_server_says_when_it_holds_as_many_runs_as_it_may(fresh_server):
    fresh_server(max_held=1)
    alice = AppTest.from_function(two_lessons_app, default_timeout=60).run()
    bob = AppTest.from_function(two_lessons_app, default_timeout=60).run()
    click(alice, "ngrams:start")
    click(bob, "ngrams:start")
    assert "ngrams:run" not in bob.session_state
    assert any("The server is full" in e.value and "limit is 1 runs" in e.value for e in bob.error)
    assert alice.session_state["ngrams:run"].steps_done >= 1, "the run already held is untouched"
    click(alice, "ngrams:reset")
    click(bob, "ngrams:start")
    assert bob.session_state["ngrams:run"].running and not bob.error


def test_one_session_never_sees_another_sessions_run(fresh_server):
    fresh_server()
    alice = AppTest.from_function(two_lessons_app, default_timeout=60).run()
    bob = AppTest.from_function(two_lessons_app, default_timeout=60).run()
    click(alice, "ngrams:step")
    assert alice.session_state["ngrams:run"].steps_done >= 1
    bob.run()
    assert "ngrams:run" not in bob.session_state
    assert not any("loss=" in m.value for m in bob.markdown)
    table = training.run_table()
    assert table.totals()[0] == 1
    assert set(table.runs_of(alice.session_state["kit:owner"])) == {"ngrams"}
    click(bob, "ngrams:step")
    bobs = table.runs_of(bob.session_state["kit:owner"])
    assert list(bobs) == ["ngrams"] and bobs["ngrams"] is bob.session_state["ngrams:run"]
    assert bobs["ngrams"] is not alice.session_state["ngrams:run"]
    click(bob, "ngrams:reset")  # Bob's reset does not touch Alice's run
    assert table.totals()[0] == 1 and alice.session_state["ngrams:run"].steps_done >= 1


def test_runs_of_a_session_that_is_gone_leave_the_server_table(fresh_server):
    fresh_server()
    at = AppTest.from_function(two_lessons_app, default_timeout=60).run()
    click(at, "ngrams:start")
    table = training.run_table()
    assert table.totals()[0] == 1
    del at  # the session's state goes with it (as when Streamlit forgets a closed tab)
    deadline = time.monotonic() + 5  # AppTest's script thread may still be winding down on a busy machine
    while table.totals() != (0, 0) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    assert table.totals() == (0, 0)


def test_runs_of_a_session_the_server_forgot_are_released():
    from app.classroom import RunTable
    from app.training import TrainingRun

    class Trainer:
        def train_steps(self, n):
            return {}

    status = {"s1": "connected", "s2": "connected", "s3": "connected"}
    now, dropped = [0.0], []
    table = RunTable(4, 2**30, status.get, on_drop=dropped.append, release_after_s=60, clock=lambda: now[0])
    runs = [TrainingRun(Trainer(), 10, {}, running=True) for _ in range(3)]
    for i, run in enumerate(runs, 1):
        table.add(f"owner{i}", f"s{i}", "ngrams", run, 100)
    assert table.totals() == (3, 300)
    status["s1"] = "gone"  # Streamlit no longer knows session s1
    status["s2"] = "disconnected"  # s2's tab closed: kept for a reconnect for a while
    assert table.totals() == (2, 200)
    assert runs[0].trainer is None and not runs[0].running, "its model is freed at once"
    now[0] = 59
    assert table.totals() == (2, 200), "a tab that reconnects within a minute finds its run"
    now[0] = 61
    assert table.totals() == (1, 100) and runs[1].trainer is None
    assert runs[2].trainer is not None and dropped == [runs[0].run_id, runs[1].run_id]


def test_leaving_the_page_is_said_on_the_page(fresh_server):
    fresh_server()
    at = AppTest.from_function(two_lessons_app, default_timeout=60).run()
    click(at, "ngrams:start")
    assert any("another page pauses it" in c.value for c in at.caption)


def test_a_run_freed_while_its_tab_was_closed_says_so_and_starts_anew(fresh_server):
    fresh_server()
    at = AppTest.from_function(two_lessons_app, default_timeout=60).run()
    click(at, "ngrams:step")
    at.session_state["ngrams:run"].trainer = None  # what the table does to a tab closed too long
    at.run()
    assert not at.exception
    assert any("This run was freed" in w.value for w in at.warning)
    click(at, "ngrams:start")
    assert at.session_state["ngrams:run"].trainer is not None


def test_a_run_is_titled_by_its_lesson_from_lessons():
    """The sidebar and the paused notice name a run by its lesson's title (and label), never by its key."""
    from app.training import TrainingRun, run_title

    class Idle:
        def train_steps(self, n):
            return {}

    assert run_title("lora-real") == "LoRA rank effects"
    assert run_title("word_embeddings:compare") == "Word embeddings"
    labelled = TrainingRun(Idle(), 10, {}, label="bits vs tokens")
    assert run_title("kv_cache-quant", labelled) == "KV cache and eviction · bits vs tokens"
    assert run_title("nothing-known") == "nothing-known"
