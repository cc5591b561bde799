"""Serving a class on a network: what a student can reach is only what the pages offer.

One test per point of issue 12: localhost by default, XSRF on, the upload cap equal to the page's stated limit,
Hugging Face ids validated (against huggingface_hub's own validator) before anything is looked up, nothing
unpickled, `torch.load(weights_only=True)`, `trust_remote_code` never on, no user text reaching a shell or a file
path, and sessions that never see each other's text. The source scanners are checked on planted bad code, so a
scanner that found nothing because it looked nowhere fails too.
"""

import ast
import builtins
import bz2
import math
from pathlib import Path

import pytest
import tomllib
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
SERVED = ["app", "models", "pages"]  # what runs inside the server


# developer tools under app/ that the server never imports (a test below checks): the lesson scaffold writes files
DEV_TOOLS = {"app/lessons/scaffold.py", "app/lessons/__main__.py"}


def served_files() -> list[Path]:
    files = []
    for name in SERVED:
        path = ROOT / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    assert len(files) > 20, "the scanners must look at the app's code"
    return [path for path in files if str(path.relative_to(ROOT)) not in DEV_TOOLS]


def test_served_code_never_imports_the_developer_tools():
    for path in served_files():
        text = path.read_text()
        assert "lessons.scaffold" not in text and "lessons.__main__" not in text, path


def config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


# ------------------------------------------------------------------------------------------- the server
def test_listens_on_localhost_by_default_with_xsrf_and_cors_protection():
    server = config()["server"]
    assert server["address"] == "localhost"
    assert server["enableXsrfProtection"] is True
    assert server["enableCORS"] is True  # XSRF checks need it; off would accept any origin


def test_the_upload_cap_matches_the_limit_the_page_states():
    from models.text import MAX_UPLOAD_BYTES, decode_text

    cap_mib = config()["server"]["maxUploadSize"]  # Streamlit counts MB as 2**20 bytes
    assert cap_mib == math.ceil(MAX_UPLOAD_BYTES / 2**20), "the smallest cap above the stated limit"
    stated = "(up to {MAX_UPLOAD_BYTES // 1_000_000} MB)"  # the uploader's label on the page
    assert stated in (ROOT / "app" / "resources.py").read_text()
    with pytest.raises(ValueError, match="MB"):  # what slips between the two gets the page's message
        decode_text(b"a" * (MAX_UPLOAD_BYTES + 1))


def test_the_streamlit_config_is_the_one_the_server_reads():
    from streamlit import config as st_config

    st_config.get_config_options(force_reparse=True)  # reads ./.streamlit/config.toml (cwd = root)
    if Path.cwd() != ROOT:
        pytest.skip("run from the repository root to check the parsed config")
    assert st_config.get_option("server.address") == "localhost"
    assert st_config.get_option("server.enableXsrfProtection") is True
    assert st_config.get_option("server.maxUploadSize") == config()["server"]["maxUploadSize"]


# ------------------------------------------------------------------------------------------- model ids
GOOD_IDS = [
    "HuggingFaceTB/SmolLM2-360M-Instruct",
    "gpt2",
    "sentence-transformers/all-MiniLM-L6-v2",
    "a/b",
    "Owner_1/model.v2",
    "x" * 96 + "/" + "y" * 96,
]
BAD_IDS = [
    "../etc/passwd",
    "/etc/passwd",
    "owner/../../secret",
    "owner/name/extra",
    "owner/name;rm -rf ~",
    "$(reboot)",
    "owner/name\n",
    "owner/ name",
    "-owner/name",
    "owner/name.",
    "owner--x/name",
    "owner/name.git",
    "x" * 97,
    "owner/" + "y" * 97,
    "ｏｗｎｅｒ/ｎａｍｅ",  # full-width letters: \w would accept them
    "owner/模型",
    "",
    "C:\\models\\x",
]


@pytest.mark.parametrize("model_id", GOOD_IDS + BAD_IDS)
def test_hf_ids_are_validated_like_the_hub_validates_them(model_id):
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    from models.registry import ModelUnavailableError, validate_hf_id

    try:
        validate_repo_id(model_id)
        hub_ok = bool(model_id)
    except HFValidationError:
        hub_ok = False
    try:
        validate_hf_id(model_id)
        ours_ok = True
    except ModelUnavailableError:
        ours_ok = False
    assert ours_ok == (model_id in GOOD_IDS)
    if ours_ok:
        assert hub_ok, "we never accept what the Hub rejects"
    if hub_ok and not ours_ok:  # stricter only where the Hub is lenient (a trailing newline, Unicode)
        assert not model_id.isascii() or not model_id.strip() == model_id


def test_a_local_folder_is_not_a_model_id(monkeypatch):
    from models.registry import ModelUnavailableError, validate_hf_id

    monkeypatch.chdir(ROOT)
    with pytest.raises(ModelUnavailableError, match="folder on the server"):
        validate_hf_id("app/lessons")  # a valid-looking id that from_pretrained would read from disk


@pytest.mark.parametrize("model_id", ["../../etc", "owner/name;ls", "x" * 300])
def test_a_bad_id_is_refused_before_transformers_looks_anything_up(monkeypatch, model_id):
    import transformers

    from models.registry import ModelUnavailableError, load_model

    def forbidden(*args, **kwargs):
        raise AssertionError("transformers was asked to load a bad id")

    for name in ("AutoConfig", "AutoModel", "AutoModelForCausalLM", "AutoTokenizer"):
        monkeypatch.setattr(getattr(transformers, name), "from_pretrained", forbidden)
    with pytest.raises(ModelUnavailableError):
        load_model(model_id, allow_download=True)


# ------------------------------------------------------------------------------------------- the code
def scan(tree: ast.AST) -> list[str]:
    """Dangerous calls in one module: unpickling, torch.load without weights_only=True, remote code on,
    shells, eval/exec, and file writes/opens in the UI layer."""
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            for bad in (
                "pickle",
                "dill",
                "joblib",
                "subprocess",
                "shlex",
                "marshal",
                "cloudpickle",
            ):
                if any(n == bad or n.startswith(bad + ".") for n in names):
                    problems.append(f"imports {bad}")
        if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                problems.append("trust_remote_code not a literal False")
        if isinstance(node, ast.keyword) and node.arg == "allow_pickle":
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                problems.append("allow_pickle")
        if not isinstance(node, ast.Call):
            continue
        func = ast.unparse(node.func)
        kwargs = {k.arg: k.value for k in node.keywords}
        if func in ("torch.load", "load") or func.endswith(".torch.load"):
            weights_only = kwargs.get("weights_only")
            if not (isinstance(weights_only, ast.Constant) and weights_only.value is True):
                problems.append("torch.load without weights_only=True")
        if func in ("eval", "exec", "os.system", "os.popen", "__import__") or func.startswith(("os.exec", "os.spawn")):
            problems.append(f"calls {func}")
    return problems


def test_the_scanner_finds_planted_problems():
    planted = """
import pickle
import subprocess
torch.load(path)
torch.load(path, weights_only=False)
AutoModel.from_pretrained(x, trust_remote_code=True)
AutoModel.from_pretrained(x, trust_remote_code=flag)
np.load(f, allow_pickle=True)
os.system(text)
eval(text)
"""
    found = scan(ast.parse(planted))
    assert len(found) == 9, found
    assert scan(ast.parse("torch.load(p, weights_only=True)\nf(trust_remote_code=False)")) == []


def test_served_code_never_unpickles_runs_remote_code_or_reaches_a_shell():
    problems = {
        str(path.relative_to(ROOT)): found
        for path in served_files()
        if (found := scan(ast.parse(path.read_text(), str(path))))
    }
    assert problems == {}


def test_the_ui_layer_opens_no_files():
    """Pages and app/ read files only through models/ (fixed names); user text never becomes a path."""
    opened = []
    for path in served_files():
        if path.parts[len(ROOT.parts)] == "models":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                if func in ("open", "io.open", "os.open") or func.endswith(
                    (".write_text", ".write_bytes", ".open", "to_pickle", "savez", ".save")
                ):
                    opened.append(f"{path.relative_to(ROOT)}: {func}")
    assert opened == []


def test_hostile_names_never_reach_the_file_system(monkeypatch):
    from models import corpora
    from models.registry import ModelUnavailableError, load_model

    opened = []
    real_open, real_bz2 = builtins.open, bz2.open

    def spy(opener):
        def wrapped(file, *args, **kwargs):
            opened.append(str(file))
            return opener(file, *args, **kwargs)

        return wrapped

    monkeypatch.setattr(builtins, "open", spy(real_open))
    monkeypatch.setattr(bz2, "open", spy(real_bz2))
    for name in ["../../etc/passwd", "/etc/passwd", "wiki/../../x", "lee\x00", "shakespeare;ls"]:
        with pytest.raises((ValueError, KeyError)):
            corpora.load_corpus(name)
        with pytest.raises((ValueError, KeyError)):
            corpora.load_word_pairs(name)
        with pytest.raises(ModelUnavailableError):
            load_model(name)
    assert not [p for p in opened if "etc" in p or ".." in p or "passwd" in p], opened


# ------------------------------------------------------------------------------------------- sessions
SCRIPT = """
import app.lessons as registry
if not any(item.slug == "kitdemo" for item in registry.LESSONS):
    registry.LESSONS.append(registry.Lesson(
        "kitdemo", "Kit demo", "🧪", "Foundations", "-", "-",
        package_name="tests.kit.kit_demo"))
from app.page import run_lesson
run_lesson("kitdemo")
"""


def test_one_session_never_sees_another_sessions_text():
    alice = AppTest.from_string(SCRIPT, default_timeout=30).run()
    bob = AppTest.from_string(SCRIPT, default_timeout=30).run()
    alice.text_input(key="kitdemo.word").set_value("alice-private-words").run()
    for at in (alice, bob):  # the tab that shows the settings
        at.session_state["kitdemo.tab"] = "Summary"
    alice.run()
    assert not alice.exception
    assert any("alice-private-words" in m.value for m in alice.markdown)
    bob.run()
    assert bob.text_input(key="kitdemo.word").value == "hi"
    seen = [e.value for e in [*bob.markdown, *bob.text_input, *bob.caption] if e.value]
    assert not any("alice-private-words" in str(v) for v in seen)
    assert "alice-private-words" in str([alice.session_state[k] for k in alice.session_state])
    assert "alice-private-words" not in str([bob.session_state[k] for k in bob.session_state])
