"""The KV-cache page end to end (AppTest): a chart at once, presets that land on their chart and reproduce the
number their tooltip claims, a decode step, bad input kept apart.

Each preset test applies the preset on a fresh page, presses Step once (the kit builds the run), finishes that run
by calling its `train_steps` (what ▶ Start does, without a rerun per chunk), redraws, and reads the numbers off the
page: they must equal `CLAIMS`, from which the tooltips are written.
"""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.lessons.kv_cache import CLAIMS, PRESETS, figures
from tests.conftest import open_tab, setting_key, tab_titles

ROOT = Path(__file__).resolve().parents[2]


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "entry" / "streamlit_app.py"), default_timeout=120)
    at.switch_page(str(ROOT / "pages" / "kv_cache.py"))
    return at.run()


def click(at: AppTest, label: str, nth: int = 0) -> AppTest:
    return [b for b in at.button if b.label == label][nth].click().run()


def preset(at: AppTest, name: str) -> AppTest:
    at = click(at, name)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["kv_cache.tab"] == PRESETS[name].tab
    return at


def finish(at: AppTest, run: str = "") -> AppTest:
    """Step once (the kit builds the run), finish it directly, and redraw."""
    prefix = f"kv_cache-{run}" if run else "kv_cache"
    at = at.button(key=f"{prefix}:step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    trainer = at.session_state[f"{prefix}:run"].trainer
    while not trainer.done:
        trainer.train_steps(64)
    at = at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text.replace(",", ""))]


def test_default_render_draws_a_chart_at_once_and_trains_nothing(smollm2):
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title and "KV cache" in at.title[0].value
    assert any("Nothing trained yet" in c.value for c in at.caption)
    assert not at.dataframe  # no run before Start / Step
    charts = at.get("plotly_chart")
    assert charts and "Full cache: loss along the text" in charts[0].proto.spec  # step 0, no click
    intro = at.markdown[0].value
    assert "8 tokens at a time" in intro and "Q4_1" in intro and "Compression at prefill" in intro


def test_every_preset_claims_its_numbers():
    """A tooltip's numbers are CLAIMS' numbers (the tests below check the page computes them)."""
    for name, claim in [
        ("Lecture demo: attention sinks", CLAIMS["sinks"]),
        ("Lecture demo: PyramidKV's budgets", CLAIMS["pyramid"]),
        ("Lecture demo: R-KV on a reasoning trace", CLAIMS["rkv"]),
    ]:
        assert set(claim.values()) <= set(numbers(PRESETS[name].shows)), name
    assert CLAIMS["one sink"]["StreamingLLM @ 32"] in numbers(PRESETS["Lecture demo: one sink is not quite four"].shows)
    assert CLAIMS["memory"] in numbers(PRESETS["Lecture demo: a 3B model at 1M tokens"].shows)


def test_calculator_preset_shows_the_lectures_number(smollm2):
    at = preset(open_page(), "Lecture demo: a 3B model at 1M tokens")
    metric = [m for m in at.metric if "Llama-3.2-3B" in m.label][0]
    assert metric.value == f"{CLAIMS['memory']} GB"  # 2 × 28 × 8 × 128 × 1e6 × 2 B


def test_pyramid_preset_lands_on_its_chart_without_a_click(smollm2):
    at = preset(open_page(), "Lecture demo: PyramidKV's budgets")
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert charts and "PyramidKV: tokens kept per layer" in charts[0]
    claim = CLAIMS["pyramid"]
    caption = next(c.value for c in at.caption if c.value.startswith("PyramidKV: layer 0"))
    assert f"keeps {claim['bottom']} tokens" in caption and f"keeps {claim['top']}," in caption
    assert f"{claim['mean']} on average" in caption and f"prompt of {claim['prompt']} tokens" in charts[0]


def test_no_layer_budget_bars_without_pyramidkv(smollm2):
    at = open_tab(open_page(), "Kept tokens")
    assert not at.exception
    assert not any("tokens kept per layer" in c.proto.spec for c in at.get("plotly_chart"))


def table(at: AppTest):
    return at.dataframe[0].value.set_index("run")


@pytest.mark.parametrize(
    "name, claim",
    [("Lecture demo: attention sinks", "sinks"), ("Lecture demo: one sink is not quite four", "one sink")],
)
def test_sink_presets_measure_what_they_claim(smollm2, name, claim):
    at = finish(preset(open_page(), name))
    measured = table(at)["perplexity"]
    for run, value in CLAIMS[claim].items():
        assert round(measured[run], 1) == value, (run, measured[run])
    speeds = table(at)["decode tokens/s"]
    assert speeds["Full cache"] < 3 * speeds.drop("Full cache").min()  # step by step for all: like with like


@pytest.mark.slow  # four runs of 256 tokens: ~15 s on a quiet 2-core machine, ~30 s under load
def test_rkv_preset_runs_on_a_reasoning_trace(smollm2):
    at = preset(open_page(), "Lecture demo: R-KV on a reasoning trace")
    assert at.session_state["kv_cache.source"] == "reasoning"
    at = finish(at)
    measured = table(at)["perplexity"]
    for run, value in CLAIMS["rkv"].items():
        assert round(measured[run], 1) == value, (run, measured[run])


@pytest.mark.slow  # twelve needle runs: ~25 s on a quiet 2-core machine, ~50 s under load
def test_needle_preset_measures_what_it_claims(smollm2):
    at = preset(open_page(), "Lecture demo: needle in a haystack")
    assert any("Compression at prefill" in c.value for c in at.caption)
    at = finish(at, "needle")
    summary = next(d.value for d in at.dataframe if "policy" in d.value.columns).set_index("policy")
    for policy, (found, low, high) in CLAIMS["needle"].items():
        row = summary.loc[policy]
        assert (row["found"], row["needles"]) == (found, 4), policy
        assert (row["digits held, min %"], row["digits held, max %"]) == (low, high), policy


def test_step_decodes_one_chunk(smollm2):
    at = open_page()
    at.slider(key="kv_cache.n_tokens").set_value(64).run()
    at = click(at, "⏭ Step")
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["kv_cache:run"]
    assert run.steps_done >= 1
    while "Full cache" not in run.trainer.results:
        at = click(at, "⏭ Step")
    assert at.dataframe[0].value["run"].tolist()[0] == "Full cache"


def test_after_a_run_every_tab_draws(smollm2):
    at = open_page()
    at.slider(key="kv_cache.n_tokens").set_value(64).run()
    at.slider(key="kv_cache.budget").set_value(24).run()
    at.multiselect(key="kv_cache.policies").set_value(["StreamingLLM", "PyramidKV", "SnapKV (streaming)"]).run()
    at = finish(at)
    frame = table(at)
    assert list(frame["way"]) == ["none", "during decoding", "at prefill", "during decoding"]
    assert "perplexity after token 32" in frame.columns  # the like-with-like column beside a prefill compressor
    assert "compressed once to 24" in frame.loc["PyramidKV @ 24", "note"]
    for title in tab_titles("kv_cache"):
        at = open_tab(at, title)
        assert not at.exception, (title, [e.value for e in at.exception])
        assert not at.error, (title, [e.value for e in at.error])
    at = open_tab(at, "Kept tokens")
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert "tokens kept per layer" in specs[0] and any("what layer 0" in s for s in specs)


def test_bad_budget_is_a_message_and_the_last_settings_stay(smollm2):
    at = open_page()
    at.slider(key="kv_cache.chunk").set_value(32).run()
    at.slider(key="kv_cache.budget").set_value(20).run()
    assert not at.exception
    assert any("below" in e.value and "budget" in e.value.lower() for e in at.error)
    assert any("last result that worked" in c.value for c in at.caption)
    at.slider(key="kv_cache.budget").set_value(48).run()
    assert not at.error, [e.value for e in at.error]


def test_user_text_empty_and_budget_over_length(smollm2):
    at = open_page()
    at.selectbox(key="kv_cache.source").set_value("user").run()
    assert any("Paste a text" in e.value for e in at.error)
    at.text_area(key="kv_cache.user_text").set_value("A short text about caches. " * 5).run()
    assert not at.error, [e.value for e in at.error]
    assert any("equals the full cache" in i.value for i in at.info)
    assert at.get("plotly_chart")  # the first view for a student's own text, computed in the session


def test_config_dims_reads_a_config_and_rejects_a_bad_one():
    dims = figures.config_dims(
        {
            "num_hidden_layers": 28,
            "num_attention_heads": 24,
            "num_key_value_heads": 8,
            "hidden_size": 3072,
        }
    )
    assert dims == (28, 8, 128)
    with pytest.raises(ValueError, match="num_hidden_layers"):
        figures.config_dims({"hidden_size": 3})


def test_needle_preset_opens_the_grid_and_a_step_runs(smollm2):
    at = preset(open_page(), "Lecture demo: needle in a haystack")
    assert any("greedy decoding" in c.value for c in at.caption)
    assert at.session_state[setting_key("kv_cache", "needle_lengths", "needle")] == [256]
    at.multiselect(key=setting_key("kv_cache", "needle_lengths", "needle")).set_value([128]).run()
    at.multiselect(key=setting_key("kv_cache", "needle_depths", "needle")).set_value([90]).run()
    at.number_input(key=setting_key("kv_cache", "needle_trials", "needle")).set_value(1).run()
    for _ in range(2):  # the full cache reads the prompt in one step, the answer in the next
        at = at.button(key="kv_cache-needle:step").click().run()
        assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["kv_cache-needle:run"]
    assert run.steps_done >= 2 and run.trainer.rows[0]["policy"] == "Full cache"
