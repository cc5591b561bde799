"""The policy-gradient lesson page (AppTest): renders, presets land on their tab with their number, Step trains a
chunk, bad input is a message and the earlier result stays."""

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from app.lessons.rlhf import HACKING, HACKING_CLAIM, PRESETS, TABS, clip_tab, dpo_tab, grpo_tab, lm_tab, sandbox_tab
from models.rlhf.policy_gradient import grpo_advantages
from tests.conftest import figure_text, open_tab, plotly_figures, reveal, trace_names

try:
    from tests.conftest import setting_key
except ImportError:  # until the kit's tests/conftest.py has it (settings keyed '<slug>.<tab>.<name>')

    def setting_key(slug: str, name: str, tab: str | None = None) -> str:
        return f"{slug}.{tab}.{name}" if tab else f"{slug}.{name}"


ROOT = Path(__file__).resolve().parents[2]


def key(name: str, tab: str) -> str:
    return setting_key("rlhf", name, tab)


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "entry" / "streamlit_app.py"), default_timeout=60)
    at.switch_page(str(ROOT / "pages" / "rlhf.py"))
    return at.run()


def preset(at: AppTest, name: str) -> AppTest:
    at.button(key=f"rlhf:preset-{name}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


@pytest.fixture(scope="module")
def page() -> AppTest:
    return open_page()


def test_default_render(page):
    assert not page.exception, [e.value for e in page.exception]
    assert not page.error, errors(page)
    assert page.title[0].value.endswith("Policy gradients and PPO clipping")
    assert metric(page, "Flat for A > 0") == "1.20"
    assert len(page.get("plotly_chart")) >= 2  # clip curves and heatmap (only the open tab is drawn)
    assert len(open_tab(page, grpo_tab.TITLE).get("plotly_chart")) >= 1  # GRPO groups; nothing trained
    assert not page.exception and not page.error, errors(page)
    open_tab(page, clip_tab.TITLE)


def test_clip_preset_and_bad_eps_keeps_the_charts():
    at = preset(open_page(), "Lecture demo: flat regions")
    assert at.session_state["rlhf.tab"] == clip_tab.TITLE
    assert metric(at, "Flat for A > 0") == "1.30" and metric(at, "Flat for A < 0") == "0.70"
    charts = len(at.get("plotly_chart"))
    at.number_input(key=key("eps", "clip")).set_value(1.5).run()
    assert any("ε must lie in (0, 1)" in e for e in errors(at))
    assert len(at.get("plotly_chart")) == charts  # the last good figures stay
    assert metric(at, "Flat for A > 0") == "1.30"


def test_grpo_preset_shows_degenerate_groups():
    at = preset(open_page(), "Lecture demo: degenerate GRPO groups")
    assert at.session_state["rlhf.tab"] == grpo_tab.TITLE
    share = float(metric(at, "Share of degenerate groups").rstrip("%")) / 100
    assert 0.25 < share < 0.40  # groups of 2 on 4 tokens x 4 symbols: about 1 in 3 groups are ties


def test_sandbox_preset_step_trains_a_chunk():
    at = preset(open_page(), "Lecture demo: clipping at a high lr")
    assert at.session_state["rlhf.tab"] == sandbox_tab.TITLE
    assert at.session_state[key("lr", "sandbox")] == 1.0
    before = len(at.get("plotly_chart"))
    at.button(key="rlhf:step").click().run()
    assert not at.exception and not at.error, errors(at)
    table = at.dataframe[0].value
    assert list(table["run"]) == ["ppo ε=0.2", "ppo_noclip"]
    assert len(at.get("plotly_chart")) >= before + 2  # reward bands and diagnostics appear


def test_sandbox_bad_input_is_a_message():
    at = reveal(open_page(), key("clip_eps", "sandbox"))
    at.text_input(key=key("clip_eps", "sandbox")).set_value("0.2, 1.5").run()
    assert any("ε must lie in (0, 1)" in e for e in errors(at))
    at.text_input(key=key("clip_eps", "sandbox")).set_value("0.2").run()
    at.slider(key=key("group_size", "sandbox")).set_value(1).run()
    assert any("GRPO needs groups of at least 2" in e for e in errors(at))
    assert not at.exception


def test_rlhf_bad_input_is_a_message():
    at = reveal(open_page(), key("kl_coef", "lm"))
    at.number_input(key=key("kl_coef", "lm")).set_value(-0.5).run()
    assert any("β cannot be negative" in e for e in errors(at))
    at.number_input(key=key("kl_coef", "lm")).set_value(0.05).run()
    at.text_area(key=key("prompts", "lm")).set_value("  \n ").run()
    assert any("at least one non-empty prompt" in e for e in errors(at))
    assert not at.exception


def test_dpo_step_and_bad_beta():
    at = reveal(open_page(), "rlhf-dpo:step")
    at.button(key="rlhf-dpo:step").click().run()
    assert not at.exception and not at.error, errors(at)
    loss = float(metric(at, "DPO loss"))
    assert 0 < loss < 0.6931  # one step below log 2
    at.number_input(key=key("beta", "dpo")).set_value(0.0).run()
    assert any("β must be positive" in e for e in errors(at))
    assert metric(at, "DPO loss")  # the run stays on screen


def test_presets_name_their_tabs():
    titles = {tab.TITLE for tab in __import__("app.lessons.rlhf", fromlist=["TABS"]).TABS}
    assert all(p.tab in titles for p in PRESETS.values())


@pytest.mark.slow
def test_rlhf_step_on_smollm2(smollm2):
    at = reveal(open_page(), key("prompts", "lm"))
    at.text_area(key=key("prompts", "lm")).set_value("The movie was\nMy day").run()
    at.slider(key=key("new_tokens", "lm")).set_value(4).run()
    at.button(key="rlhf-lm:step").click().run(timeout=300)
    assert not at.exception and not at.error, errors(at)
    assert len(at.dataframe) >= 2  # samples before and latest


@pytest.fixture
def tiny_smollm2(tiny_lm, monkeypatch):
    """The RLHF tabs train a 2-layer random Llama with SmolLM2's tokenizer instead of SmolLM2: seconds."""
    from app.lessons.rlhf import lm_tab

    monkeypatch.setattr(lm_tab, "load_shared_model", lambda name, device: tiny_lm)
    return tiny_lm


def small_lm_settings(at: AppTest) -> AppTest:
    reveal(at, key("prompts", "lm")).text_area(key=key("prompts", "lm")).set_value(
        "The movie was\nMy day\nThis book"
    ).run()
    at.slider(key=key("new_tokens", "lm")).set_value(4).run()
    return at


def test_rlhf_nan_is_a_message_and_the_earlier_run_stays(tiny_smollm2):
    at = small_lm_settings(open_page())
    at.button(key="rlhf-lm:step").click().run()
    assert not at.exception and not at.error, errors(at)
    run = at.session_state["rlhf-lm:run"]
    assert len(run.trainer.history) == 1
    at.button(key="rlhf-lm:pin").click().run()  # a pinned run is drawn beside the current one
    curves = [f for f in plotly_figures(at) if "KL to the reference" in figure_text(f)]
    names = trace_names(curves[0]) if len(curves) == 1 else []
    assert any("📌 1: ppo, β = 0.05, lr 0.001" in name for name in names), names
    tables, charts = len(at.dataframe), len(at.get("plotly_chart"))
    assert tables >= 2  # samples before and latest
    with torch.no_grad():  # what a learning rate that diverges leaves behind
        for name, p in run.trainer.policy.named_parameters():
            if "lora_B" in name:
                p.fill_(float("nan"))
    at.button(key="rlhf-lm:step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    assert any("NaN" in w and "Lower the learning rate" in w for w in warnings), warnings
    assert at.session_state["rlhf-lm:run"] is run and len(run.trainer.history) == 1
    assert len(at.dataframe) == tables and len(at.get("plotly_chart")) == charts  # results kept


def test_grpo_tab_trains_groups_on_the_language_model(tiny_smollm2):
    at = small_lm_settings(open_page())
    assert "rlhf-grpo:run" not in at.session_state  # nothing trains on load
    reveal(at, key("group_size", "grpo")).slider(key=key("group_size", "grpo")).set_value(3).run()
    at.slider(key=key("prompt_count", "grpo")).set_value(2).run()
    at.button(key="rlhf-grpo:step").click().run()
    assert not at.exception and not at.error, errors(at)
    trainer = at.session_state["rlhf-grpo:run"].trainer
    assert trainer.config.method == "grpo" and trainer.config.group_size == 3
    assert trainer.config.prompts == ("The movie was", "My day")
    batch = trainer.batches[-1]
    assert len(batch.texts) == 6
    assert torch.allclose(batch.advantages, grpo_advantages(batch.rewards, 3))
    assert metric(at, "Groups with equal rewards").endswith("of 2")
    table = next(d.value for d in at.dataframe if "group mean" in d.value)
    assert list(table["group"]) == [1, 1, 1, 2, 2, 2]


def test_dpo_tab_trains_the_reward_model_beside_dpo():
    at = reveal(open_page(), "rlhf-dpo:step")
    at.button(key="rlhf-dpo:step").click().run()
    assert not at.exception and not at.error, errors(at)
    assert 0 < float(metric(at, "Reward model loss")) < 0.6931  # one Bradley–Terry step below log 2
    assert metric(at, "Held-out pairs ranked right (reward model)").endswith("%")
    assert metric(at, "Correlation with the true reward (DPO")
    figures = [figure_text(f) for f in plotly_figures(at)]
    assert any("true reward against each learned reward" in text for text in figures), figures


def test_tab_labels_fit_a_projector_row():
    """Presenter mode draws tab labels at 20 px on a 1280 px projector beside the sidebar; the five titles were 79
    characters (~990 px at about 10.5 px a character and 32 px of padding a tab) and the last one ("DPO") was
    clipped. The row must stay well inside the ~850 px the main area has (a proxy: the browser test measures)."""
    titles = [tab.TITLE for tab in TABS]
    assert sum(len(t) for t in titles) * 10.5 + 32 * len(titles) < 760, titles
    assert dpo_tab.TITLE == "Reward model & DPO"


def test_one_name_for_the_group_size():
    """Every tab that sets a group size calls it group_size (keyed per tab), and the model config field too."""
    from models.rlhf.language_model import RLHFConfig
    from models.rlhf.pg_sandbox import SandboxConfig

    at = open_page()
    group_keys = set()
    for tab in TABS:
        open_tab(at, tab.TITLE)
        assert not at.exception, [e.value for e in at.exception]
        widgets = [e for kind in ("slider", "number_input", "select_slider") for e in at.get(kind)]
        group_keys |= {w.key for w in widgets if "group" in (w.key or "")}
    assert group_keys == {key("group_size", "lm"), key("group_size", "sandbox"), key("group_size", "grpo")}
    assert "group_size" in RLHFConfig.__dataclass_fields__ and "group_size" in SandboxConfig.__dataclass_fields__


def test_reward_hacking_preset_sets_its_settings_and_trains_nothing():
    at = preset(open_page(), "Lecture demo: reward hacking, β = 0")
    assert at.session_state["rlhf.tab"] == lm_tab.TITLE
    for name, value in HACKING.items():
        assert at.session_state[key(name, "lm")] == value, name
    assert at.session_state[key("method", "lm")] == "ppo"
    assert "rlhf-lm:run" not in at.session_state
    shows = PRESETS["Lecture demo: reward hacking, β = 0"].shows
    assert f"at least {HACKING_CLAIM['reward_gain_at_least']:.2f} above" in shows and "seeds 0 and 1" in shows
    at = preset(at, "Lecture demo: KL leash, β = 0.1")
    assert at.session_state[key("kl_coef", "lm")] == 0.1
    assert at.session_state[key("adapter_lr", "lm")] == HACKING["adapter_lr"]
    assert "rlhf-lm:run" not in at.session_state


@pytest.mark.slow
def test_reward_hacking_preset_on_a_fresh_page_shows_its_claim(smollm2):
    """The preset applied on a fresh page, trained with Step to the iteration it names on SmolLM2: the page's own
    metrics read what the tooltip claims."""
    at = preset(open_page(), "Lecture demo: reward hacking, β = 0")
    for _ in range(HACKING["iterations"]):  # one click trains at least one iteration
        at.button(key="rlhf-lm:step").click().run(timeout=600)
        assert not at.exception and not at.error, errors(at)
        trainer = at.session_state["rlhf-lm:run"].trainer
        if len(trainer.history) >= HACKING["iterations"]:
            break
    assert len(trainer.history) == HACKING["iterations"]
    first, last = (float(x) for x in metric(at, "Reward, first 3").split(" → "))
    kl = float(metric(at, "KL to the reference").split()[0])
    assert last - first >= HACKING_CLAIM["reward_gain_at_least"], (first, last)
    assert kl >= HACKING_CLAIM["kl_last_at_least"], kl
