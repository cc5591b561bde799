"""The sidebar every page shares: device choice with GPU memory, the server's training queue and this session's
runs (a student who switched pages sees where each run stands), and presenter mode."""

from __future__ import annotations

import streamlit as st

from app.lecture import PRESENTER_KEY, presenter_mode
from app.streamlit_compat import presenter_css
from app.training import run_title, server_status
from models.device import available_devices, device_label, memory_summary, pick_device

DEVICE_KEY = "device"  # also the query parameter: ?device=cpu


def current_device() -> str:
    """The device chosen in the sidebar (auto = cuda > mps > cpu)."""
    return pick_device(st.session_state.get(DEVICE_KEY, "auto"))


def use_cpu() -> None:
    """on_click callback offered after a GPU out-of-memory error."""
    st.session_state[DEVICE_KEY] = "cpu"


def training_caption() -> None:
    """The server's training load (counts only) and this session's own runs."""

    status = server_status()
    (cpu_on, cpu_wait), (gpu_on, gpu_wait) = status["training"]["cpu"], status["training"]["gpu"]
    if not (status["held"] or status["mine"]):
        return
    lines = [
        f"Training on this server: {cpu_on + gpu_on} running, {cpu_wait + gpu_wait} waiting; "
        f"{status['held']} of {status['max_held']} runs held "
        f"({status['held_mib']:,.0f} of {status['max_held_mib']:,.0f} MiB)"
    ]
    for slug, run in status["mine"].items():
        if run.finished:
            state = "done"
        elif run.running:
            state = "waiting for a turn" if run.waiting is not None else "training"
        else:
            state = "paused"
        # a live run's step count moves in its page's progress bar: the sidebar is drawn once per page run, and a
        # count here would fall behind that one (one step count on screen, the live one)
        where = "" if run.running else f", step {run.steps_done:,} of {run.total_steps:,}"
        lines.append(f"Your run in {run_title(slug, run)}: {state}{where}")
    st.caption("  \n".join(lines))


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
        training_caption()
        st.toggle(
            "Presenter mode",
            key=PRESENTER_KEY,
            bind="query-params",
            help="Larger fonts for a projector; advanced controls folded away.",
        )
    if presenter_mode():  # larger text in the main area only (the sidebar keeps its width)
        st.markdown(presenter_css(), unsafe_allow_html=True)
