"""The lesson kit (app/page.py) on a demo lesson: one name per setting, configs validated once, the last good
result kept and marked stale, presets that reset what they do not name, old links translated."""

from streamlit.testing.v1 import AppTest

SCRIPT = """
import app.lessons as registry
if not any(item.slug == "kitdemo" for item in registry.LESSONS):
    registry.LESSONS.append(registry.Lesson(
        "kitdemo", "Kit demo", "🧪", "Foundations", "-", "-", old_prefix="kd_",
        package_name="tests.kit_demo"))
from app.page import run_lesson
run_lesson("kitdemo")
"""


def demo(**query) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=30)
    at.query_params.update(query)
    return at.run()


def texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def test_settings_have_one_name_from_widget_to_config_and_export():
    at = demo()
    assert not at.exception
    assert "square=9 stale=False" in texts(at)
    assert 'settings={"n": 3, "word": "hi"}' in texts(at)  # the export: field names, no kit keys


def test_bad_value_is_the_configs_message_and_the_last_result_stays():
    at = demo()
    at.number_input(key="kitdemo.n").set_value(7).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["The demo settings: n must be at most 5"]
    assert "square=9 stale=False" in texts(at)  # the last config that worked is still used
    at.number_input(key="kitdemo.n").set_value(4).run()
    assert any("four is not allowed" in e.value for e in at.error)
    assert "square=9 stale=True" in texts(at)
    assert any("last result that worked" in c.value for c in at.caption)
    at.number_input(key="kitdemo.n").set_value(2).run()
    assert not at.error and "square=4 stale=False" in texts(at)


def test_preset_sets_full_state_and_opens_its_tab():
    at = demo()
    at.text_input(key="kitdemo.word").set_value("stray").run()
    at.button(key="kitdemo:preset-Big").click().run()
    assert at.number_input(key="kitdemo.n").value == 5
    assert at.text_input(key="kitdemo.word").value == "hi", "a preset resets what it does not name"
    assert at.session_state["kitdemo.tab"] == "Summary"


def test_old_links_keep_working():
    at = demo(kd_number="2")
    assert at.number_input(key="kitdemo.n").value == 2
    assert "square=4 stale=False" in texts(at)


def test_presenter_mode_folds_the_intro_and_the_presets():
    at = AppTest.from_string(SCRIPT, default_timeout=30)
    at.session_state["presenter"] = True
    at.run()
    assert not at.exception
    assert at.expander[0].label == "What this lesson shows"
    assert at.get("popover")[0].proto.popover.label == "🎬 Lecture demos"
    at.button(key="kitdemo:preset-Big").click().run()
    assert at.number_input(key="kitdemo.n").value == 5
