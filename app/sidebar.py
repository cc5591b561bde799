"""The sidebar every page shares: device choice with GPU memory, and presenter mode."""

from __future__ import annotations

import streamlit as st

from app.streamlit_compat import presenter_css
from models.device import available_devices, device_label, memory_summary, pick_device

DEVICE_KEY = "device"  # also the query parameter: ?device=cpu
PRESENTER_KEY = "presenter"  # ?presenter=true


def current_device() -> str:
    """The device chosen in the sidebar (auto = cuda > mps > cpu)."""
    return pick_device(st.session_state.get(DEVICE_KEY, "auto"))


def presenter_mode() -> bool:
    return bool(st.session_state.get(PRESENTER_KEY, False))


def use_cpu() -> None:
    """on_click callback offered after a GPU out-of-memory error."""
    st.session_state[DEVICE_KEY] = "cpu"


def render_sidebar() -> None:
    with st.sidebar:
        st.selectbox(
            "Device",
            ["auto", *available_devices()],
            key=DEVICE_KEY,
            bind="query-params",
            help="auto picks cuda, then mps, then cpu. Models and training runs use this device.",
        )
        device = current_device()
        memory = memory_summary(device)
        caption = f"Running on **{device_label(device)}**"
        if memory and "total_mib" in memory:
            caption += (
                f"  \nGPU memory: {memory['allocated_mib']:.0f} MiB allocated, "
                f"{memory['reserved_mib']:.0f} MiB reserved of {memory['total_mib']:.0f} MiB"
            )
        st.caption(caption)
        st.toggle(
            "Presenter mode",
            key=PRESENTER_KEY,
            bind="query-params",
            help="Larger fonts for a projector; advanced controls folded away.",
        )
    if presenter_mode():  # larger text in the main area only (the sidebar keeps its width)
        st.markdown(presenter_css(), unsafe_allow_html=True)
