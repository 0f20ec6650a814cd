"""`socratic train`: DPO fine-tuning of the tutor on preference pairs (see socratic.train.dpo)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.paths import check_output_folder
from socratic.train.dpo import TrainConfig as C


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        pairs: Path = opt.option(C, "pairs", "--pairs"),
        model: str = opt.option(C, "model", "--model"),
        out: Path = opt.option(C, "out", "-o", "--out"),
        config: Path = opt.config_option(),
        full: bool = opt.switch(C, "lora", "--full", help="Full fine-tune instead of LoRA."),
        lora_r: int = opt.option(C, "lora_r", "--lora-r"),
        lora_alpha: int = opt.option(C, "lora_alpha", "--lora-alpha"),
        beta: float = opt.option(C, "beta", "--beta"),
        lr: float = opt.option(C, "learning_rate", "--lr"),
        epochs: float = opt.option(C, "epochs", "--epochs"),
        max_steps: int = opt.option(C, "max_steps", "--max-steps"),
        batch_size: int = opt.option(C, "batch_size", "--batch-size"),
        grad_accum: int = opt.option(C, "grad_accum", "--grad-accum"),
        loss_type: str = opt.option(C, "loss_type", "--loss-type"),
        max_length: int = opt.option(C, "max_length", "--max-length"),
        max_prompt_length: int = opt.option(C, "max_prompt_length", "--max-prompt-length"),
        precompute_ref: bool = opt.option(C, "precompute_ref_log_probs", "--precompute-ref/--no-precompute-ref"),
        bf16: bool = opt.option(C, "bf16", "--bf16/--no-bf16"),
        save_steps: int = opt.option(C, "save_steps", "--save-steps"),
        system_prompt: Path = opt.option(C, "system_prompt", "--system-prompt"),
        seed: int = opt.option(C, "seed", "--seed"),
        resume: bool = opt.switch(C, "resume", "--resume"),
        processes: int = typer.Option(1, "--processes", min=1,
                                      help="Data-parallel processes on this machine (one per GPU; CPU: gloo). "
                                           "--batch-size is per process."),
    ) -> None:
        """Train the tutor with DPO (TRL); the output folder holds the merged model, the adapter and metrics."""
        from socratic.train import dpo as stage

        settings = load_config(C, config, {
            "pairs": pairs, "model": model, "out": out, "lora_r": lora_r, "lora_alpha": lora_alpha,
            "beta": beta, "learning_rate": lr, "epochs": epochs, "max_steps": max_steps, "batch_size": batch_size,
            "grad_accum": grad_accum, "loss_type": loss_type, "max_length": max_length,
            "max_prompt_length": max_prompt_length, "save_steps": save_steps, "system_prompt": system_prompt,
            "seed": seed,
            "precompute_ref_log_probs": precompute_ref, "bf16": bf16,
            **opt.cleared(lora=full), **opt.flags(resume=resume)})
        check_output_folder(settings.out)  # before the model loads
        if processes > 1:
            from socratic.train import launch

            stage.check_before_launch(settings)  # a bad option or folder: one line, before N processes start
            launch.relaunch(settings, processes)
        else:
            stage.run(settings)
