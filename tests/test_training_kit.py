"""The live-training kit: nothing trains on load; Step, Pin and Reset behave; errors become messages."""

from streamlit.testing.v1 import AppTest


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
        "k_",
        lambda: Counter(lr),
        20,
        {"k_lr": lr},
        lambda r: st.plotly_chart(metric_chart(r, "loss", "k_")),
    )
    st.session_state["steps_seen"] = 0 if run is None else run.steps_done


def test_nothing_trains_on_first_load_then_step_reset_pin():
    at = AppTest.from_function(kit_app, default_timeout=10).run()
    assert not at.exception and at.session_state["steps_seen"] == 0
    step = [b for b in at.button if "Step" in b.label][0]
    step.click().run()
    run = at.session_state["k_run"]
    assert run.steps_done >= 1 and run.history[-1]["loss"] < 10
    assert run.history[-1]["loss"] == 10 * 0.9**run.steps_done
    [b for b in at.button if "Pin" in b.label][0].click().run()
    assert len(at.session_state["k_pins"]) == 1
    [b for b in at.button if "Reset" in b.label][0].click().run()
    assert "k_run" not in at.session_state
    assert len(at.session_state["k_pins"]) == 1  # pinned curves survive a reset


def test_bad_hyperparameters_become_a_message():
    at = AppTest.from_function(kit_app, default_timeout=10).run()
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

    from app.errors import friendly_errors

    st.session_state["device"] = "cuda"
    with friendly_errors("Training"):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory.")
    st.write("still alive")


def test_friendly_errors_turn_out_of_memory_into_a_message():
    at = AppTest.from_function(oom_app, default_timeout=10).run()
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
