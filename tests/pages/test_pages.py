"""Every page in the navigation renders with default settings, without an exception (AppTest), every tab too.
The helpers that open a page or a tab (`run_page`, `open_tab`, `reveal`) live in tests/conftest.py."""

import importlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.lessons import PAGES_DIR, available_lessons
from app.lessons import lesson as lesson_spec
from tests.conftest import ENTRY, PAGES, open_tab, run_page, tab_titles


def test_every_page_file_is_in_the_navigation():
    files = {p.name for p in PAGES_DIR.glob("*.py")}
    assert files == set(PAGES), "a page exists that the navigation does not show (or vice versa)"


def test_the_entry_script_has_no_pages_folder_beside_it():
    """Streamlit runs an entry script with a `pages/` folder beside it in its old automatic pages mode (a deep link
    on a fresh server would run the page file outside our navigation); ours lives in app/entry/, away from pages/."""
    from streamlit.runtime.pages_manager import PagesManager

    assert not (Path(ENTRY).parent / "pages").exists()
    at = AppTest.from_file(ENTRY, default_timeout=60).run()  # AppTest recomputes the mode for this entry script
    assert not at.exception and PagesManager.uses_pages_directory is False


@pytest.mark.parametrize("lesson", available_lessons(), ids=lambda lesson: lesson.slug)
def test_every_lesson_page_is_one_call(lesson):
    """The contract: a lesson page is a docstring and run_lesson(slug)."""
    code = [
        line
        for line in (PAGES_DIR / lesson.file).read_text().splitlines()
        if line.strip() and not line.startswith('"""')
    ]
    assert code == ["from app.page import run_lesson", f'run_lesson("{lesson.slug}")'], code


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_defaults(page, smollm2):
    at = run_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title, "every page has a title"


@pytest.mark.parametrize(
    "slug,title",
    [(spec.slug, title) for spec in available_lessons() for title in tab_titles(spec.slug)[1:]],
)
def test_every_tab_renders_with_defaults(slug, title, smollm2):
    """The first tab is drawn by the test above; each other one when opened, as a click does."""
    at = open_tab(run_page(f"{slug}.py", timeout=120), title)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.session_state[f"{slug}.tab"] == title


def test_home_has_a_card_per_lesson():
    at = run_page("home.py")
    text = " ".join(m.value for m in at.markdown)
    for lesson in available_lessons():
        assert lesson.title in text


def test_next_token_samples_and_keeps_results_on_bad_input(smollm2):
    at = run_page("next_token.py")
    assert len(at.get("plotly_chart")) == 1
    open_tab(at, "Sample token by token")
    [b for b in at.button if b.label == "Sample 10"][0].click().run()
    assert not at.exception
    sampled = at.dataframe[0].value
    assert len(sampled) == 10 and sampled["p (filtered)"].between(0, 1).all()
    open_tab(at, "Next-token distribution")
    at.text_area(key="next_token.prompt").set_value("").run()
    assert any("empty" in e.value for e in at.error)
    assert len(at.get("plotly_chart")) == 1, "the earlier chart stays on screen"
    at.text_area(key="next_token.prompt").set_value("word " * 3000).run()
    assert any("reads at most" in e.value for e in at.error)


def test_next_token_presets_and_filters(smollm2):
    at = run_page("next_token.py")
    [b for b in at.button if b.label == "Lecture demo: top-k 5"][0].click().run()
    assert at.slider(key="next_token.top_k").value == 5
    assert at.metric[0].value == "5"  # exactly five tokens can be sampled


def test_unknown_model_id_is_a_message_not_a_traceback():
    at = run_page("next_token.py")
    at.selectbox(key="next_token.model").set_value("hf").run()
    at.text_input(key="next_token.hf_id").set_value("nobody-here/not-a-model").run()
    assert not at.exception
    assert any("Could not load" in e.value for e in at.error)


def _first_preset_with_values(slug: str):
    package = importlib.import_module(lesson_spec(slug).package)
    return next(((n, p) for n, p in getattr(package, "PRESETS", {}).items() if p.values), (None, None))


@pytest.mark.parametrize(
    "lesson",
    [lesson for lesson in available_lessons() if _first_preset_with_values(lesson.slug)[1] is not None],
    ids=lambda lesson: lesson.slug,
)
def test_a_preset_is_in_the_link_and_the_link_reproduces_it(lesson):
    """A lecturer clicks a preset and shares the address: it holds every setting the preset set (but those left at
    their default, which Streamlit leaves out), and a fresh page opened from it has the same settings."""
    from app.page import DEFAULTS, preset_keys

    name, preset = _first_preset_with_values(lesson.slug)  # lessons whose presets only open a tab have none
    at = run_page(lesson.file, timeout=180)
    next(b for b in at.button if b.label == name).click().run()
    assert not at.exception, [e.value for e in at.exception]
    named = preset_keys(lesson.slug, preset)
    defaults = {
        f"{lesson.slug}.{tab}.{n}" if tab else f"{lesson.slug}.{n}": d
        for tab, values in DEFAULTS.get(lesson.slug, {}).items()
        for n, d in values.items()
    }
    link = {
        k: at.query_params.get_all(k) if hasattr(at.query_params, "get_all") else at.query_params[k]
        for k in at.query_params
    }
    for key, value in named.items():
        if value != defaults.get(key, object()):
            assert key in link, f"{key}={value!r} is not in the link {sorted(link)}"
    again = AppTest.from_file(ENTRY, default_timeout=180)
    again.switch_page(str(PAGES_DIR / lesson.file))
    again.query_params.update({k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in link.items()})
    again.run()
    assert not again.exception, [e.value for e in again.exception]
    assert again.session_state[f"{lesson.slug}.tab"] == preset.tab
    for key, value in named.items():
        got = again.session_state[key] if key in again.session_state else defaults.get(key)
        want = list(value) if isinstance(value, tuple) else value
        assert (list(got) if isinstance(got, tuple) else got) == want, key


@pytest.mark.parametrize("lesson", available_lessons(), ids=lambda lesson: lesson.slug)
def test_every_preset_is_named_as_a_lecture_demo(lesson):
    presets = getattr(importlib.import_module(lesson.package), "PRESETS", {})
    assert all(name.startswith("Lecture demo: ") for name in presets), list(presets)
