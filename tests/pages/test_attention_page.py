"""The Attention lesson: SmolLM2's attention sink, the step-through against the model, the page (AppTest)."""

import numpy as np
import pytest
import torch

from app.lessons.attention import heads, step_through, tiny_trainer
from models.attention.probes import extract_attention, sink_share
from tests.conftest import open_tab, reveal, run_page

PAGE = "attention.py"
ENGLISH = (
    "The old lighthouse keeper climbed the narrow stairs every evening to light the lamp. Ships "
    "passing the rocky coast relied on its beam to find their way home, and for forty years he "
    "never missed a single night, even during the worst winter storms."
)


def charts(at) -> int:
    return len(at.get("plotly_chart"))


def click(at, label: str):
    [b for b in at.button if b.label == label][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ----------------------------------------------------------------------------- the models behind the page


def test_smollm2_middle_layers_put_most_attention_on_the_first_token(smollm2):
    """The attention sink: in SmolLM2's middle layers over half the attention goes to token 0."""
    model, tokenizer = smollm2
    trace = extract_attention(model, tokenizer, ENGLISH)
    assert 40 <= len(trace.tokens) <= 60
    per_layer = sink_share(trace.weights).mean(axis=1)  # (L,): mean over heads
    middle = per_layer[14:27]
    assert middle.mean() > 0.5, np.round(per_layer, 2)
    assert (middle > 0.5).sum() >= 8, np.round(middle, 2)  # most layers, not one outlier
    assert per_layer[:2].mean() < 0.3  # the first layers do not (yet)


@pytest.mark.parametrize("fixture", ["smollm2", "minilm"])
@pytest.mark.parametrize("layer, head", [(0, 0), (3, 5)])
def test_step_through_reproduces_the_models_own_attention(fixture, layer, head, request):
    """Real q, k, v (RoPE for Llama) through attention_steps give the model's weights exactly."""
    model, tokenizer = request.getfixturevalue(fixture)
    ids = list(tokenizer("The cat sat on the mat")["input_ids"])
    qkv = step_through.real_head_qkv(model, ids, layer, head)
    steps = step_through.run_steps(qkv, causal=qkv["model_causal"], scaled=True, temperature=1.0)
    torch.testing.assert_close(steps["weights"], qkv["model_weights"], atol=1e-5, rtol=1e-4)
    unmasked = step_through.run_steps(qkv, causal=not qkv["model_causal"], scaled=True, temperature=1.0)
    assert not torch.allclose(unmasked["weights"], qkv["model_weights"], atol=1e-3)


def test_split_characters_are_labelled_by_their_bytes(smollm2):
    """Byte-level BPE splits 日 over two tokens: labels show their bytes, not 'æĹ' or U+FFFD."""
    from app.lessons.attention.labels import readable

    model, tokenizer = smollm2
    trace = extract_attention(model, tokenizer, "日本 👋")
    assert trace.tokens[:3] == ["<0xE6><0x97>", "<0xA5>", "本"]
    assert trace.tokens[3].startswith(" <0xF0>")
    assert readable(tokenizer, trace.token_ids) == trace.tokens


def test_softmax_saturates_without_scaling():
    frame = step_through.entropy_against_dim([4, 64, 1024], n_keys=32)
    scaled = frame[frame.scaling == "÷√d"].entropy.to_numpy()
    unscaled = frame[frame.scaling == "none"].entropy.to_numpy()
    assert np.all(np.abs(scaled - scaled[0]) < 0.1)  # the same spread at every d
    assert unscaled[0] > unscaled[1] > unscaled[2] and unscaled[2] < 0.3 < scaled[2]


def test_pool_attention_keeps_each_rows_mass():
    weights = torch.softmax(torch.randn(2, 3, 50, 50), dim=-1)
    thumbs = heads.pool_attention(weights, 16)
    assert thumbs.shape == (2, 3, 16, 16)
    np.testing.assert_allclose(thumbs.sum(-1), 1.0, atol=1e-5)


# ----------------------------------------------------------------------------- the page


def test_default_page_draws_every_tab_without_training(smollm2):
    at = run_page(PAGE, timeout=60)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [t.label for t in at.tabs] == [
        "Real model",
        "One head step by step",
        "Positional encodings",
        "Train a tiny transformer",
    ]
    assert at.session_state["attention:real"]["weights"].shape[:2] == (30, 9)
    first = charts(at)  # only the open tab is drawn; each other one when opened
    assert first >= 4
    drawn = first + sum(charts(open_tab(at, t.label)) for t in at.tabs[1:])
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert drawn >= 10
    assert "attention:run" not in at.session_state  # nothing trains on load


def test_empty_text_is_an_error_and_earlier_charts_stay(smollm2):
    at = run_page(PAGE, timeout=60)
    before = charts(at)
    at.text_area(key="attention.real_model.text").set_value("   ").run()
    assert not at.exception
    assert any("Enter some text" in e.value for e in at.error)
    assert charts(at) == before, "the earlier attention stays on screen"
    before = charts(reveal(at, "attention.step_through.step_text"))
    at.text_input(key="attention.step_through.step_text").set_value("").run()
    assert any("short sentence" in e.value for e in at.error)
    assert charts(at) == before


def test_head_out_of_range_keeps_the_last_valid_head(smollm2):
    at = run_page(PAGE, timeout=60)
    at.number_input(key="attention.real_model.head").set_value(4).run()
    assert not at.error and at.session_state["attention:head"] == (1, 4)
    before = charts(at)
    at.number_input(key="attention.real_model.head").set_value(20).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "heads 0–8" in errors[0] and "layer 1, head 4" in errors[0]
    assert charts(at) == before
    open_tab(at, "One head step by step")
    assert at.session_state["attention:head-steps"]["key"][3:] == (
        1,
        4,
    )  # the step-through keeps it too


def test_long_text_is_truncated_with_a_notice(smollm2):
    at = run_page(PAGE, timeout=60)
    at.text_area(key="attention.real_model.text").set_value("word " * 600).run()
    assert not at.exception and not at.error
    assert any("only the first 512" in w.value for w in at.warning)
    assert at.session_state["attention:real"]["weights"].shape[-1] == 512


def test_induction_preset_shows_the_repeated_sequence(smollm2):
    at = click(run_page(PAGE, timeout=60), "Lecture demo: induction head")
    assert at.radio(key="attention.real_model.source").value == "random"
    assert (
        at.number_input(key="attention.real_model.layer").value,
        at.number_input(key="attention.real_model.head").value,
    ) == (18, 6)
    assert not at.error
    real = at.session_state["attention:real"]
    assert real["source"] == "random" and len(real["tokens"]) == 2 * 40 + 1
    induction = at.session_state["attention:induction"][1]
    assert induction.shape == (30, 9) and induction[18, 6] > 0.5  # a real induction head


def test_step_trains_one_chunk_and_draws_it(smollm2):
    at = click(run_page(PAGE, timeout=60), "Lecture demo: reverse without positions")
    assert at.selectbox(key="attention.training.task").value == "reverse"
    assert at.selectbox(key="attention.training.positional").value == "none"
    assert at.toggle(key="attention.training.causal").value is False
    before = charts(at)
    click(at, "⏭ Step")
    run = at.session_state["attention:run"]
    assert run.steps_done >= 1 and run.settings["positional"] == "none"
    assert charts(at) == before + 3  # loss, accuracy and the attention maps
    assert any("right)" in m.value for m in at.markdown)  # the example's prediction


def test_bad_training_settings_are_a_message(smollm2):
    at = reveal(run_page(PAGE, timeout=60), "attention.training.n_heads")
    at.slider(key="attention.training.n_heads").set_value(5).run()
    assert any("divisible" in e.value for e in at.error)
    assert at.button(key="attention:start").disabled, "Start waits for valid settings"
    assert "attention:run" not in at.session_state


def test_lm_that_reads_the_future_reports_both_losses(smollm2):
    at = click(run_page(PAGE, timeout=60), "Lecture demo: LM that reads the future")
    assert (
        at.selectbox(key="attention.training.task").value == "char_lm"
        and not at.toggle(key="attention.training.causal").value
    )
    click(at, "⏭ Step")
    labels = [m.label for m in at.metric]
    assert "Teacher-forced loss" in labels and "Autoregressive loss" in labels
    assert at.code and len(at.code[0].value) > 100  # a generated sample


def test_encoder_model_and_unknown_model(smollm2, minilm):
    at = run_page(PAGE, timeout=60)
    before = charts(at)
    at.selectbox(key="attention.real_model.model").set_value("minilm").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["attention:real"]["weights"].shape[:2] == (6, 12)
    open_tab(at, "One head step by step")
    assert at.session_state["attention:head-steps"]["qkv"]["model_causal"] is False
    open_tab(at, "Real model")
    at.selectbox(key="attention.real_model.model").set_value("hf").run()
    at.text_input(key="attention.real_model.hf_id").set_value("nobody-here/not-a-model").run()
    assert not at.exception
    assert any("Could not load" in e.value for e in at.error)
    assert charts(at) == before, "the earlier results stay on screen"


def test_a_model_without_attention_weights_says_switch_to_eager(smollm2):
    from app.resources import shared_model
    from models.device import pick_device

    at = run_page(PAGE, timeout=60)
    before = charts(at)
    model, _ = shared_model("smollm2", pick_device("auto"), False)  # the page's cached copy
    try:
        model.set_attn_implementation("sdpa")
        at.text_area(key="attention.real_model.text").set_value("Another sentence to trace.").run()
    finally:
        model.set_attn_implementation("eager")
    assert not at.exception
    assert any("eager" in e.value for e in at.error), [e.value for e in at.error]
    assert charts(at) == before


TRAIN_DEFAULTS = dict(
    d_model=64,
    n_heads=4,
    n_layers=2,
    lr=3e-3,
    batch_size=32,
    length=8,
    n_symbols=10,
    block_size=64,
    seed=0,
)


@pytest.mark.slow
def test_presets_teach_what_the_page_says():
    """Reverse: no positions + no mask ~ chance; sinusoidal learns it; a causal mask alone leaks order."""

    def accuracy(positional, causal):
        settings = dict(TRAIN_DEFAULTS, task="reverse", positional=positional, causal=causal)
        trainer = tiny_trainer.build_trainer(settings, "cpu", wiki_text=lambda: "")
        trainer.train_steps(400)
        return trainer.evaluate(n_sequences=256)["accuracy"]

    none, sinusoidal, causal_only = (
        accuracy("none", False),
        accuracy("sinusoidal", False),
        accuracy("none", True),
    )
    assert none < 0.2 and sinusoidal > 0.95
    assert none + 0.15 < causal_only < 0.9  # part of the task, from the mask alone


@pytest.mark.slow
def test_lm_presets_on_wikipedia():
    from models.corpora import load_corpus_text

    reports = {}
    for causal in (False, True):
        settings = dict(TRAIN_DEFAULTS, task="char_lm", positional="sinusoidal", causal=causal)
        trainer = tiny_trainer.build_trainer(settings, "cpu", wiki_text=lambda: load_corpus_text("wiki"))
        trainer.train_steps(300)
        reports[causal] = trainer.future_peeking_report("The ", 100)
    peeking, honest = reports[False], reports[True]
    assert peeking["teacher_forced_loss"] < 0.5 * honest["teacher_forced_loss"]
    assert peeking["autoregressive_loss"] > 1.5 * honest["autoregressive_loss"]


# ----------------------------------------------------------------------------- lecture-ready (issue 15)


@pytest.mark.parametrize(
    "preset, layer, head, measure, threshold",
    [
        ("Lecture demo: previous-token head", 1, 2, "previous_token", 0.5),
        ("Lecture demo: attention sink", 20, 3, "sink_share", 0.5),
    ],
)
def test_real_model_presets_land_on_their_tab_with_the_number(smollm2, preset, layer, head, measure, threshold):
    at = click(run_page(PAGE, timeout=60), preset)
    assert at.session_state["attention.tab"] == "Real model"
    assert (
        at.number_input(key="attention.real_model.layer").value,
        at.number_input(key="attention.real_model.head").value,
    ) == (layer, head)
    assert at.session_state["attention:real"]["measures"][measure][layer, head] > threshold


@pytest.mark.parametrize(
    "preset, positional, causal",
    [
        ("Lecture demo: reverse without positions", "none", False),
        ("Lecture demo: reverse with sinusoidal", "sinusoidal", False),
        ("Lecture demo: honest LM", "sinusoidal", True),
    ],
)
def test_training_presets_land_on_the_training_tab(smollm2, preset, positional, causal):
    at = reveal(run_page(PAGE, timeout=60), "attention.training.n_heads")
    at.slider(key="attention.training.n_heads").set_value(2).run()  # a stray value the preset resets
    click(at, preset)
    assert at.session_state["attention.tab"] == "Train a tiny transformer"
    assert at.selectbox(key="attention.training.positional").value == positional
    assert at.toggle(key="attention.training.causal").value is causal
    assert at.slider(key="attention.training.n_heads").value == 4


def test_a_link_sets_the_training_tabs_settings(smollm2):
    from streamlit.testing.v1 import AppTest

    from app.lessons import PAGES_DIR
    from tests.conftest import ENTRY

    at = AppTest.from_file(ENTRY, default_timeout=60)
    # a select box's value travels as its label, as the address bar shows it; a shared link names the tab too
    link = {
        "attention.training.positional": "RoPE (rotates q, k)",
        "attention.training.n_heads": "2",
        "attention.training.batch_size": "16",
    }
    at.query_params.update(link | {"attention.tab": "Train a tiny transformer"})
    at.switch_page(str(PAGES_DIR / PAGE))
    at.run()
    assert at.selectbox(key="attention.training.positional").value == "rope"
    assert at.slider(key="attention.training.n_heads").value == 2
    assert at.slider(key="attention.training.batch_size").value == 16


def test_charts_have_titles_and_matching_colours():
    from app.lessons.attention import measures, positional_figures

    frame = step_through.entropy_against_dim([4, 64], n_keys=8)
    fig = step_through.entropy_dim_figure(frame, 8, 64)
    colours = {}
    for trace in fig.data:  # each legend entry keeps one colour in both panels
        colours.setdefault(trace.legendgroup, set()).add(trace.line.color)
    assert all(len(c) == 1 for c in colours.values()) and len(colours) == 2
    maps = {name: np.random.default_rng(0).random((30, 9)) for name in measures.MEASURE_TITLES}
    fig = measures.head_maps_figure(maps, (1, 2))
    right_axis_start = fig.layout.xaxis2.domain[0]
    for trace in fig.data:  # colour bars of the left column end before the right column's title
        if trace.xaxis in ("x", "x3"):
            assert trace.colorbar.x < right_axis_start - 0.08
    figures = [fig, step_through.entropy_dim_figure(frame, 8, 64)]
    figures += [f for f, _ in positional_figures.positional_charts(32, 16, 10000.0, 4).values()]
    assert all(f.layout.title.text for f in figures)
