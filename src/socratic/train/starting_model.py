"""What every training run (DPO in dpo.py, the SFT warm-up in sft.py) does alike with the model it starts from.

    model = starting_model.load(model_dir)               # fp32 master weights
    peft_config = starting_model.lora_config(config)     # None for a full fine-tune
    bf16 = starting_model.trains_in_bf16(config, on_cpu) # autocast where the hardware computes bf16 natively

`config` is any settings object with the fields lora, lora_r, lora_alpha, lora_dropout, target_modules
and bf16 (train.dpo.TrainConfig, train.sft.SftConfig).
"""

from __future__ import annotations

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
