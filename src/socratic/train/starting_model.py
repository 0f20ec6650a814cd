"""What every training run (DPO in dpo.py, the SFT warm-up in sft.py) does alike with the model it starts from.

    model = starting_model.load(model_dir)               # fp32 master weights
    peft_config = starting_model.lora_config(config)     # None for a full fine-tune
    bf16 = starting_model.trains_in_bf16(config, on_cpu) # autocast where the hardware computes bf16 natively
    starting_model.silence_known_warnings()              # before training: harmless library warnings

`config` is any settings object with the fields lora, lora_r, lora_alpha, lora_dropout, target_modules
and bf16 (train.dpo.TrainConfig, train.sft.SftConfig).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def load(model_dir: Path) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)


def lora_config(config: Any) -> Any:
    if not config.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=config.target_modules, task_type="CAUSAL_LM")


def trains_in_bf16(config: Any, on_cpu: bool) -> bool:
    """The config's `bf16`, or (None) whether the device computes bf16 natively (avx512_bf16/AMX, recent GPUs)."""
    from socratic.backends.transformers_backend import auto_dtype

    return config.bf16 if config.bf16 is not None else auto_dtype("cpu" if on_cpu else "cuda") == "bfloat16"


def silence_known_warnings() -> None:
    """Hide library warnings that say nothing about the run.

    transformers 5 renamed gradient to activation checkpointing; PEFT/Trainer internals still call the
    old `is_gradient_checkpointing` and warn on every save.
    """
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
