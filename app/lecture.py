"""Lecture features every lesson uses: shareable URLs, presets, presenter mode, export and compare.

- Shareable URL: lesson widgets are created with `bind="query-params"` and the key `<slug>.<tab>.<setting>` or, for
  the settings every tab shares, `<slug>.<setting>` (e.g.
  `next_token.temperature`), so the query string holds every non-default setting and a link reproduces the view.
  `settings(slug)` reads them back for export.
- Presets: `app.page.presets_bar` (full state, the tab where the point shows).
- Presenter mode: `advanced_controls()` and `presenter_fold()` are expanders folded away in presenter mode; fonts
  grow (see sidebar).
- Tables: `show_table(data, **kwargs)` is `st.dataframe`, or in presenter mode an HTML table the CSS can enlarge.
- Export: `show_chart(fig, data, name)` draws a plotly chart (PNG from its toolbar) with CSV and settings-JSON
  downloads under it.
- Compare: `pin`/`pinned`/`clear_pins` keep named snapshots of results (a training run's curve, a distribution),
  so a page overlays two settings run with the same seed. The training kit pins through these too.
"""

from __future__ import annotations

import copy
import json
import math
import re
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.io as pio
import streamlit as st
from pandas.io.formats.style import Styler

PRESENTER_KEY = "presenter"  # the sidebar's toggle, also the query parameter ?presenter=true


def presenter_mode() -> bool:
    return bool(st.session_state.get(PRESENTER_KEY, False))


NOT_SETTINGS = {"tab"}  # where you look is not part of what you computed


def settings(slug: str) -> dict[str, Any]:
    """The current values of a lesson's settings, {name: value}, JSON-friendly: the name is the widget key without
    '<slug>.', so a tab's setting is 'tab.name'."""
    out = {}
    prefix = f"{slug}."
    for key in sorted(k for k in st.session_state if isinstance(k, str)):
        name = key.removeprefix(prefix)
        if key.startswith(prefix) and name not in NOT_SETTINGS:
            value = st.session_state[key]
            if isinstance(value, (str, int, float, bool)) or value is None:
                out[name] = value
            elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
                out[name] = list(value)
    return out


def advanced_controls(label: str = "Advanced settings"):
    """A container for controls a presenter does not need: open normally, folded in presenter mode."""
    return st.expander(label, expanded=not presenter_mode())


def presenter_fold(label: str):
    """A container for secondary text (what a model is, a long caption): in place, or an expander folded away in
    presenter mode so that the tab's first chart fits on a projector."""
    return st.expander(label) if presenter_mode() else st.container()


def plotly_config(name: str) -> dict:
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
    }


# Every figure of the app starts from this template: setting it per figure (update_layout(template=...)) copied
# and validated the whole template each time, ~28 ms of server CPU per chart drawn (measured: 33 ms vs 5 ms).
pio.templates.default = "plotly_white"

PRESENTER_FONT = 18  # px: chart text on a projector (ticks and legends included; the goal is >= 16)


# Figures shared by every session (app.page.shared_figure), styled once: {id(figure): (weak reference, presenter)}
_SHARED_STYLE: dict[int, tuple[weakref.ref, bool]] = {}


def mark_shared_style(fig, presenter: bool) -> None:
    """Record that `fig` is shared and styled for `presenter`: `style_figure` leaves it alone from now on."""
    key = id(fig)
    _SHARED_STYLE[key] = (weakref.ref(fig, lambda _ref: _SHARED_STYLE.pop(key, None)), presenter)


def shared_style(fig) -> bool | None:
    held = _SHARED_STYLE.get(id(fig))
    return held[1] if held is not None and held[0]() is fig else None


def _axis_values(fig) -> dict[str, np.ndarray]:
    """{layout axis name ('xaxis', 'yaxis2', ...): the finite numbers its traces plot on it}."""
    values: dict[str, list] = {}
    for trace in fig.data:
        for letter in ("x", "y"):
            data = getattr(trace, letter, None)
            if data is None:
                continue
            try:
                numbers = np.asarray(data, dtype=float).ravel()
            except (TypeError, ValueError):
                continue  # categories or dates
            ref = getattr(trace, f"{letter}axis", None) or letter
            values.setdefault(ref.replace(letter, f"{letter}axis", 1), []).append(numbers[np.isfinite(numbers)])
    return {name: np.concatenate(parts) for name, parts in values.items()}


def tidy_axes(fig) -> None:
    """Axis labels a room can read: a log axis over two decades or more is labelled at the powers of ten only
    (not "8 9 1 2 3 … 10 2 3"); an axis of small numbers says 2×10⁻⁶, not "2µ" (plotly's SI suffixes). Axes whose
    builder set its own ticks or format are left alone."""
    values = _axis_values(fig)
    for name, numbers in values.items():
        axis = fig.layout[name] if name in fig.layout else None
        if axis is None or axis.tickvals is not None or axis.tickformat:
            continue
        if axis.type == "log":
            positive = numbers[numbers > 0]
            if axis.dtick is None and positive.size and np.log10(positive.max() / positive.min()) >= 1.5:
                axis.dtick = 1
        elif axis.exponentformat is None and numbers.size and 0 < np.abs(numbers).max() < 1e-2:
            axis.exponentformat = "power"


def style_figure(fig, presenter: bool | None = None):
    """House style for charts; in presenter mode every text in the chart (ticks, legend, colour bars, titles
    of axes and annotations) grows to PRESENTER_FONT, also where a builder set a smaller size.

    A figure shared by every session (`app.page.shared_figure`) was styled once, for its presenter mode, and
    is never changed again: it is returned as it is."""
    if presenter is None:
        presenter = presenter_mode()
    if shared_style(fig) == presenter:
        return fig
    fig.update_layout(margin=dict(l=10, r=10, t=40, b=10))  # template: plotly_white, the default set above
    tidy_axes(fig)
    if presenter:
        size = PRESENTER_FONT
        fig.update_layout(font=dict(size=size), legend=dict(font=dict(size=size)))
        fig.update_xaxes(tickfont=dict(size=size), title_font=dict(size=size))
        fig.update_yaxes(tickfont=dict(size=size), title_font=dict(size=size))
        fig.update_annotations(font_size=size)
        fig.update_traces(colorbar=dict(tickfont=dict(size=size)), selector=lambda t: "colorbar" in t)
        if fig.layout.scene is not None:  # 3-D projections
            for axis in ("xaxis", "yaxis", "zaxis"):
                fig.layout.scene[axis].tickfont = dict(size=size)
    return fig


def show_chart(
    fig,
    data: pd.DataFrame | None = None,
    name: str = "chart",
    slug: str = "",
    key: str | None = None,
) -> None:
    """Draw a chart with PNG export (toolbar camera), plus its data as CSV and the settings as JSON."""
    st.plotly_chart(style_figure(fig), width="stretch", config=plotly_config(name), key=key or f"chart-{name}")
    if data is not None:
        export_buttons(data, name, slug)


PRESENTER_TABLE_ROWS = 10  # a longer table scrolls in presenter mode (sticky header), as a dataframe does
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~])")  # st.table reads every cell as Markdown


def show_table(data, **kwargs):
    """A result table: `st.dataframe(data, **kwargs)`; in presenter mode an HTML table (`st.table`) that the
    presenter CSS makes large enough to read, since a dataframe is drawn on a canvas that CSS cannot reach.

    The HTML table shows what the dataframe showed: a Styler's formats, floats to 4 decimals, ✓/✗ for booleans,
    `hide_index`, `width`, `column_order`, and from `column_config` the labels, hidden columns and printf formats
    (of a plain DataFrame). A table the student selects rows from (`on_select`) stays a dataframe."""
    if not presenter_mode() or kwargs.get("on_select", "ignore") != "ignore":
        return st.dataframe(data, **kwargs)
    shown = _as_shown(data, kwargs.get("column_config") or {}, kwargs.get("column_order"))
    height = kwargs.get("height")
    if not isinstance(height, int):
        height = 45 * (PRESENTER_TABLE_ROWS + 1) if len(shown.data) > PRESENTER_TABLE_ROWS else "content"
    return st.table(shown, hide_index=kwargs.get("hide_index"), width=kwargs.get("width", "stretch"), height=height)


def _cell(value, printf: str | None = None) -> str:
    """A cell as st.dataframe draws it (Markdown characters escaped: st.table renders Markdown)."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return "✓" if value else "✗"
    if printf and isinstance(value, (int, float, np.number)):
        return printf % value
    if isinstance(value, (float, np.floating)):
        text = np.format_float_positional(value, precision=4, trim="-")
        if float(text) == 0 and value != 0:  # too small for 4 decimals: 4 significant digits
            text = np.format_float_positional(value, precision=4, fractional=False, trim="-")
        return text
    return _escape(value) if isinstance(value, str) else str(value)


def _escape(value):
    return _MARKDOWN.sub(r"\\\1", value) if isinstance(value, str) else value


def _as_shown(data, column_config: Mapping, column_order) -> Styler:
    """`data` as a Styler whose display values are what the dataframe showed."""
    if isinstance(data, Styler):  # its own formats, read from `.data` when drawn: its text escaped, ✓/✗ for booleans
        shown = copy.deepcopy(data)
        shown.data = shown.data.map(lambda v: _cell(v) if isinstance(v, (bool, np.bool_)) else _escape(v))
        return shown
    frame = pd.DataFrame(data)
    if column_order is not None:
        frame = frame[list(column_order)]
    labels, printf = {}, {}
    for column, config in column_config.items():
        config = {"label": config} if isinstance(config, str) else config or {"hidden": True}
        if config.get("hidden"):
            frame = frame.drop(columns=column)
            continue
        labels[column] = config.get("label") or column
        fmt = (config.get("type_config") or {}).get("format")
        printf[labels[column]] = fmt if isinstance(fmt, str) and fmt.startswith("%") else None
    frame = frame.rename(columns=labels).rename(columns=_escape, index=_escape)
    styler = frame.style.format(_cell)
    for column, fmt in printf.items():
        if fmt and _escape(column) in frame.columns:
            styler = styler.format(lambda v, fmt=fmt: _cell(v, fmt), subset=[_escape(column)])
    return styler


def export_buttons(data: pd.DataFrame, name: str, slug: str = "") -> None:
    """CSV and settings-JSON downloads, written when clicked (a callable: the server writes no file that nobody
    downloads, ~5-25 ms per chart on every view)."""
    col_csv, col_json, _ = st.columns([1, 1, 1])
    snapshot = settings(slug)  # the settings now: the callables run later, on another thread
    col_csv.download_button(
        "⬇ data (CSV)",
        lambda: csv_bytes(data),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{slug}:csv-{name}",
        on_click="ignore",
    )
    col_json.download_button(
        "⬇ settings (JSON)",
        lambda: json.dumps(snapshot, indent=2).encode("utf-8"),
        file_name=f"{name}-settings.json",
        mime="application/json",
        key=f"{slug}:json-{name}",
        on_click="ignore",
    )


def csv_bytes(data: pd.DataFrame) -> bytes:
    return data.to_csv(index=False).encode("utf-8")


MAX_PINS = 4


def pin(slug: str, label: str, payload: Any, pinned_settings: Mapping[str, Any] | None = None) -> None:
    """Keep a named snapshot (results + the settings that made them) to compare later; at most 4 per lesson."""
    pins = st.session_state.setdefault(f"{slug}:pins", [])
    snapshot = dict(settings(slug) if pinned_settings is None else pinned_settings)
    pins.append({"label": label, "payload": payload, "settings": snapshot})
    del pins[:-MAX_PINS]


def pinned(slug: str) -> list[dict]:
    return st.session_state.get(f"{slug}:pins", [])


def clear_pins(slug: str) -> None:
    st.session_state.pop(f"{slug}:pins", None)


def settings_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, tuple]:
    """Settings that differ between two snapshots: {key: (a_value, b_value)}."""
    keys = sorted(set(a) | set(b))
    return {k: (a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)}


def short_settings(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())
