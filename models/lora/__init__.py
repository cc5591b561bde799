"""LoRA rank effects: the model code behind app/lessons/lora/ (pure torch/numpy, no Streamlit).

- `adapters`: LoRA: fine-tune a low-rank update beside frozen weights (Hu et al. 2021, https://arxiv.org/abs/2106.09685).
- `finetune`: LoRA on a real model: SmolLM2 adapted at several ranks, beside full fine-tuning of the same matrices.
- `peft_families`: The parameter-efficient fine-tuning families side by side, each built by PEFT (https://github.com/huggingface/peft).
- `quantize`: Blockwise 4-bit quantisation as in QLoRA (Dettmers et al. 2023, https://arxiv.org/abs/2305.14314).
- `sandbox`: The known-rank sandbox: LoRA at several ranks learning an update whose rank k we chose.

The names below load their module on first use: `from models.lora import inject_lora` is `from models.lora.adapters import inject_lora`.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "inject_lora": "adapters",
    "lora_layers": "adapters",
    "merge_lora": "adapters",
    "merge_report": "adapters",
    "FineTuneConfig": "finetune",
    "LoRAFineTuner": "finetune",
    "random_subspace_similarity": "finetune",
    "subspace_similarity": "finetune",
    "FamiliesConfig": "peft_families",
    "FamiliesTrainer": "peft_families",
    "formula_count": "peft_families",
    "bits_per_parameter": "quantize",
    "distinct_per_block": "quantize",
    "layer_matrices": "quantize",
    "levels": "quantize",
    "matrix_report": "quantize",
    "quantization_error": "quantize",
    "SandboxConfig": "sandbox",
    "SandboxTrainer": "sandbox",
    "train_to": "sandbox",
}
# `quantize` itself is reached as models.lora.quantize.quantize: the module has the function's name
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
