"""Shared fixtures and the suite's time budget.

- Offline mode and one torch thread for every test.
- Models load once per pytest-xdist worker (session fixtures): SmolLM2, MiniLM and a tiny random Llama.
- The browser tests share one Streamlit server across the xdist workers (`server`) and get one Chromium per worker
  (`browser`); `fresh_server` starts one that no test has used yet.
- `plotly_figures(at)` parses the figures a page drew (compare data, not escaped JSON text: plotly 7 writes
  non-ASCII as \\uXXXX).
- The time budget of a test: tests/budget.py, loaded here.
"""

import importlib
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# page tests run one after another in one process: a run left by a finished test must not make the next test's
# run wait for a turn (the queue itself is tested with its own limits in tests/kit/test_training_kit.py)
os.environ.setdefault("NLP_PLAYGROUND_MAX_RUNS", "64")
os.environ.setdefault("NLP_PLAYGROUND_GPU_JOBS", "64")

import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from app.lessons import PAGES_DIR, available_lessons  # noqa: E402
from app.lessons import lesson as lesson_spec  # noqa: E402

torch.set_num_threads(1)  # on a shared 2-core machine one thread is usually faster

pytest_plugins = ["tests.budget"]
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def pytest_sessionstart(session):
    """Fill the on-disk caches once, before the xdist workers start (a fresh machine, as in CI): SmolLM2's GGUF
    dequantised into safetensors, and the retrieval lesson's MiniLM passage vectors. Otherwise every worker and the
    browser tests' server would each do it at once on two cores, and the first test of each would pay for it."""
    if hasattr(session.config, "workerinput"):
        return  # a worker: the controller warmed them
    from models.registry import cache_dir, smollm2_cache_path

    try:
        if not (smollm2_cache_path() / "model.safetensors").exists():
            print("\nwarming the cache: SmolLM2's GGUF dequantised once (~30 s on a CPU)", flush=True)
            from models.registry import load_model

            load_model("smollm2")
        if not any((cache_dir() / "passage-vectors").glob("vectors-*.npy")):
            print("warming the cache: the retrieval lesson's passages encoded by MiniLM once (~12 s)", flush=True)
            from app.lessons.retrieval.data import pool

            pool(64, 2, "cpu")
    except Exception as exc:  # noqa: BLE001 - a missing package: the tests that need it say so themselves
        print(f"cache not warmed: {exc}", flush=True)


# ----------------------------------------------------------------------------------------------------- models
@pytest.fixture(scope="session")
def smollm2():
    """(model, tokenizer); the first call converts the GGUF into the user cache (~20-30 s on a CPU)."""
    from models.registry import load_model

    return load_model("smollm2")


@pytest.fixture(scope="session")
def minilm():
    from models.registry import load_model

    return load_model("minilm")


@pytest.fixture(scope="session")
def tiny_lm():
    """(model, tokenizer): a 2-layer Llama (hidden 32), random weights, SmolLM2's tokenizer; trains in seconds."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from models.registry import load_model, smollm2_cache_path

    path = smollm2_cache_path()
    if (path / "tokenizer.json").exists():
        tokenizer = AutoTokenizer.from_pretrained(path)
    else:
        tokenizer = load_model("smollm2")[1]
    torch.manual_seed(0)
    config = LlamaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=len(tokenizer),
        tie_word_embeddings=True,
        attn_implementation="eager",
    )
    return LlamaForCausalLM(config).eval(), tokenizer


# ----------------------------------------------------------------------------------------------------- pages
# A lesson draws only its open tab (app/page.py: the others cost a classroom's server nothing until opened), so
# these helpers open a tab the way a click does: `open_tab(at, title)`, or `reveal(at, key)` for the tab that holds
# a widget or button.
ENTRY = str(ROOT / "app" / "entry" / "streamlit_app.py")
PAGES = ["home.py"] + [lesson.file for lesson in available_lessons()]


def setting_key(slug: str, name: str, tab: str | None = None) -> str:
    """The widget key and query parameter of a setting: '<slug>.<tab>.<name>' for a setting a tab draws (the tab's
    module name without '_tab'), '<slug>.<name>' for one the lesson's `controls` draw."""
    return f"{slug}.{tab}.{name}" if tab else f"{slug}.{name}"


def run_page(page: str, timeout: float = 30) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=timeout)
    at.switch_page(str(PAGES_DIR / page))
    return at.run()


def open_page(page: str, timeout: float = 60, **query) -> AppTest:
    """A lesson's page opened from a link: `query` is the link's query string (`**{"translation.iterations": "3"}`)."""
    at = AppTest.from_file(ENTRY, default_timeout=timeout)
    at.query_params.update(query)
    at.switch_page(str(PAGES_DIR / page))
    return at.run()


def problems(at: AppTest) -> list[str]:
    """Every exception and error message on the page."""
    return [e.value for e in at.exception] + [e.value for e in at.error]


def metric(at: AppTest, label: str) -> str:
    """The value of the metric labelled `label`."""
    return next(m.value for m in at.metric if m.label == label)


def metrics(at: AppTest) -> dict[str, str]:
    """{label: value} of every metric on the page."""
    return {m.label: m.value for m in at.metric}


def chart_count(at: AppTest) -> int:
    """How many plotly charts the page drew (in the open tab: tabs are lazy)."""
    return len(at.get("plotly_chart"))


def click(at: AppTest, label: str) -> AppTest:
    """Click the first button labelled `label`, and run the page."""
    next(b for b in at.button if b.label == label).click()
    return at.run()


def tab_titles(slug: str) -> list[str]:
    return [tab.TITLE for tab in importlib.import_module(lesson_spec(slug).package).TABS]


def _slug_of(at: AppTest) -> str:
    for spec in available_lessons():
        if f"{spec.slug}.tab" in at.session_state:
            return spec.slug
    raise LookupError("no lesson page is open")


def open_tab(at: AppTest, title: str) -> AppTest:
    """Click the tab `title` of the open lesson (its tab key is `<slug>.tab`)."""
    slug = _slug_of(at)
    assert title in tab_titles(slug), (title, tab_titles(slug))
    at.session_state[f"{slug}.tab"] = title
    if f"{slug}.tab" in at.query_params:  # a click changes the address bar too (else its value wins)
        at.query_params[f"{slug}.tab"] = title
    return at.run()


def visible_keys(at: AppTest) -> set[str]:
    kinds = "button slider select_slider number_input text_input text_area selectbox multiselect radio"
    kinds += " checkbox toggle"
    return {e.key for kind in kinds.split() for e in at.get(kind) if getattr(e, "key", None)}


def reveal(at: AppTest, key: str) -> AppTest:
    """Open the tab that draws the widget or button `key`, if it is not on the open tab already."""
    if key in visible_keys(at) or key.endswith(".tab"):  # the tabs themselves are always drawn
        return at
    slug = _slug_of(at)
    for title in tab_titles(slug):
        open_tab(at, title)
        if key in visible_keys(at):
            return at
    raise LookupError(f"no tab of {slug} draws {key!r}")


# ----------------------------------------------------------------------------------------------------- figures
def plotly_figures(at) -> list[dict]:
    """Every plotly chart an AppTest page drew, parsed: {"data": [...], "layout": {...}}."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def trace_names(figure: dict) -> list[str]:
    return [trace.get("name") or "" for trace in figure.get("data", [])]


def figure_text(figure: dict) -> str:
    """The figure's titles, axis titles, annotations and trace names, as one plain string."""
    layout = figure.get("layout", {})

    def title(item) -> str:
        value = (item or {}).get("title") or ""
        return value.get("text") or "" if isinstance(value, dict) else str(value)

    parts = [title(layout)]
    parts += [title(layout[key]) for key in layout if key.startswith(("xaxis", "yaxis"))]
    parts += [a.get("text") or "" for a in layout.get("annotations", [])]
    parts += trace_names(figure)
    return "\n".join(parts)


# ----------------------------------------------------------------------------------------------------- browser
def require_browser():
    """Skip (locally) or fail (in CI, CI=true) when Chromium or Playwright is missing."""
    missing = []
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing.append("chromium (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install playwright)")
    if missing:
        if os.environ.get("CI"):
            pytest.fail("browser test prerequisites missing in CI: " + ", ".join(missing))
        pytest.skip("needs " + ", ".join(missing))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_server(timeout_s: float = 90) -> tuple[subprocess.Popen, str]:
    """`streamlit run app/entry/streamlit_app.py` on a free localhost port, in its own process group; (process, URL) once
    it answers its health check."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app/entry/streamlit_app.py",
        "--server.port",
        str(port),
    ]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout_s
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return proc, url
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                _stop(proc.pid)
                pytest.fail(f"streamlit did not start on port {port} (exit code {proc.poll()})")
            time.sleep(0.2)


def start_server(timeout_s: float = 90):
    """A server for this process alone: yields its URL, stops it afterwards."""
    proc, url = launch_server(timeout_s)
    try:
        yield url
    finally:
        _stop(proc.pid)


@pytest.fixture(scope="session")
def server(smollm2, request, worker_id):
    """One server for the whole run, shared by every xdist worker's browser tests (as a class shares one): the
    first worker that needs it starts it, the last one to finish stops it. Without xdist, this process's own."""
    require_browser()
    if worker_id == "master":
        yield from start_server()
        return
    import tempfile

    import filelock

    # shared by the workers of this run only (pytest's own temporary folders may be cleaned by another run)
    root = Path(tempfile.gettempdir()) / f"nlp-playground-{request.config.workerinput['testrunuid']}"
    root.mkdir(exist_ok=True)
    lock, state_file = filelock.FileLock(root / "server.lock"), root / "server.json"
    with lock:
        state = json.loads(state_file.read_text()) if state_file.exists() else None
        if state is None or not _alive(state["pid"]):
            proc, url = launch_server()
            state = {"pid": proc.pid, "url": url, "users": 0}
        state["users"] += 1
        state_file.write_text(json.dumps(state))
    try:
        yield state["url"]
    finally:
        with lock:
            state = json.loads(state_file.read_text())
            state["users"] -= 1
            if state["users"] == 0:
                _stop(state["pid"])
                shutil.rmtree(root, ignore_errors=True)
            else:
                state_file.write_text(json.dumps(state))


def _alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped by the worker that started it, is not)."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


def _stop(pid: int) -> None:
    import signal

    try:
        os.killpg(pid, signal.SIGTERM)  # the server leads its own process group
    except OSError:
        return
    deadline = time.time() + 10
    while _alive(pid) and time.time() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        except ChildProcessError:
            pass
        time.sleep(0.1)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def fresh_server(smollm2):
    """A server whose first request is the test's own."""
    require_browser()
    yield from start_server()


@pytest.fixture(scope="session")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
    ]
    args += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as pw:
        executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        browser = pw.chromium.launch(executable_path=executable, args=args)
        yield browser
        browser.close()


def settle(page, timeout_s: float = 30) -> None:
    """Until every visible plotly chart has drawn its SVG, then two animation frames (for a screenshot or for
    measuring what is drawn), instead of a fixed sleep."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')]
                 .filter(e => e.offsetParent !== null)
                 .every(e => e.querySelector('.main-svg'))""",
        timeout=timeout_s * 1000,
    )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
