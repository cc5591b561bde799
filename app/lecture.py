"""Lecture features every lesson uses: shareable URLs, presets, presenter mode, export and compare.

- Shareable URL: lesson widgets are created with `bind="query-params"` and a page-prefixed key (e.g. `nt_temp`),
  so the query string holds every non-default setting and a link reproduces the view. `settings(prefix)` reads
  them back for export.
- Presets: `presets_bar(prefix, {"Lecture demo: ...": {key: value}})` sets widget values in one click.
- Presenter mode: `advanced_controls()` is an expander folded away in presenter mode; fonts grow (see sidebar).
- Export: `show_chart(fig, data, name)` draws a plotly chart (PNG from its toolbar) with CSV and settings-JSON
  downloads under it.
- Compare: `pin_button`/`pinned` keep named snapshots of results so a page overlays two settings run with the
  same seed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from app.sidebar import presenter_mode


def settings(prefix: str) -> dict[str, Any]:
    """The current values of a page's widgets (keys starting with `prefix`), JSON-friendly."""
    out = {}
    for key in sorted(st.session_state):
        if isinstance(key, str) and key.startswith(prefix):
            value = st.session_state[key]
            if isinstance(value, (str, int, float, bool)) or value is None:
                out[key] = value
            elif isinstance(value, (list, tuple)) and all(
                isinstance(v, (str, int, float)) for v in value
            ):
                out[key] = list(value)
    return out


def _apply_preset(values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        st.session_state[key] = value


def presets_bar(prefix: str, presets: Mapping[str, Mapping[str, Any]]) -> None:
    """One button per named preset; a click sets the widgets (and so the URL) to the preset's values."""
    if not presets:
        return
    per_row = 2 if presenter_mode() else 4  # long names stay readable on a projector
    items = list(presets.items())
    for start in range(0, len(items), per_row):
        row = items[start : start + per_row]
        cols = st.columns(len(row))
        for col, (name, values) in zip(cols, row):
            col.button(
                name,
                key=f"{prefix}preset-{name}",
                on_click=_apply_preset,
                args=(values,),
                width="stretch",
                help=", ".join(f"{k}={v}" for k, v in values.items()),
            )


def advanced_controls(label: str = "Advanced settings"):
    """A container for controls a presenter does not need: open normally, folded in presenter mode."""
    return st.expander(label, expanded=not presenter_mode())


def plotly_config(name: str) -> dict:
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
    }


def style_figure(fig):
    """House style for charts; bigger text in presenter mode."""
    fig.update_layout(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")
    if presenter_mode():
        fig.update_layout(font=dict(size=18))
    return fig


def show_chart(
    fig,
    data: pd.DataFrame | None = None,
    name: str = "chart",
    prefix: str = "",
    key: str | None = None,
) -> None:
    """Draw a chart with PNG export (toolbar camera), plus its data as CSV and the settings as JSON."""
    st.plotly_chart(
        style_figure(fig), width="stretch", config=plotly_config(name), key=key or f"chart-{name}"
    )
    if data is not None:
        export_buttons(data, name, prefix)


def export_buttons(data: pd.DataFrame, name: str, prefix: str = "") -> None:
    col_csv, col_json, _ = st.columns([1, 1, 1])
    col_csv.download_button(
        "⬇ data (CSV)",
        data.to_csv(index=False).encode("utf-8"),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"csv-{name}",
        on_click="ignore",
    )
    col_json.download_button(
        "⬇ settings (JSON)",
        json.dumps(settings(prefix), indent=2).encode("utf-8"),
        file_name=f"{name}-settings.json",
        mime="application/json",
        key=f"json-{name}",
        on_click="ignore",
    )


def pin(prefix: str, label: str, payload: Any) -> None:
    """Keep a named snapshot (results + settings) to compare against later; at most 4 per page."""
    pins = st.session_state.setdefault(f"{prefix}pins", [])
    pins.append({"label": label, "payload": payload, "settings": settings(prefix)})
    del pins[:-4]


def pinned(prefix: str) -> list[dict]:
    return st.session_state.get(f"{prefix}pins", [])


def clear_pins(prefix: str) -> None:
    st.session_state[f"{prefix}pins"] = []


def settings_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, tuple]:
    """Settings that differ between two snapshots: {key: (a_value, b_value)}."""
    keys = sorted(set(a) | set(b))
    return {k: (a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)}


def short_settings(values: Mapping[str, Any], prefix: str) -> str:
    return ", ".join(f"{k.removeprefix(prefix)}={v}" for k, v in values.items())
