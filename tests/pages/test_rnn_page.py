"""The RNN page (AppTest): a chart at once, each preset's number measured on a fresh page, bad input a message."""

import base64
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.lessons import PAGES_DIR
from app.lessons.rnn import PRESETS
from tests import conftest
from tests.conftest import ENTRY, metrics, open_tab, plotly_figures, setting_key

SLUG = "rnn"


def key(name: str, tab: str | None = None) -> str:
    """The setting's widget key."""
    return setting_key(SLUG, name, tab)


def open_page() -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.switch_page(str(PAGES_DIR / "rnn.py"))
    return at.run()


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def preset(at, short: str) -> AppTest:
    name = next(n for n in PRESETS if short in n)
    at.button(key=f"rnn:preset-{name}").click().run()
    assert not at.exception and not errors(at), [e.value for e in at.exception] + errors(at)
    assert at.session_state["rnn.tab"] == PRESETS[name].tab
    return at


def values(array) -> np.ndarray:
    """A plotly trace's array: a list, or numpy's {"dtype", "bdata"} as plotly writes an ndarray."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def far_ratios(at) -> dict[str, float]:
    return {label.split(":")[0]: float(v) for label, v in metrics(at).items() if "back ÷ at the last" in label}


def test_first_view_draws_the_untrained_gradients_and_trains_nothing():
    at = open_page()
    assert not at.exception and not errors(at), [e.value for e in at.exception] + errors(at)
    assert at.title[0].value.endswith("Recurrent networks")
    assert len(at.get("plotly_chart")) == 1
    assert "rnn:run" not in at.session_state
    ratios = far_ratios(at)
    assert set(ratios) == {"vanilla RNN", "LSTM (forget bias 1)", "GRU", "LSTM, forget bias 0"}


def test_vanishing_presets_quote_what_the_page_measures():
    at = preset(open_page(), "vanishes before training")
    ratios = far_ratios(at)
    assert ratios["vanilla RNN"] < 1e-10 and ratios["LSTM (forget bias 1)"] > 1e-9
    at = preset(open_page(), "forget bias of 0")
    ratios = far_ratios(at)
    assert ratios["LSTM (forget bias 0)"] < 1e-10


def test_memory_preset_lstm_and_gru_recall_the_rnn_does_not():
    at = preset(open_page(), "gates remember")
    assert "Untrained: every cell is at chance" in "\n".join(c.value for c in at.caption)
    at.button(key="rnn-memory:step").click().run()
    run = at.session_state["rnn-memory:run"]
    # the kit's chunks, done at once; only the D = 10 models, which see the same sequences as in a full run
    run.trainer.train_steps(100 - run.trainer.steps, distances=(10,))
    at.run()
    shown = {label.split(":")[0]: int(v.rstrip("%")) for label, v in metrics(at).items() if "recall at D = 10" in label}
    assert shown["LSTM"] > 90 and shown["GRU"] > 90 and shown["vanilla RNN"] <= 70, shown


def test_clipping_preset_shows_its_run_at_once_and_start_trains_the_same_one():
    at = preset(open_page(), "clipping tames")
    m = metrics(at)
    assert float(m["loss, no clipping (last 10)"]) > float(m["loss, clipped (last 10)"]) + 1.0, m
    assert float(m["largest ‖g‖, no clipping"]) > 5, m
    assert "(the same numbers)" in "\n".join(c.value for c in at.caption)
    shown = {
        trace["name"]: list(values(trace["y"])) for trace in plotly_figures(at)[1]["data"]
    }  # the loss curves, 60 steps
    at.button(key="rnn-clip:step").click().run()
    trainers = at.session_state["rnn-clip:run"].trainer.trainers
    for name, trainer in trainers.items():
        assert len(shown[name]) == 60 and trainer.losses == pytest.approx(shown[name][: len(trainer.losses)])


def test_bucketing_preset_cuts_padding_below_a_tenth():
    at = preset(open_page(), "bucketing")
    value = metrics(at)["padding: random batches → bucketed"]
    random_share, bucketed = map(int, re.findall(r"(\d+)%", value))
    assert random_share > 50 and bucketed < 10, value
    assert float(metrics(at)["masked: Σ real ÷ # real"]) != float(metrics(at)["unmasked mean (padding counted)"])


def test_step_trains_three_cells_and_bad_input_keeps_the_curves():
    at = open_page()
    at.number_input(key=key("hidden")).set_value(32).run()
    at.number_input(key=key("bptt")).set_value(16).run()
    at.button(key="rnn:step").click().run()
    assert not at.exception and not errors(at), errors(at)
    run = at.session_state["rnn:run"]
    assert set(run.trainer.trainers) == {"rnn", "lstm", "gru"} and run.steps_done >= 1
    assert at.dataframe[0].value["cell"].tolist() == ["vanilla RNN", "LSTM", "GRU"]
    assert len(at.get("plotly_chart")) == 2  # losses, heatmaps
    for title in ("Inside an LSTM", "Padding and masking"):  # both read the trained LSTM
        open_tab(at, title)
        assert not at.exception and not errors(at), (title, errors(at))
        assert "after 1 steps" in "\n".join(c.value for c in at.caption) or title != "Inside an LSTM"
    open_tab(at, "Train live")
    at.number_input(key=key("lr")).set_value(0.0).run()
    assert any("learning rate must be above 0" in e for e in errors(at)), errors(at)
    assert at.session_state["rnn:run"] is run and len(at.get("plotly_chart")) == 2


@pytest.mark.parametrize(
    "text, message",
    [("", "The text is empty"), ("abab", "shorter than one chunk")],
)
def test_bad_user_text_gives_a_message(text, message):
    at = open_page()
    at.selectbox(key=key("corpus")).set_value("user").run()
    at.text_area(key=key("user_text")).set_value(text).run()
    assert not at.exception
    assert any(message in e for e in errors(at)), errors(at)


def test_every_tab_draws_a_chart_before_any_click():
    at = open_page()
    for title in conftest.tab_titles(SLUG):
        open_tab(at, title)
        assert not at.exception and not errors(at), (title, [e.value for e in at.exception] + errors(at))
        assert at.get("plotly_chart"), title
        if title == "Truncated BPTT":  # the gradient of the last loss ends at the chunk's start: T points per line
            lines = {trace["name"]: len(values(trace["y"])) for trace in plotly_figures(at)[0]["data"]}
            assert lines == {"T = 4": 4, "T = 16": 16, "T = 64": 64}, lines
    runs = ("rnn:run", "rnn-memory:run", "rnn-clip:run", "rnn-bptt:run", "rnn-exposure:run")
    assert not [run for run in runs if run in at.session_state], "nothing trains before a click"


def test_a_value_out_of_range_is_a_message_and_the_chart_stays():
    """A link asking for a hidden size beyond the limit: a 🔗 note, the default, a chart."""
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.switch_page(str(PAGES_DIR / "rnn.py"))
    at.query_params[key("hidden")] = "5000"
    at.run()
    assert not at.exception
    assert any("cannot take here" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(at.get("plotly_chart")) == 1


@pytest.mark.parametrize("title, run", [("Truncated BPTT", "bptt"), ("Exposure bias", "exposure")])
def test_tab_runs_train_a_step(title, run):
    at = open_page()
    at.number_input(key=key("hidden")).set_value(32).run()
    open_tab(at, title)
    at.button(key=f"rnn-{run}:step").click().run()
    assert not at.exception and not errors(at), (title, [e.value for e in at.exception] + errors(at))
    assert at.session_state[f"rnn-{run}:run"].steps_done >= 1
    assert at.get("plotly_chart")


@pytest.mark.slow  # 300 steps of two LSTMs, one through the Python loop: about a minute on a free core
def test_exposure_preset_scheduled_sampling_is_lower_on_its_own_samples():
    at = preset(open_page(), "scheduled sampling")
    at.button(key="rnn-exposure:step").click().run()
    run = at.session_state["rnn-exposure:run"]
    run.trainer.train_steps(300 - run.trainer.trainers["teacher forcing"].steps)
    at.run()
    m = metrics(at)
    tf_forced, ss_forced = map(float, m["teacher-forced loss: TF → SS"].split(" → "))
    tf_half, ss_half = map(float, m["loss at half own samples: TF → SS"].split(" → "))
    assert tf_forced < ss_forced and ss_half < tf_half - 0.15, m
