"""The lesson kit (app/page.py) on a demo lesson: one name per setting, configs validated once, the last good
result kept and marked stale, presets that reset what they do not name, links that set settings."""

from streamlit.testing.v1 import AppTest

SCRIPT = """
import app.lessons as registry
if not any(item.slug == "kitdemo" for item in registry.LESSONS):
    registry.LESSONS.append(registry.Lesson(
        "kitdemo", "Kit demo", "🧪", "Foundations", "-", "-",
        package_name="tests.kit.kit_demo"))
from app.page import run_lesson
run_lesson("kitdemo")
"""


def demo(**query) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=30)
    at.query_params.update(query)
    return at.run()


def texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def open_tab(at: AppTest, title: str) -> AppTest:
    at.session_state["kitdemo.tab"] = title  # what a click on the tab does
    if "kitdemo.tab" in at.query_params:  # to the address bar too (else its value wins)
        at.query_params["kitdemo.tab"] = title
    return at.run()


def test_settings_have_one_name_from_widget_to_config_and_export():
    at = demo()
    assert not at.exception
    assert "square=9 stale=False" in texts(at)
    open_tab(at, "Summary")
    assert 'settings={"n": 3, "note": "", "shape": "sq", "word": "hi"}' in texts(at)  # field names, no kit keys


def test_only_the_open_tab_is_computed():
    """A classroom's first views pay for one tab, not all of them: the others run when opened."""
    at = demo()
    assert "square=9 stale=False" in texts(at)
    assert not any(t.startswith("settings=") for t in texts(at)), "the Summary tab was computed"
    open_tab(at, "Summary")
    assert any(t.startswith("settings=") for t in texts(at))
    assert "square=9 stale=False" not in texts(at)


def test_a_setting_of_a_closed_tab_keeps_its_value_and_stays_in_the_export():
    at = open_tab(demo(), "Summary")
    at.text_input(key="kitdemo.summary.note").set_value("kept").run()
    open_tab(at, "Square")
    assert at.session_state["kitdemo.summary.note"] == "kept"  # Streamlit keeps a bound widget's value
    open_tab(at, "Summary")
    assert at.text_input(key="kitdemo.summary.note").value == "kept"
    assert 'settings={"n": 3, "note": "kept", "shape": "sq", "word": "hi"}' in texts(at)


def test_a_live_run_draws_every_tab():
    """A run that trains keeps its live view going while the student looks at another tab."""
    from app.training import TrainingRun

    at = demo()
    at.session_state["kitdemo:run"] = TrainingRun(trainer=None, total_steps=10, settings={}, running=True)
    at.run()
    shown = texts(at)
    assert "square=9 stale=False" in shown and any(t.startswith("settings=") for t in shown)
    at.session_state["kitdemo:run"].running = False
    at.run()
    assert not any(t.startswith("settings=") for t in texts(at))


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
    at = open_tab(demo(), "Summary")
    at.text_input(key="kitdemo.summary.note").set_value("stray note").run()
    open_tab(at, "Square")  # the note's tab is closed when the preset is pressed
    at.text_input(key="kitdemo.word").set_value("stray").run()
    at.button(key="kitdemo:preset-Big").click().run()
    assert at.number_input(key="kitdemo.n").value == 5
    assert at.text_input(key="kitdemo.word").value == "hi", "a preset resets what it does not name"
    assert at.session_state["kitdemo.tab"] == "Summary"
    assert at.text_input(key="kitdemo.summary.note").value == "", "a closed tab's setting is reset too"


def test_two_tabs_own_a_setting_of_the_same_name():
    at = demo()
    at.text_input(key="kitdemo.square.note").set_value("square's").run()
    open_tab(at, "Summary")
    assert at.text_input(key="kitdemo.summary.note").value == ""
    assert '"note": ""' in texts(at)[-1] and "square's" not in texts(at)[-1], "a tab sees only its own note"
    at.text_input(key="kitdemo.summary.note").set_value("summary's").run()
    open_tab(at, "Square")
    assert at.text_input(key="kitdemo.square.note").value == "square's"


def test_a_preset_sets_a_setting_of_a_tab_never_opened():
    at = demo()  # the Summary tab has never been drawn in this session
    at.button(key="kitdemo:preset-Noted").click().run()
    assert at.session_state["kitdemo.tab"] == "Summary"
    assert at.text_input(key="kitdemo.summary.note").value == "from a preset"
    link = {k: at.query_params[k] for k in at.query_params}
    assert link.get("kitdemo.summary.note") == "from a preset", "the link holds the preset"
    again = demo(**link)  # the link opened in a new browser
    assert again.text_input(key="kitdemo.summary.note").value == "from a preset"


def test_a_link_may_name_an_option_or_its_label_and_the_address_keeps_it():
    """A preset writes an option itself for a widget it has not seen drawn (`shape=tri`), Streamlit writes its label
    (`shape=Triangle shape`): both set the option, and the address bar still holds it afterwards, so that the
    student who opened the link can pass it on."""
    for written in ("tri", "Triangle shape"):
        at = demo(**{"kitdemo.tab": "Summary", "kitdemo.summary.shape": written})
        assert not at.warning, [w.value for w in at.warning]
        assert at.selectbox(key="kitdemo.summary.shape").value == "tri"
        assert at.query_params["kitdemo.summary.shape"] in ("tri", "Triangle shape"), dict(at.query_params)


def test_a_link_that_names_the_default_is_no_refusal():
    """Lecture slides carry links such as ?rlhf.eps=0.2: Streamlit drops a default value from the URL, which is no
    reason to say the link was refused."""
    at = demo(**{"kitdemo.n": "3", "kitdemo.word": "hi", "kitdemo.tab": "Square"})
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    refused = demo(**{"kitdemo.n": "99"})  # beyond the widget's range: refused, and said so
    assert any("cannot take" in w.value for w in refused.warning)


def test_a_link_sets_a_setting():
    at = demo(**{"kitdemo.n": "2"})
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


SHARED_FIGURE = """
import streamlit as st
from app.page import shared_figure
from app.lecture import show_chart
from tests.kit.kit_demo import charts
fig, frame = shared_figure(charts.square_chart, N)
before = fig.to_plotly_json()
show_chart(fig, frame, "square", "kitdemo")
st.session_state["figure"] = fig
st.session_state["unchanged"] = fig.to_plotly_json() == before
"""


def shared_figure_session(n: int, presenter: bool = False) -> AppTest:
    at = AppTest.from_string(SHARED_FIGURE.replace("N", str(n)), default_timeout=30)
    at.session_state["presenter"] = presenter
    return at.run()


def test_a_shared_figure_is_built_and_styled_once_per_server_and_never_changed():
    """What every student's first view draws is built once: the same figure object for every session, in the
    house style, and drawing it changes nothing (a presenter's larger fonts are a figure of their own)."""
    from tests.kit.kit_demo import charts

    n = 1000 + len(charts.BUILDS)  # arguments no other test used: this server has not built it yet
    first, second = shared_figure_session(n), shared_figure_session(n)
    assert not first.exception and not second.exception
    assert charts.BUILDS.count(n) == 1
    figure = first.session_state["figure"]
    assert second.session_state["figure"] is figure
    assert first.session_state["unchanged"] and second.session_state["unchanged"]
    assert figure.layout.margin.t == 40 and figure.layout.font.size is None  # the house style
    assert '"t":40' in first.get("plotly_chart")[0].proto.spec
    assert [b.label for b in first.get("download_button")] == ["⬇ data (CSV)", "⬇ settings (JSON)"]

    presenter = shared_figure_session(n, presenter=True)
    assert not presenter.exception and charts.BUILDS.count(n) == 2
    large = presenter.session_state["figure"]
    assert large is not figure and large.layout.font.size == 18
    assert figure.layout.font.size is None  # the students' figure kept its size
    assert shared_figure_session(n).session_state["figure"] is figure


TABLE = """
import pandas as pd
from app.page import LessonPage
from app.lessons import lesson
page = LessonPage(lesson("ngrams"), "cpu")
frame = pd.DataFrame({"word": ["the", "*cat*"], "p": [0.123456, 0.5], "seen": [True, False]})
page.table(frame.style.format({"p": "{:.1%}"}), hide_index=True, width="stretch")
page.table(frame, hide_index=True)
page.table(frame, on_select="rerun", key="picked")  # a table the student selects rows from
"""


def test_a_table_is_html_on_a_projector_and_a_dataframe_otherwise():
    """st.dataframe draws on a canvas that the presenter CSS cannot enlarge: in presenter mode the kit draws an
    HTML table instead, with the formats the dataframe showed; a table the student selects rows from stays."""
    at = AppTest.from_string(TABLE, default_timeout=30).run()
    assert not at.exception and len(at.dataframe) == 3 and not at.table

    at = AppTest.from_string(TABLE, default_timeout=30)
    at.session_state["presenter"] = True
    at.run()
    assert not at.exception and len(at.table) == 2 and len(at.dataframe) == 1
    styled, plain = (table.proto.arrow_data for table in at.table)
    assert "12.3%" in styled.styler.display_values.decode(errors="ignore")  # the Styler's own format
    shown = plain.styler.display_values.decode(errors="ignore")
    assert "0.1235" in shown and "✓" in shown and r"\*cat\*" in shown  # as the dataframe showed it, Markdown escaped
    assert all(table.proto.hide_index for table in at.table)
