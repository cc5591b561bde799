"""The LoRA page end to end (AppTest): a chart before any click, every preset applied on a fresh page with the
number its tooltip claims (trained to the step it names: here, or in a `slow` test where that takes minutes), Step
trains a chunk, bad input gives a message and keeps the earlier result; the figures' fixes (the Eckart–Young floor,
the histogram's labels) and the subspace-similarity chance level, checked on their own."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.lessons.lora import PRESETS, figures, qlora_tab
from app.lessons.lora.inside_tab import chance_readout
from models.lora.quantize import layer_matrices, levels
from models.lora.sandbox import SandboxConfig, SandboxTrainer
from tests.conftest import ENTRY, open_tab, plotly_figures, reveal, trace_names

ROOT = Path(__file__).resolve().parents[2]


def lora_page() -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=180)
    at.switch_page(str(ROOT / "pages" / "lora.py"))
    return at.run()


def button(at, key):
    return at.button(key=key)


def step(at, key="lora:step", times=1):
    for _ in range(times):
        reveal(at, key).button(key=key).click().run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def train_until(at, steps: int, max_clicks: int = 60, run: str = "lora"):
    """Click Step until the run (the sandbox's, or "lora-real") has done `steps` steps (the kit sizes each chunk by
    time, so a loaded machine needs more clicks: 15 reached 182 of 200 in the slow suite on 2026-12-07)."""
    for _ in range(max_clicks):
        step(at, f"{run}:step")
        done = at.session_state[f"{run}:run"]
        if done.steps_done >= steps or done.finished:
            break
    assert done.steps_done == steps, (done.steps_done, steps)
    return at


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def preset(at, name):
    assert name in PRESETS, name
    return button(at, f"lora:preset-{name}").click().run()


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


PLATEAU = "Lecture demo: plateau once r ≥ k"
REGULARISER = "Lecture demo: rank as a regulariser (few, noisy samples)"
RSLORA = "Lecture demo: fixed α, higher rank learns slower (rsLoRA)"
SMOLLM2_RANKS = "Lecture demo: SmolLM2, ranks 1–16 against full fine-tuning"
QLORA = "Lecture demo: QLoRA, LoRA over a 4-bit base"
FAMILIES = "Lecture demo: PEFT families, loss against trained parameters"
NF4 = "Lecture demo: NF4 against int4"
ALREADY_4BIT = "Lecture demo: SmolLM2 is already 4-bit"


def test_every_preset_is_a_lecture_demo_with_a_test_here():
    assert set(PRESETS) == {PLATEAU, REGULARISER, RSLORA, SMOLLM2_RANKS, QLORA, FAMILIES, NF4, ALREADY_4BIT}


# ------------------------------------------------------------------ what each preset's tooltip claims, read back
def plateau_claim(text: str) -> None:
    """Ranks 1 and 2 on their floors (0.537, 0.241), rank 4 and above below 1e-4, after 200 steps."""
    assert "(after 200 steps)" in text, text
    floor_lines = re.findall(r"r=(\d): held-out error \*\*([\d.]+)\*\*, its floor is ([\d.]+)", text)
    assert [(int(r), float(f)) for r, _, f in floor_lines] == [(1, 0.537), (2, 0.241)]
    for _, error, floor in floor_lines:
        assert float(floor) - 1e-3 <= float(error) < float(floor) + 0.005
    top = re.search(r"r ≥ k=4: held-out error between \*\*([\d.e-]+)\*\* and \*\*([\d.e-]+)\*\*", text)
    assert float(top.group(2)) < 1e-4


def regulariser_claim(text: str) -> None:
    """U-shaped after 200 steps: lowest at r=4 (0.20), 1.94 at r=64."""
    assert "(after 200 steps)" in text, text
    best = re.search(r"best held-out error is at \*\*r=(\d+)\*\* \(([\d.]+)\); the largest rank reaches ([\d.]+)", text)
    assert best, text
    assert int(best.group(1)) == 4 and float(best.group(2)) == pytest.approx(0.20, abs=0.01)
    assert float(best.group(3)) == pytest.approx(1.94, abs=0.02)


def rslora_claim(text: str) -> None:
    """SGD, α=16, 200 steps: under α/r r=64's error ~10x r=4's (0.62 vs 0.063); under α/√r r=64 is fastest."""
    ends = re.search(
        r"After 200 steps \(sgd, learning rate 0.03, α = 16\): with \*\*α/r\*\*, r=64 ends at \*\*([\d.e-]+)\*\* "
        r"against r=4's \*\*([\d.e-]+)\*\* \(([\d.]+)× its error\); with \*\*α/√r\*\*, r=64 ends at "
        r"\*\*([\d.e-]+)\*\* against r=4's \*\*([\d.e-]+)\*\*, and the fastest rank is \*\*(r=\d+)\*\*",
        text,
    )
    assert ends, text
    plain_high, plain_low, ratio, rs_high, _, fastest = ends.groups()
    assert float(plain_high) == pytest.approx(0.62, abs=0.01) and float(plain_low) == pytest.approx(0.063, abs=0.001)
    assert 9 <= float(ratio) <= 11, "with α/r the high rank is ~10x slower"
    assert fastest == "r=64" and float(rs_high) < 1e-3, "with α/√r it is the fastest"


def default_render_checks(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.fixture(scope="module")
def page():
    return lora_page()  # the page loads SmolLM2 itself (st.cache_resource): no second copy from a fixture


def test_default_render(page):
    """The first view draws its charts with no click: the default settings (the plateau preset's) trained once per
    server, so the plateau claim is on screen; the rank plot draws its floor only where it is above 0."""
    default_render_checks(page)
    assert page.title[0].value.endswith("LoRA rank effects")
    assert "lora:run" not in page.session_state  # nothing of the student's trains on load
    charts = plotly_figures(page)
    assert len(charts) == 2, "the curves and the rank plot, before any click"
    plateau_claim(markdown(page))
    rank = next(c for c in charts if "Final error against the rank" in c["layout"]["title"]["text"])
    floor = next(t for t in rank["data"] if t["name"].startswith("Eckart–Young floor"))
    assert floor["x"] == [1, 2, 3] and "0 for r ≥ 4" in floor["name"]
    assert all(y > 1e-3 for y in floor["y"]), "never drawn at a made-up small number"
    open_tab(page, "QLoRA")  # the NF4 preset's claim on the default matrix (MiniLM's, float32)
    default_render_checks(page)
    assert metric(page, "int4's error ÷ NF4's (blocks of 64)") == "1.42×"
    assert metric(page, "Most distinct values in a block of 32") == "32"
    open_tab(page, "Known rank")  # the module's other tests start where a student does


@pytest.mark.parametrize("name,claim", [(PLATEAU, plateau_claim), (REGULARISER, regulariser_claim)])
@pytest.mark.slow
def test_sandbox_preset_claims_on_a_fresh_page(name, claim):
    """Shown at once (the run trained once per server), then trained live to step 200 with the same numbers."""
    at = preset(lora_page(), name)
    assert at.session_state["lora.tab"] == "Known rank"
    claim(markdown(at))
    train_until(at, 200, max_clicks=60)
    claim(markdown(at))


def test_rslora_preset_claim_on_a_fresh_page():
    """The α-and-r tab's own SGD settings apply on a fresh page (the tab never opened), and its 200 steps per rank
    and scale are trained once per server and drawn at once."""
    at = preset(lora_page(), RSLORA)
    default_render_checks(at)
    assert at.session_state["lora.tab"] == "α and r"
    assert at.session_state["lora.alpha.optimizer"] == "sgd" and at.session_state["lora.alpha.lr"] == 0.03
    rslora_claim(markdown(at))


@pytest.mark.parametrize(
    "name,label,value",
    [
        (NF4, "int4's error ÷ NF4's (blocks of 64)", "1.42×"),
        (ALREADY_4BIT, "Most distinct values in a block of 32", "16"),
    ],
)
def test_quantisation_preset_claims_on_a_fresh_page(name, label, value):
    at = preset(lora_page(), name)
    default_render_checks(at)
    assert at.session_state["lora.tab"] == "QLoRA"
    assert metric(at, label) == value
    if name == ALREADY_4BIT:
        assert any("Q4_1" in w.value for w in at.warning), "the page says what the matrix is"


@pytest.mark.slow
def test_smollm2_ranks_preset_claim_on_a_fresh_page():
    """Wikipedia text, 20 steps: r=16 (61,440 numbers) ends below full fine-tuning (884,736), ~4.55 against 4.64."""
    at = preset(lora_page(), SMOLLM2_RANKS)
    assert at.session_state["lora.tab"] == "SmolLM2"
    train_until(at, 20, max_clicks=40, run="lora-real")
    text = markdown(at)
    ends = re.search(
        r"full fine-tuning of the same matrices \(884,736 numbers\) ends at \*\*([\d.]+)\*\*, the best rank "
        r"\(r=16, 61,440 numbers\) at \*\*([\d.]+)\*\*",
        text,
    )
    assert ends, text
    full, best = map(float, ends.groups())
    assert best < full
    assert best == pytest.approx(4.55, abs=0.02) and full == pytest.approx(4.64, abs=0.02)


@pytest.mark.slow
def test_qlora_preset_claim_on_a_fresh_page():
    """NF4 over the already-4-bit SmolLM2 costs ~0.32 nats before training and QLoRA is ~0.29 behind at step 20."""
    at = preset(lora_page(), QLORA)
    assert at.session_state["lora.tab"] == "SmolLM2"
    train_until(at, 20, max_clicks=40, run="lora-real")
    text = markdown(at)
    ends = re.search(
        r"QLoRA r=4 over the NF4-rounded base ends at \*\*([\d.]+)\*\*, LoRA at the same rank over SmolLM2 as "
        r"loaded \(itself dequantised Q4_1\) at \*\*([\d.]+)\*\*: \*\*\+([\d.]+)\*\* nats\. Before training the NF4 "
        r"base was at ([\d.]+), SmolLM2 as loaded at ([\d.]+)\.",
        text,
    )
    assert ends, text
    qlora, lora, gap, qlora_start, lora_start = map(float, ends.groups())
    assert qlora_start - lora_start == pytest.approx(0.32, abs=0.03)
    assert gap == pytest.approx(0.29, abs=0.03)
    assert qlora == pytest.approx(4.90, abs=0.02) and lora == pytest.approx(4.61, abs=0.02)


def test_bad_sandbox_input_keeps_the_last_result(page):
    at = step(page)  # one chunk: a result on screen
    at.select_slider(key="lora.sandbox.d").set_value(16).run()  # ranks up to 64 > d
    assert any("between 1 and the layer's width d=16" in e.value for e in at.error)
    assert "What the data shows" in markdown(at), "the earlier result stays on screen"
    at.select_slider(key="lora.sandbox.d").set_value(64).run()
    at.number_input(key="lora.sandbox.alpha").set_value(0.0).run()
    assert any("alpha must be positive" in e.value for e in at.error)
    at.number_input(key="lora.sandbox.alpha").set_value(16.0).run()
    assert not at.error


@pytest.mark.slow
def test_divergent_learning_rate_is_stopped_with_a_message(page):
    at = page
    button(at, "lora:reset").click().run()
    at.select_slider(key="lora.sandbox.lr").set_value(1000.0).run()
    step(at, times=3)
    assert any("diverged" in w.value and "lower the learning rate" in w.value for w in at.warning)
    at.select_slider(key="lora.sandbox.lr").set_value(0.01).run()
    button(at, "lora:reset").click().run()


@pytest.mark.slow
def test_smollm2_step_trains_and_bad_targets_keep_the_run(page):
    at = preset(page, SMOLLM2_RANKS)
    assert at.session_state["lora.tab"] == "SmolLM2"
    at.multiselect(key="lora.real.ranks").set_value([1, 2]).run()  # small and quick on a CPU
    at.slider(key="lora.real.max_train_sequences").set_value(4).run()
    at.select_slider(key="lora.real.seq_len").set_value(16).run()
    at.slider(key="lora.real.batch_size").set_value(2).run()
    at.slider(key="lora.real.eval_every").set_value(1).run()
    step(at, "lora-real:step")
    assert not at.error, [e.value for e in at.error]
    text = markdown(at)
    assert "the LoRA ranks end within" in text and "full fine-tuning of the same matrices" in text
    at.text_input(key="lora.real.target_modules").set_value("qkv").run()
    button(at, "lora-real:start").click().run()
    assert any("down_proj, gate_proj, k_proj" in e.value for e in at.error)
    assert "the LoRA ranks end within" in markdown(at), "the earlier run stays on screen"
    at.text_input(key="lora.real.target_modules").set_value("q_proj, v_proj").run()


@pytest.mark.slow
def test_merge_tab_merged_equals_unmerged(page):
    """An adapter with a random B (no other test's trained run needed: xdist spreads this module's tests)."""
    at = reveal(page, "lora:merge-run")
    at.selectbox(key="lora:merge-run").set_value("untrained adapter (random B)").run()
    button(at, "lora:merge-go").click().run()
    assert not at.exception
    assert not [e.value for e in at.error if "Merging" in e.value]
    diff = [m for m in at.metric if m.label == "Largest |logit difference|"][0]
    assert float(diff.value) < 1e-3


def test_text_too_short_is_a_message(page):
    at = reveal(page, "lora.real.corpus")
    at.selectbox(key="lora.real.corpus").set_value("user").run()
    at.text_area(key="lora.real.user_text").set_value("Far too short to form a batch.").run()
    button(at, "lora-real:start").click().run()
    assert any("too short" in e.value for e in at.error)


def test_qlora_tab_unknown_model_id_is_a_message(page):
    at = reveal(page, "lora.qlora.source")
    at.selectbox(key="lora.qlora.source").set_value("hf").run()
    assert any("Type the id" in i.value for i in at.info)
    at.text_input(key="lora.qlora.hf_id").set_value("nobody-here/not-a-model").run()
    assert not at.exception
    assert any("Could not load" in e.value for e in at.error)
    at.selectbox(key="lora.qlora.source").set_value("minilm").run()
    assert not at.error
    open_tab(at, "Known rank")


def test_peft_families_preset_claim_on_a_fresh_page():
    """The tab's first view: the families and what each run would train (by formula), nothing trained: from 2,880
    numbers (LN tuning) to 7,080,192 (full fine-tuning of the top 2 layers), as the preset says."""
    at = preset(lora_page(), FAMILIES)
    assert at.session_state["lora.tab"] == "PEFT families"
    assert "lora-peft:run" not in at.session_state
    assert "PrefixTuningConfig" in markdown(at)
    planned = [d.value for d in at.dataframe if "prefix n=16" in d.value.index]
    assert planned, "the table of planned runs"
    counts = planned[0]["trained parameters"]
    assert counts["prefix n=16"] == 16 * 2 * 2 * 192  # 16 tokens, 2 layers, keys and values, 3 kv heads of 64
    assert counts["LoRA r=1"] == 2 * ((576 + 576) + (576 + 192))
    assert (counts.idxmin(), counts.min()) == ("LN tuning", 2_880)
    assert (counts.idxmax(), counts.max()) == ("full", 7_080_192)


def test_peft_families_tiny_run_trains_two_chunks():
    """Two runs (LoRA r=1, prefix n=1) of one step each on short sequences: two Step clicks finish them."""
    at = lora_page()
    for key, value in {
        "lora.families.lora_ranks": [1],
        "lora.families.prompt_tokens": [],
        "lora.families.prefix_tokens": [1],
        "lora.families.steps": 1,
    }.items():
        at.session_state[key] = value
    reveal(at, "lora.families.ia3")
    at.checkbox(key="lora.families.ia3").uncheck()
    at.checkbox(key="lora.families.ln").uncheck()
    at.checkbox(key="lora.families.full").uncheck()
    at.select_slider(key="lora.families.seq_len").set_value(16)
    at.slider(key="lora.families.batch_size").set_value(2)
    at.slider(key="lora.families.max_train_sequences").set_value(4)
    at.slider(key="lora.families.heldout_sequences").set_value(2)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    step(at, "lora-peft:step", times=2)
    assert not at.error, [e.value for e in at.error]
    run = at.session_state["lora-peft:run"]
    assert run.finished and run.steps_done == 2
    text = markdown(at)
    assert "lowest held-out loss" in text and "prefix n=1" in text
    rows = {r["run"]: r for r in run.trainer.summary()}
    assert rows["LoRA r=1"]["trained_parameters"] == 2 * ((576 + 576) + (576 + 192))
    assert rows["prefix n=1"]["trained_parameters"] == 2 * 2 * 192


# ------------------------------------------------------------------ the figures and readouts, on their own
def test_rank_figure_draws_the_floor_only_where_it_is_above_zero():
    """Issue 30: r = 16 was drawn below its own floor "(drawn at 1e-7)". The floor is drawn for r < k only, where
    every run is at or above it; the legend says it is 0 from r = k on."""
    trainer = SandboxTrainer(SandboxConfig(d=16, true_rank=3, ranks=(1, 2, 4, 16), n_train=64))
    trainer.train_steps(60)
    summary = pd.DataFrame(trainer.summary())
    fig = figures.rank_figure(summary, trainer.floors(), 3)
    floor = fig.data[0]
    assert floor.name.startswith("Eckart–Young floor: the least error of any rank-r ΔW")
    assert "0 for r ≥ 3" in floor.name and list(floor.x) == [1, 2]
    for rank, y in zip(floor.x, floor.y):
        assert summary.set_index("rank").loc[rank, "heldout_error"] >= y - 1e-6
    assert list(fig.layout.xaxis.tickvals) == [1, 2, 3, 4, 16]


def test_histogram_has_one_label_per_kind_and_a_short_title():
    """Issue 30: one vertical line per level drew dozens of stacked "new text" labels; the title was cut off."""
    normed = np.linspace(-1, 1, 1001)
    fig = figures.histogram_figure(normed, {"nf4": levels("nf4").numpy(), "int4": levels("int4").numpy()})
    assert not fig.layout.annotations and not fig.layout.shapes
    assert trace_names(fig.to_dict()) == ["weights / block absmax", "NF4: 16 levels", "int4: 15 levels"]
    assert len(fig.layout.title.text) <= 60
    assert fig.data[0].y.sum() == len(normed), "binned on the server: 200 bars, not every weight"


def test_chance_level_of_phi_is_one_over_d_at_one_one():
    """Issue 29 item 6: φ(1, 1) against 1/d, φ(r1, r2) against max(r1, r2)/d."""
    phi = np.full((4, 16), 0.5)
    text = chance_readout(phi, 4, 16, 576)
    assert "two random directions in 576 dimensions: 0.0017" in text
    assert "two random subspaces of 4 and 16 directions: 0.0278" in text


def test_qlora_tabs_bundled_matrices_are_the_models(smollm2, minilm):
    for name, (model, _) in {"smollm2": smollm2, "minilm": minilm}.items():
        layers = layer_matrices(model)
        n_layers, matrices = qlora_tab.BUNDLED[name]
        assert len(layers) == n_layers and list(layers[0]) == matrices
