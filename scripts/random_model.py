"""Random-weight model folders shaped like the embedded model (SmolLM2-135M-Instruct), built on the spot.

    .venv/bin/python scripts/random_model.py /tmp/tiny                 # 2 layers, hidden 64: 3.2M parameters
    .venv/bin/python scripts/random_model.py /tmp/full --size full     # the embedded model's real shape: 135M
    .venv/bin/python scripts/random_model.py --refresh-shape           # re-read smollm2_shape/ from the GGUF

A folder holds config.json, model.safetensors (random, seeded) and the embedded model's tokenizer and
chat template, so `hf:FOLDER` loads, generates, trains and exports like any model folder. The shape
and the tokenizer come from smollm2_shape/ (committed, 1.6 MB; its SOURCE.md says where from), never
the weights: scripts/gpu_smoke.py --tiny and scripts/dpo_step_time.py need nothing but the working
tree, which is all a lent GPU machine gets (64 MiB, no network).

Random weights give a nearly flat next-token distribution: the replies are random tokens (the smoke
checks that every step runs, not what it says), which seldom ask a question or end a turn, and the
nucleus sampler takes its slowest path (a top-k over the whole vocabulary at every token).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHAPE = Path(__file__).resolve().with_name("smollm2_shape")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")
SIZES = ("tiny", "full")
# The tiny model keeps the real vocabulary (the tokenizer must fit) and shrinks everything else: every
# code path (GQA attention, RoPE, tied embeddings, LoRA on all linear layers) stays, the compute goes.
TINY = {"num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 16}


def shape_config(size: str = "tiny"):
    """The transformers config of a `size` model: the embedded model's own (`full`) or a shrunk one (`tiny`)."""
    from transformers import AutoConfig

    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    config = AutoConfig.from_pretrained(SHAPE, local_files_only=True)
    if size == "tiny":
        for name, value in TINY.items():
            setattr(config, name, value)
    return config


def write_random_model(folder: Path, size: str = "tiny", seed: int = 0) -> Path:
    """A model folder at `folder` (created; must not hold a model yet) with seeded random fp32 weights."""
    import torch
    from transformers import AutoModelForCausalLM

    folder = Path(folder)
    if (folder / "config.json").exists():
        raise FileExistsError(f"{folder} already holds a model")
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(shape_config(size), dtype=torch.float32)
    model.save_pretrained(folder)
    for name in TOKENIZER_FILES:
        shutil.copyfile(SHAPE / name, folder / name)
    return folder


def parameter_count(folder: Path) -> int:
    """Parameters stored in a folder's model.safetensors (tied embeddings counted once, as stored)."""
    from safetensors import safe_open

    with safe_open(str(Path(folder) / "model.safetensors"), "pt") as weights:
        return sum(math.prod(weights.get_slice(name).get_shape()) for name in weights.keys())  # noqa: SIM118


def refresh_shape() -> None:
    """Re-read smollm2_shape/ (config, tokenizer, chat template) from the embedded GGUF (`socratic setup`)."""
    from tokenizers import Tokenizer
    from transformers import AutoConfig, AutoTokenizer

    from socratic.backends.embedded import embedded_gguf

    gguf = embedded_gguf()
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    staging = SHAPE.with_name(SHAPE.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    tokenizer.save_pretrained(staging)
    config.save_pretrained(staging)
    # Compact JSON: 1.6 MB instead of 3.5 MB, the same tokenizer.
    Tokenizer.from_file(str(staging / "tokenizer.json")).save(str(SHAPE / "tokenizer.json"), pretty=False)
    shutil.copyfile(staging / "chat_template.jinja", SHAPE / "chat_template.jinja")
    # Keys that describe where this copy was loaded from, not the model.
    for name, drop in (("tokenizer_config.json", ("is_local", "local_files_only")),
                       ("config.json", ("_model_name_or_path",))):
        settings = json.loads((staging / name).read_text("utf-8"))
        for key in drop:
            settings.pop(key, None)
        (SHAPE / name).write_text(json.dumps(settings, indent=2) + "\n", "utf-8")
    shutil.rmtree(staging)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", help="where to write the model folder")
    parser.add_argument("--size", choices=SIZES, default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--refresh-shape", action="store_true",
                        help=f"re-read {SHAPE.name}/ from the embedded GGUF and exit")
    args = parser.parse_args(argv)
    if args.refresh_shape:
        sys.path.insert(0, str(SHAPE.parents[1] / "src"))
        refresh_shape()
        print(f"wrote {SHAPE}")
        return 0
    if args.folder is None:
        parser.error("a folder is needed (or --refresh-shape)")
    folder = write_random_model(args.folder, args.size, args.seed)
    print(f"{folder}: {args.size} random model, {parameter_count(folder):,} parameters (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
