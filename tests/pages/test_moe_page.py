"""The MoE page end to end (AppTest): a chart at once, a Step trains the three runs, presets that land on their
view and reproduce the number their tooltip claims, bad input keeps the last result.

Each training preset's test applies the preset on a fresh page, presses Step once (the kit builds the run), trains
the run directly to the step the tooltip names (what ▶ Start does, without a rerun per chunk), redraws, and reads
the numbers off the page's table: they must equal `CLAIMS`, from which the tooltips are written. The 150-step ones
are slow (three models × 150 steps: ~60 s on a busy 2-core machine).
"""

import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.lessons.moe import CLAIMS, PRESETS, data, figures
from tests.conftest import ENTRY, PAGES_DIR, open_tab, plotly_figures, setting_key

PAGE = str(PAGES_DIR / "moe.py")


def open_page() -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.switch_page(PAGE)
    return at.run()


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def preset(at, name: str) -> AppTest:
    full = f"Lecture demo: {name}"
    at = at.button(key=f"moe:preset-{full}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not errors(at), errors(at)
    assert at.session_state[setting_key("moe", "tab")] == PRESETS[full].tab
    return at


def train_to(at: AppTest, step: int) -> AppTest:
    """Step once (the kit builds the run), train it directly to `step`, and redraw."""
    at = at.button(key="moe:step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    trainers = at.session_state["moe:run"].trainer.trainers
    done = trainers["none"].steps
    assert done <= step, f"the first chunk already ran {done} steps"
    for trainer in trainers.values():
        trainer.train_steps(step - done)
    at = at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table(at: AppTest):
    """The page's measures table, {run: row}, shares in whole percent as the tooltips state them."""
    frame = at.dataframe[0].value.set_index("run")
    return {key: frame.loc[name] for key, name in figures.RUN_NAMES.items()}


def near(value: float, claim: int) -> bool:
    """A share the table shows against a whole-percent claim: within 0.6 point (threads move it by up to 0.3)."""
    return abs(100 * float(value) - claim) <= 0.6


def test_default_render_draws_the_untrained_loads_at_once_and_trains_nothing():
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    assert not errors(at)
    assert at.title[0].value.endswith("Mixture-of-Experts routing")
    assert "Nothing trained yet" in captions(at)
    assert "moe:run" not in at.session_state
    (figure,) = plotly_figures(at)  # step 0: the untrained router's loads, no click
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["layer 1", "layer 2"]
    assert any(m.value.startswith("**Step 0: where the untrained router sends") for m in at.markdown)
    share = re.search(r"busiest expert takes ([\d.]+)% of the assignments", captions(at))
    assert share and 12.5 < float(share.group(1)) < 50
    intro = at.markdown[0].value
    assert "full-size MLP" in intro and "E small ones" not in intro and "shared experts" in intro


def test_no_chart_puts_a_title_over_its_subplot_titles():
    import numpy as np

    loads = {run: np.full((5, 2, 8), 1 / 8) for run in figures.RUN_NAMES}
    history = pd.DataFrame({"step": [1, 2], "none.loss": [3.0, 2.0], "none.load_cv": [0.1, 0.2]})
    built = [
        figures.load_heatmaps(loads),
        figures.current_loads(loads)[0],
        figures.curves(history, ["none"]),
        figures.initial_loads(loads["none"][0])[0],
        figures.cost_figure(
            {
                "A": dict.fromkeys(["total_params", "active_params", "flops_per_token"], 2e9)
                | {"dense_same_total_flops": 8e9}
            }
        ),
    ]
    for fig in built:
        assert fig.layout.annotations and not fig.layout.title.text, "a title would sit on the subplot titles"


def test_cost_chart_has_four_distinct_legend_entries_and_one_tick_per_decade():
    from models.moe.cost import REAL_CONFIGS, moe_cost

    fig = figures.cost_figure({name: moe_cost(a) for name, a in REAL_CONFIGS.items()})
    entries = [(t.name, t.marker.color, t.marker.pattern.shape or "") for t in fig.data]
    assert len(set(entries)) == len(entries) == 4
    assert len({(color, pattern) for _, color, pattern in entries}) == 4, "no two swatches look alike"
    for axis in (fig.layout.yaxis, fig.layout.yaxis2):
        assert axis.type == "log" and axis.dtick == 1 and axis.exponentformat == "none"


def test_step_trains_all_three_runs_then_bad_input_keeps_them():
    at = open_page()
    at.button(key="moe:step").click().run()
    assert not at.exception and not errors(at)
    run = at.session_state["moe:run"]
    assert run.steps_done >= 1 and set(run.trainer.trainers) == {"none", "aux", "bias"}
    assert list(at.dataframe[0].value["run"]) == ["no balancing", "auxiliary loss", "bias (aux-loss-free)"]
    assert "Measured now: load CV" in captions(at)
    assert not any(m.value.startswith("**Step 0") for m in at.markdown), "the run replaces the step-0 view"

    open_tab(at, "Which expert")  # the text tab routes once trained: every character coloured, in each layer
    assert not at.exception and not errors(at)
    n_layers = run.trainer.trainers["none"].config.n_layers
    assert len([m for m in at.markdown if m.value.startswith("**Layer ")]) == n_layers
    assert len([m for m in at.markdown if m.value.count("<span") >= 20]) == n_layers

    open_tab(at, "Train live")
    at.slider(key="moe.n_experts").set_value(1).run()
    assert not at.exception
    assert any("With one expert there is nothing to route" in e for e in errors(at)), errors(at)
    assert at.session_state["moe:run"] is run  # the earlier run and its charts stay
    assert "Measured now: load CV" in captions(at)
    at.slider(key="moe.n_experts").set_value(4).run()
    at.slider(key="moe.top_k").set_value(6).run()
    assert any("top-k must be between 1 and the number of experts (4)" in e for e in errors(at))
    at.slider(key="moe.top_k").set_value(2).run()
    at.slider(key="moe.n_experts").set_value(8).run()
    assert not errors(at)
    at.number_input(key="moe.bias_update_rate").set_value(-0.1).run()
    assert any("update rate must be 0 or more" in e for e in errors(at))
    at.number_input(key="moe.bias_update_rate").set_value(0.01).run()
    at.checkbox(key="moe.use_capacity").check().run()
    at.number_input(key="moe.capacity_factor").set_value(0.0).run()
    assert any("capacity factor must be above 0" in e for e in errors(at))
    assert "Measured now: load CV" in captions(at)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "The text is empty"),
        ("aaaaaaaa", "single character"),
        ("short text", "characters; one"),
    ],
)
def test_bad_user_text_gives_a_message(text, message):
    at = open_page()
    at.selectbox(key="moe.corpus").set_value("user").run()
    at.text_area(key="moe.user_text").set_value(text).run()
    assert not at.exception
    assert any(message in e for e in errors(at)), errors(at)


def test_every_tooltip_states_its_claims():
    def numbers(name):
        return {float(x) for x in re.findall(r"\d+(?:\.\d+)?", PRESETS[f"Lecture demo: {name}"].shows.replace(",", ""))}

    for name, claim, keys in [
        ("collapse without balancing", "collapse", ("step", "none", "aux", "bias")),
        ("top-1 collapses fast", "top1", ("step", "none", "aux")),
        ("capacity drops tokens", "capacity", ("step", "none", "aux", "bias")),
        ("the bias at work", "bias", ("step", "max_b", "changed", "of")),
        ("DeepSeek-V3 active against total", "deepseek", ("total", "active", "share")),
        ("fine-grained and shared experts (DeepSeekMoE)", "fine", ("stored", "active", "combinations")),
    ]:
        assert {float(CLAIMS[claim][k]) for k in keys} <= numbers(name), name
    assert CLAIMS["bias"]["step"] == data.SHORT_RUN_STEPS


def test_cost_preset_shows_deepseek_active_share():
    at = preset(open_page(), "DeepSeek-V3 active against total")
    claim = CLAIMS["deepseek"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["DeepSeek-V3: total"] == f"{claim['total']} B"
    assert metrics[f"active per token ({claim['share']}%)"] == f"{claim['active']} B"


def test_fine_grained_preset_keeps_the_weights_and_multiplies_the_expert_sets():
    at = open_page()
    open_tab(at, "Cost")
    coarse = {m.label: m.value for m in at.metric}
    at = preset(at, "fine-grained and shared experts (DeepSeekMoE)")
    fine = {m.label: m.value for m in at.metric}
    claim = CLAIMS["fine"]
    for metrics in (coarse, fine):
        assert metrics["Expert weights per MoE layer: stored"] == f"{claim['stored']:,}"
        assert metrics["used per token"] == f"{claim['active']:,}"
    assert coarse["expert sets a token can take, C(8, 2)"] == str(claim["coarse_combinations"])
    assert fine["expert sets a token can take, C(15, 3)"] == str(claim["combinations"])
    assert "plus 1 shared" in captions(at)


def test_bias_preset_lands_on_a_trained_router():
    at = open_page()
    at.button(key="moe:step").click().run()  # a run of the default (softmax) router: not what the preset shows
    at = preset(at, "the bias at work")
    assert at.selectbox(key="moe.router").value == "sigmoid"
    claim = CLAIMS["bias"]
    assert (
        f"No run of yours with these settings yet: the bias (aux-loss-free) run after its first {claim['step']} steps"
        in captions(at)
    )
    text = "\n".join(m.value for m in at.markdown)
    assert "Scores: sigmoid of each logit" in text and "Top-2 of score + bias" in text
    assert f"max |b| = {claim['max_b']:.3f}" in text
    assert f"changed the chosen experts of {claim['changed']} of the {claim['of']} characters" in captions(at)
    (figure,) = plotly_figures(at)
    assert "score + bias" in [t.get("name") for t in figure["data"]], "the bias moved: its markers are drawn"


def test_top1_preset_collapses_at_the_step_it_names():
    at = preset(open_page(), "top-1 collapses fast")
    claim = CLAIMS["top1"]
    assert at.session_state["moe.steps"] == claim["step"]
    rows = table(train_to(at, claim["step"]))
    assert near(rows["none"]["max share"], claim["none"]), rows["none"]["max share"]
    assert near(rows["aux"]["max share"], claim["aux"]), rows["aux"]["max share"]


@pytest.mark.slow  # three models × 150 steps: ~45 s on a quiet 2-core machine, ~90 s under load
def test_collapse_preset_measures_what_it_claims():
    at = open_tab(open_page(), "Which expert")
    at.text_input(key="moe.routing.probe_text").set_value("stray").run()
    at = preset(at, "collapse without balancing")
    assert at.session_state["moe.routing.probe_text"] != "stray", "a preset resets what it does not name"
    claim = CLAIMS["collapse"]
    rows = table(train_to(at, claim["step"]))
    for run in ("none", "aux", "bias"):
        assert near(rows[run]["max share"], claim[run]), (run, rows[run]["max share"])
    assert rows["none"]["dead experts (< 1/10 of fair share)"] >= 2


@pytest.mark.slow  # three models × 150 steps: ~45 s on a quiet 2-core machine, ~90 s under load
def test_capacity_preset_measures_what_it_claims():
    at = preset(open_page(), "capacity drops tokens")
    claim = CLAIMS["capacity"]
    rows = table(train_to(at, claim["step"]))
    for run in ("none", "aux", "bias"):
        assert near(rows[run]["dropped assignments"], claim[run]), (run, rows[run]["dropped assignments"])


def test_coloured_text_escapes_markup_and_marks_spaces():
    import numpy as np

    out = figures.coloured_text("<b> x", np.array([[0], [1], [2], [3], [4]]), np.ones((5, 1)))
    assert "<b>" not in out and "&lt;" in out and "&gt;" in out and "␣" in out
    assert out.count("<span") == 5
