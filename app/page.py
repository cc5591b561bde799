"""The lesson page: the glue every lesson shares, owned here so a lesson writes only its own content.

A thin page file is one line, `run_lesson("<slug>")`. This draws the title, the intro (folded in presenter mode),
the presets, the lesson's shared controls and its tabs, and hands every tab the same object, a `LessonPage`:

    page.widget(st.slider, "order", "Order n", 1, 5, default=3)  # key and query parameter "ngrams.order"
    config = page.config(NGramConfig)                     # built from the settings named like its fields
    result = page.compute("scores", "Scoring the sentence", lm.score_tokens, tokens)
    page.chart(figure, frame, "scores")                   # PNG, CSV and settings-JSON export
    page.train(factory, total_steps, render)              # the live-training kit
    figure = page.shared(figures.overview, "wiki", 3)     # computed once per server for these arguments
    fig, frame = page.shared_figure(figures.curves, eps)  # built and styled once per server, read-only

`compute` runs under a friendly error and keeps the last good result: bad input shows a message where the input
is, and the previous result stays on screen, marked as stale. The lesson package (app/lessons/<slug>/) declares
INTRO, PRESETS, TABS and optionally `controls(page)`; see app/lessons/README.md.

Tabs are lazy: only the open tab is computed and drawn (its title is in the URL, `?<slug>.tab=`), so a class's
first views pay for one tab, not every chart of the lesson; opening another tab reruns the page. A setting of a
tab that is not open keeps its value (Streamlit carries a URL-bound widget's value while it is not drawn; presets
and exports read it from the session). While one of the lesson's runs trains, every tab is drawn, so the run's
live view keeps it going when the student looks at another tab.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from app import lecture, training
from app.errors import link_values, refused_link_notice, show_error
from app.lecture import presenter_mode
from app.lessons import Lesson, lesson
from app.sidebar import current_device
from app.streamlit_compat import is_control_flow
from app.training import metric_chart  # the kit's loss-curve chart, for lessons  # noqa: F401

URL = dict(bind="query-params")
SHARED_ENTRIES = int(os.environ.get("NLP_PLAYGROUND_SHARED_ENTRIES", "32"))  # per function, per server
# {slug: {tab ('' for the lesson's controls): {setting: default}}}, recorded by LessonPage.widget
DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {}


@dataclass(frozen=True)
class Preset:
    """A named lecture demo: what it shows (the tooltip, in words), the tab it opens, the settings it sets.

    Settings not named here go back to their defaults, so a preset never inherits a stray value.
    """

    shows: str  # one sentence: what the audience will see
    tab: str  # the title of the tab where that is visible
    values: Mapping[str, Any] = field(default_factory=dict)  # {setting name: value}, names without prefix


class LessonPage:
    """What every tab receives: the lesson, its settings and results, the device, the kit."""

    def __init__(self, lesson_: Lesson, device: str, tab: str = ""):
        self.lesson = lesson_
        self.slug = lesson_.slug
        self.device = device
        self.tab = tab  # the tab drawing with this page ('' for the lesson's own controls)
        self.failed: list[str] = []  # what failed in this run of the page (shared by its tabs' copies)
        self.data: Any = None  # what the lesson's `controls(page)` built for its tabs

    def for_tab(self, module) -> LessonPage:
        """The page as the tab `module` sees it: its settings are its own ('<slug>.<tab>.<name>')."""
        page = copy.copy(self)
        page.tab = tab_name(module)
        return page

    # ------------------------------------------------------------------ names
    def key(self, name: str) -> str:
        """Widget key and query parameter of the setting `name`: '<slug>.<tab>.<name>' for a setting that the
        tab draws, '<slug>.<name>' for one the lesson's `controls` draw (shared by every tab). Reading a name
        the tab does not have finds the lesson's; 'other_tab.name' names another tab's setting."""
        if "." in name or not self.tab:
            return f"{self.slug}.{name}"
        own = f"{self.slug}.{self.tab}.{name}"
        if own in st.session_state or name in DEFAULTS.get(self.slug, {}).get(self.tab, {}):
            return own
        if name in DEFAULTS.get(self.slug, {}).get("", {}) or f"{self.slug}.{name}" in st.session_state:
            return f"{self.slug}.{name}"
        return own

    def state_key(self, name: str) -> str:
        """Session-state key of a result or of the kit's own state: '<slug>:<name>'."""
        return f"{self.slug}:{name}"

    # ------------------------------------------------------------------ settings
    def widget(self, widget: Callable, name: str, *args, default: Any, url: bool = True, **kwargs):
        """A Streamlit widget for the setting `name` (a config field's name), bound to the URL.

        Give the widget no `value`/`index`: its starting value is `default` (a link's value wins on first load),
        which the kit also records so that a preset can put every setting it does not name back to it.
        """
        key = f"{self.slug}.{self.tab}.{name}" if self.tab else f"{self.slug}.{name}"
        label = args[0] if args and isinstance(args[0], str) else name
        DEFAULTS.setdefault(self.slug, {}).setdefault(self.tab, {})[name] = default
        linked = link_values(key) if url else []
        own_default = _give_default(widget, args, kwargs, default)  # on every run: one widget identity
        if linked:
            _options_from_link(key, widget, args, kwargs, linked)
        if key not in st.session_state and not own_default:
            st.session_state[key] = default
        # Streamlit keeps a URL-bound widget's value while its tab is not drawn; persist_state does the same
        # for a setting kept out of the URL
        if url:
            kwargs.update(URL)
            _LINK_FORMAT[key] = (getattr(widget, "__name__", ""), kwargs.get("format_func"))
        else:
            kwargs.setdefault("persist_state", "session")
        value = widget(*args, key=key, **kwargs)
        max_chars = kwargs.get("max_chars")
        if max_chars and isinstance(value, str) and len(value) >= max_chars:  # Streamlit cuts silently
            st.warning(f"“{label}” takes at most {max_chars:,} characters: longer text is cut there.")
        if url and not _link_taken(key, value, linked):
            refused_link_notice(key, label, linked)
        if url:
            _check_link(key, value)
        return value

    def value(self, name: str, default: Any = None) -> Any:
        return st.session_state.get(self.key(name), default)

    def open_tab(self) -> str:
        """The title of the tab shown in this run, also while `controls` draw (before the tab strip exists, when a
        link opens the page it is the link's): shared settings may fold away on a tab that ignores them."""
        key = f"{self.slug}.tab"
        titles = [tab.TITLE for tab in importlib.import_module(self.lesson.package).TABS]
        title = st.session_state.get(key)
        if title not in titles:
            linked = st.query_params.get_all(key)
            title = linked[0] if linked and linked[0] in titles else titles[0]
        return title

    def settings(self) -> dict[str, Any]:
        """The settings this tab sees, {name: value}: the lesson's and the tab's own (what a run of the tab
        depends on); for the lesson's controls, every setting ('tab.name' for a tab's), as exports hold them."""
        every = lecture.settings(self.slug)
        if not self.tab:
            return every
        own = {k.removeprefix(f"{self.tab}."): v for k, v in every.items() if k.startswith(f"{self.tab}.")}
        return {k: v for k, v in every.items() if "." not in k} | own

    def config(self, cls: type, what: str = "", **overrides) -> Any:
        """The dataclass `cls` built from the settings named like its fields, validated by the class itself.

        Fields with no widget keep their defaults; `overrides` win. On a bad value the class's message is shown
        and the last config that worked is returned (None if none has).
        """
        values = {}
        for f in fields(cls):
            if f.name in overrides:
                values[f.name] = overrides[f.name]
            elif self.key(f.name) in st.session_state:
                values[f.name] = _like_default(st.session_state[self.key(f.name)], f)
        return self.compute(f"config-{cls.__name__}", what or "Settings", cls, **values)

    # ------------------------------------------------------------------ results
    def compute(self, name: str, what: str, fn: Callable, *args, **kwargs) -> Any:
        """`fn(*args, **kwargs)` under a friendly error; returns its result, or the last good one.

        On failure the message appears here (next to the input that caused it) and the last good result is
        returned; `page.stale(name)` is then True so the tab can say that what it shows is out of date.
        """
        good_key, failed_key = self.state_key(name), self.state_key(f"{name}!failed")
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - bad input becomes a message, never a traceback
            if is_control_flow(exc):
                raise
            show_error(exc, what)
            self.failed.append(what)
            st.session_state[failed_key] = True
            if good_key in st.session_state:
                st.caption("⚠ Below: the last result that worked, not the current settings.")
            return st.session_state.get(good_key)
        st.session_state[good_key] = result
        st.session_state.pop(failed_key, None)
        return result

    def settings_area(self, label: str = "⚙️ Settings"):
        """Where a tab draws its own inputs: in place, or folded into a popover in presenter mode so the tab's
        first chart fits on a projector (the popover stays open while the lecturer changes things)."""
        if presenter_mode():
            return st.popover(label, width="content")
        return st.container()

    def shared(self, fn: Callable, *args, read_only: bool = False, **kwargs) -> Any:
        """`fn(*args, **kwargs)` computed once per server for these arguments; see `shared` below."""
        return shared(fn, *args, read_only=read_only, **kwargs)

    def shared_figure(self, builder: Callable, *args, **kwargs) -> Any:
        """`builder(*args, **kwargs)`'s figures built and styled once per server; see `shared_figure` below."""
        return shared_figure(builder, *args, **kwargs)

    def result(self, name: str, default: Any = None) -> Any:
        """What the lesson kept under `name` in this session (by `compute` or `keep`), or `default`."""
        return kept(self.slug, name, default)

    def keep(self, name: str, value: Any) -> Any:
        """Keep `value` for this session across reruns (read it back with `result`); returns it."""
        return keep(self.slug, name, value)

    def forget(self, name: str, default: Any = None) -> Any:
        """Drop what was kept under `name`; returns it (or `default`)."""
        return st.session_state.pop(self.state_key(name), default)

    def set_value(self, name: str, value: Any) -> None:
        """Set the setting `name` as a click would (call before its widget is drawn in this run)."""
        st.session_state[self.key(name)] = value

    def has_value(self, name: str) -> bool:
        """Whether the setting `name` has a value in this session yet."""
        return self.key(name) in st.session_state

    def stale(self, name: str) -> bool:
        return bool(st.session_state.get(self.state_key(f"{name}!failed")))

    # ------------------------------------------------------------------ inputs the kit owns
    def corpus(self, default: str = "wiki", allow_user_text: bool = True):
        """The corpus picker: (key, label, sentences) of the last corpus that worked, or None.

        The key names the corpus for caches: its name, or 'user:<sha1 of the text>' for a user's own text.
        """
        from app.resources import corpus_picker

        def pick():
            label, sentences = corpus_picker(self, default, allow_user_text)
            choice = self.value("corpus", default)
            if choice == "user":
                text = "\n".join(" ".join(s) for s in sentences).encode("utf-8")
                choice = "user:" + hashlib.sha1(text).hexdigest()[:16]
            return choice, label, sentences

        return self.compute(f"{self.tab}.corpus" if self.tab else "corpus", "Reading the corpus", pick)

    # ------------------------------------------------------------------ output
    def chart(self, fig, data=None, name: str = "chart", key: str | None = None) -> None:
        """A plotly chart with PNG export, plus its data as CSV and the settings as JSON."""
        lecture.show_chart(fig, data, f"{self.slug}-{name}", self.slug, key=key or self.state_key(f"chart-{name}"))

    def table(self, data, **kwargs):
        """A result table: `st.dataframe(data, **kwargs)`, large enough to read in presenter mode (an HTML table
        with the same formats); see `lecture.show_table`."""
        return lecture.show_table(data, **kwargs)

    def run_key(self, run: str = "") -> str:
        """The kit's name for a run: the lesson's slug, or '<slug>-<run>' for a tab's own run ("lora-real")."""
        return f"{self.slug}-{run}" if run else self.slug

    def train(self, factory: Callable[[], Any], total_steps: int, render, run: str = "", **kwargs):
        """The live-training kit (Start / Pause / Step / Reset / Pin) for the lesson's run, or a tab's own `run`
        (its buttons are keyed '<slug>-<run>:start' ...; the sidebar titles it from LESSONS and the `label`)."""
        kwargs.setdefault("device", self.device)
        kwargs.setdefault("settings", self.settings())
        if self.failed:  # bad input above: a Start now would train on the last input that worked
            kwargs.setdefault("blocked", f"fix “{self.failed[-1]}” above first (see its message).")
        return training.training_panel(self.run_key(run), factory, total_steps, render=render, **kwargs)

    def run(self, run: str = ""):
        """The lesson's run, or a tab's own `run` (another tab's too), or None before its first Start."""
        return training.get_run(self.run_key(run))


def kept(slug: str, name: str, default: Any = None) -> Any:
    """What lesson `slug` kept under `name` in this session (`page.result` for code without a page at hand)."""
    return st.session_state.get(f"{slug}:{name}", default)


def keep(slug: str, name: str, value: Any) -> Any:
    st.session_state[f"{slug}:{name}"] = value
    return value


def lesson_run(slug: str, run: str = ""):
    """Lesson `slug`'s run (or its tab's `run`) in this session, for another lesson that shows it, or None."""
    return training.get_run(f"{slug}-{run}" if run else slug)


_SHARED: dict[tuple[Callable, bool], Callable] = {}


def shared(fn: Callable, *args, read_only: bool = False, **kwargs) -> Any:
    """`fn(*args, **kwargs)` computed once per server and shared by every session (what every student's first view
    computes: data, tables, figures), keyed by the arguments, the last SHARED_ENTRIES results per function kept.

    For deterministic functions of settings only: pass names, settings and configs (they are hashed on every call),
    never a student's own text (a result keyed by a text is found by whoever sends the same text). Each caller gets
    its own copy (`st.cache_data`); with `read_only=True` every caller gets the same object (`st.cache_resource`,
    no copying: for large tables that nobody mutates). Exceptions are not cached: wrap the call in
    `page.compute(name, what, page.shared, fn, *args)` for a message on bad input.
    """
    cached = _SHARED.get((fn, read_only))
    if cached is None:
        cache = st.cache_resource if read_only else st.cache_data
        cached = _SHARED.setdefault((fn, read_only), cache(max_entries=SHARED_ENTRIES, show_spinner=False)(fn))
    return cached(*args, **kwargs)


_STYLED: dict[Callable, Callable] = {}


def shared_figure(builder: Callable, *args, **kwargs) -> Any:
    """What `builder(*args, **kwargs)` returns (a plotly figure, or a tuple, list or dict holding figures and
    tables), built once per server for these arguments and the presenter mode, its figures in the house style
    (`lecture.style_figure`): a student's first view draws it with no figure building at all.

    Every session gets the same objects (`shared(..., read_only=True)`): hand them to `page.chart` (which leaves a
    shared figure as it is) and change nothing. The same rules for the arguments as `shared`; data that the
    settings already name (a shared trace, a model) may ride along as keyword arguments named with a leading
    underscore, which are not hashed.
    """
    styled = _STYLED.get(builder)
    if styled is None:

        def styled(presenter: bool, *args, **kwargs):
            built = builder(*args, **kwargs)
            items = built.values() if isinstance(built, dict) else built
            for item in items if isinstance(built, (tuple, list, dict)) else [built]:
                if hasattr(item, "update_layout"):  # a plotly figure
                    lecture.style_figure(item, presenter)
                    lecture.mark_shared_style(item, presenter)  # style_figure leaves it alone from now on
            return built

        # one cache per builder: Streamlit names a cache by the function's module, name and source
        styled.__module__ = builder.__module__
        styled.__qualname__ = f"{builder.__qualname__}.<styled>"
        styled = _STYLED.setdefault(builder, styled)
    return shared(styled, presenter_mode(), *args, read_only=True, **kwargs)


_VALUE_WIDGETS = {
    "slider",
    "select_slider",
    "number_input",
    "text_input",
    "text_area",
    "checkbox",
    "toggle",
}


def _give_default(widget: Callable, args: tuple, kwargs: dict, default: Any) -> bool:
    """Give the widget its starting value as its own default (value=, index=, default=); False if it cannot.

    Not by seeding st.session_state: a widget's own default is what Streamlit compares a link's value with, so a
    seeded one makes it drop `?moe.top_k=1` (the slider's implicit default, its minimum) from both the URL and
    the page, and a shared link or a tab reconnecting to a restarted server loses that setting.
    """
    kind = getattr(widget, "__name__", "")
    if kind in _VALUE_WIDGETS:
        kwargs["value"] = default
    elif kind == "multiselect":
        kwargs["default"] = default
    elif kind in ("selectbox", "radio"):
        options = list(kwargs["options"] if "options" in kwargs else args[1] if len(args) > 1 else [])
        if default not in options:
            return False
        kwargs["index"] = options.index(default)
    else:
        return False
    return True


def _like_default(value: Any, f) -> Any:
    """Widgets return floats for ints and lists for tuples; give the config the type its default has."""
    default = f.default if f.default is not MISSING else None
    if isinstance(default, bool) or default is None:
        return value
    if isinstance(default, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    if isinstance(default, tuple) and isinstance(value, list):
        return tuple(value)
    return value


# ---------------------------------------------------------------------- presets
def tab_name(module) -> str:
    """A tab's name in its settings' keys and the URL: its module's name without '_tab' (`real_tab` -> 'real'),
    or the module's NAME."""
    return getattr(module, "NAME", None) or module.__name__.rsplit(".", 1)[-1].removesuffix("_tab")


def preset_keys(slug: str, preset: Preset) -> dict[str, Any]:
    """{widget key: value} that `preset` sets. A name is the lesson's setting when its `controls` draw it, else
    the setting of the preset's tab; 'tab.name' names another tab's setting."""
    tabs = {tab.TITLE: tab_name(tab) for tab in importlib.import_module(lesson(slug).package).TABS}
    lesson_level = DEFAULTS.get(slug, {}).get("", {})
    out = {}
    for name, value in preset.values.items():
        if "." in name or name in lesson_level:
            out[f"{slug}.{name}"] = value
        else:
            out[f"{slug}.{tabs[preset.tab]}.{name}"] = value
    return out


def apply_preset(slug: str, preset: Preset) -> None:
    """on_click: every setting the preset does not name back to its default, the named ones set, its tab opened,
    and the link updated to hold them (a link reproduces the view).

    Values are assigned, never deleted: a deleted widget state would be seeded again from the (old) URL. Streamlit
    puts a value set in code into the URL only for a widget that existed already, and a preset often sets a setting
    of a tab never opened: the kit writes that one into the URL itself.
    """
    values = {
        f"{slug}.{tab}.{name}" if tab else f"{slug}.{name}": default
        for tab, defaults in DEFAULTS.get(slug, {}).items()
        for name, default in defaults.items()
    }
    named = preset_keys(slug, preset)
    for key, value in (values | named | {f"{slug}.tab": preset.tab}).items():
        st.session_state[key] = value
        if key in named and not key.endswith(".tab"):
            _put_in_link(key, value)


_UNLINKED = "kit:unlinked"  # session state: the preset's settings whose widget was bound when it was clicked


def _put_in_link(key: str, value: Any) -> None:
    """Write a preset's setting into the URL. Streamlit refuses a direct write for a widget bound already; it syncs
    that one itself when the widget is drawn again unchanged, but not when the widget is drawn with other
    arguments (a layer slider whose range follows the model the preset picked): `widget` checks it once drawn."""
    try:
        st.query_params[key] = _link_text(key, value)
    except StreamlitAPIException:
        st.session_state.setdefault(_UNLINKED, set()).add(key)


def _check_link(key: str, value: Any) -> None:
    """After drawing the widget of a setting a preset set while that widget was bound: the URL must hold it."""
    unlinked = st.session_state.get(_UNLINKED)
    if not unlinked or key not in unlinked:
        return
    unlinked.discard(key)
    text = _link_text(key, value)
    if st.query_params.get_all(key) != (text if isinstance(text, list) else [text]):
        _write_link(key, text)


def _write_link(key: str, text: str | list[str], opened_with: bool = False) -> None:
    """Put `text` into the address for a widget's key, past Streamlit's guard on bound parameters; `opened_with`:
    as if the page had been opened with it (read by the URL binding before the widget binds), else sent to the
    browser's address bar now. Streamlit has no public call for either: where its internals differ, the address
    lacks the value and the page still shows it."""
    from streamlit.runtime.state.session_state_proxy import get_session_state

    try:
        with get_session_state().query_params() as params:
            if opened_with:
                params._initial_query_params[key] = text if isinstance(text, list) else [text]
            params._query_params[key] = text
            if not opened_with:
                params._send_query_param_msg()
    except (AttributeError, KeyError, TypeError):
        pass


# how each setting's widget writes a value into the URL: {widget key: (widget kind, format_func)}, as drawn
_LINK_FORMAT: dict[str, tuple[str, Callable | None]] = {}
_OPTION_WIDGETS = ("selectbox", "radio", "select_slider", "multiselect")


def _options_from_link(key: str, widget: Callable, args: tuple, kwargs: dict, linked: list[str]) -> None:
    """A link's values for an options widget name options by their labels (what Streamlit writes), or by the
    option itself (what a preset writes for a widget it has not seen drawn, and what a hand-written link says:
    `?rlhf.sandbox.methods=ppo`). Give the widget the options the link names, before Streamlit reads the link."""
    if getattr(widget, "__name__", "") not in _OPTION_WIDGETS:
        return
    options = list(kwargs["options"] if "options" in kwargs else args[1] if len(args) > 1 else [])
    label = kwargs.get("format_func") or str
    by_text = {str(label(o)): o for o in options} | {str(o): o for o in options}
    if not all(text in by_text for text in linked):
        return  # refused by Streamlit, and said so by refused_link_notice
    chosen = [by_text[text] for text in linked]
    many = getattr(widget, "__name__", "") == "multiselect"
    st.session_state[key] = chosen if many else chosen[0]
    labels = [str(label(o)) for o in chosen]
    if labels != linked:
        # Streamlit's URL binding reads the link by labels, and would drop this value from the address (which then
        # no longer reproduces the view): give it the labels, as if the page had been opened with them
        _write_link(key, labels if len(labels) > 1 else labels[0], opened_with=True)


def _link_taken(key: str, value: Any, linked: list[str]) -> bool:
    """Whether the widget took the link's value. Streamlit leaves a value equal to the widget's default out of the
    URL, so the URL alone cannot tell a refused value from a link that named the default (`?rlhf.eps=0.2`)."""
    if not linked:
        return True
    text = _link_text(key, value)
    if isinstance(text, list):
        return text == linked or [str(v) for v in value] == linked
    if len(linked) != 1:
        return False
    if text == linked[0] or str(value) == linked[0]:
        return True
    try:
        return not isinstance(value, bool) and float(linked[0]) == float(value)
    except (TypeError, ValueError):
        return False


def _link_text(key: str, value: Any) -> str | list[str]:
    """`value` as Streamlit's URL binding writes it: options by their label, booleans as true/false."""
    kind, label = _LINK_FORMAT.get(key, ("", None))

    def text(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(label(v)) if label is not None and kind in _OPTION_WIDGETS else str(v)

    return [text(v) for v in value] if isinstance(value, (list, tuple)) else text(value)


def presets_bar(slug: str, presets: Mapping[str, Preset], per_row: int = 3) -> None:
    """One button per preset, full names (wrapping), the tooltip saying in words what it shows."""
    if not presets:
        return
    items = list(presets.items())
    for start in range(0, len(items), per_row):
        row = items[start : start + per_row]
        for col, (name, preset) in zip(st.columns(per_row), row):
            col.button(
                name,
                key=f"{slug}:preset-{name}",
                on_click=apply_preset,
                args=(slug, preset),
                width="stretch",
                help=f"{preset.shows} (opens “{preset.tab}”)",
            )


# ---------------------------------------------------------------------- the page
def _presenter_header(page: LessonPage, package, presets: dict, controls) -> Any:
    """On a projector the first chart matters most: the intro, the presets and the shared settings fold into one
    row (an expander and two popovers) instead of a screenful above the tabs. Returns what `controls` returned."""
    data = None
    left, middle, right = st.columns([3, 2, 2], vertical_alignment="top")
    with left.expander("What this lesson shows"):
        st.markdown(package.INTRO)
    if presets:
        with middle.popover("🎬 Lecture demos", width="stretch"):
            presets_bar(page.slug, presets, per_row=1)
    if controls is not None:
        with right.popover("⚙️ Settings", width="stretch"):
            data = controls(page)
    return data


def run_lesson(slug: str) -> LessonPage:
    """Draw the lesson `slug`: title, intro, presets, shared controls, tabs. The whole page file calls this."""
    spec = lesson(slug)
    package = importlib.import_module(spec.package)
    page = LessonPage(spec, current_device())

    st.title(f"{spec.icon} {spec.title}")
    presets = getattr(package, "PRESETS", {})
    controls = getattr(package, "controls", None)
    if presenter_mode():
        page.data = _presenter_header(page, package, presets, controls)
    else:
        st.markdown(package.INTRO)
        presets_bar(slug, presets)
        page.data = controls(page) if controls is not None else None
    if controls is not None and page.data is None:
        st.info("Pick valid settings above; the lesson appears here.")
        return page
    summary = getattr(package, "summary", None)
    if summary is not None:  # what every tab shares on screen (metrics), drawn from what `controls` returned
        summary(page, page.data)
    tabs = package.TABS
    titles = [tab.TITLE for tab in tabs]
    if st.session_state.get(page.key("tab")) not in titles:  # an old or mistyped ?<slug>.tab=
        st.session_state.pop(page.key("tab"), None)
    linked = link_values(page.key("tab"))
    containers = st.tabs(titles, key=page.key("tab"), **URL)
    if not _link_taken(page.key("tab"), st.session_state.get(page.key("tab")), linked):
        refused_link_notice(page.key("tab"), "tab", linked)
    live = training.lesson_has_live_run(slug)
    for container, tab in zip(containers, tabs):
        if container.open is False and not live:
            continue  # lazy tabs: only the open one is computed (see the docstring)
        with container:
            try:
                tab.render(page.for_tab(tab))
            except Exception as exc:  # noqa: BLE001 - one broken tab must not take the page down
                if is_control_flow(exc):
                    raise
                show_error(exc, tab.TITLE)
    return page
