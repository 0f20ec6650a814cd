"""`socratic train`: DPO fine-tuning of the tutor on preference pairs (see socratic.train.dpo)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        pairs: Path = typer.Option(None, "--pairs", help="pairs.jsonl from `socratic pairs` / `preferences`."),
        model: str = opt.model_option("Base model (default embedded)", trainable=True),
        out: Path = opt.out_option("Output folder; `hf:OUT` then loads the tuned model."),
        config: Path = opt.config_option(),
        full: bool = typer.Option(False, "--full", help="Full fine-tune instead of LoRA."),
        lora_r: int = typer.Option(None, "--lora-r", help="LoRA rank (default 16)."),
        lora_alpha: int = typer.Option(None, "--lora-alpha", help="LoRA alpha (default 32)."),
        beta: float = typer.Option(None, "--beta", help="DPO beta (default 0.1)."),
        lr: float = typer.Option(None, "--lr", help="Learning rate (default 2e-4 LoRA, 5e-6 full)."),
        epochs: float = typer.Option(None, "--epochs", help="Epochs (default 2)."),
        max_steps: int = typer.Option(None, "--max-steps", help="Stop after N optimizer steps."),
        batch_size: int = typer.Option(None, "--batch-size", help="Pairs per forward pass (default 2)."),
        grad_accum: int = typer.Option(None, "--grad-accum", help="Gradient accumulation steps (default 2)."),
        loss_type: str = typer.Option(None, "--loss-type", help="TRL loss: sigmoid, ipo, robust, hinge, ..."),
        max_length: int = typer.Option(None, "--max-length", help="Prompt + reply tokens (default 1024)."),
        max_prompt_length: int = typer.Option(None, "--max-prompt-length",
                                              help="Prompt tokens; older turns dropped first (default 768)."),
        precompute_ref: bool = typer.Option(None, "--precompute-ref/--no-precompute-ref",
                                            help="Compute the reference log-probs once before training "
                                                 "instead of in each step (default: on; exact under bf16 "
                                                 "too)."),
        bf16: bool = typer.Option(None, "--bf16/--no-bf16",
                                  help="bf16 autocast (default: where the hardware has native bf16)."),
        save_steps: int = typer.Option(None, "--save-steps", help="Checkpoint every N steps (default 10)."),
        system_prompt: Path = opt.system_prompt_option("Replace the tutor instructions in every pair's prompt."),
        seed: int = opt.seed_option("Seed (default 0)."),
        resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from its last checkpoint."),
        processes: int = typer.Option(1, "--processes", min=1,
                                      help="Data-parallel processes on this machine (one per GPU; CPU: gloo). "
                                           "--batch-size is per process."),
    ) -> None:
        """Train the tutor with DPO (TRL); the output folder holds the merged model, the adapter and metrics."""
        from socratic.train import dpo as stage

        settings = load_config(stage.TrainConfig, config, {
            "pairs": pairs, "model": model, "out": out, "lora_r": lora_r, "lora_alpha": lora_alpha,
            "beta": beta, "learning_rate": lr, "epochs": epochs, "max_steps": max_steps, "batch_size": batch_size,
            "grad_accum": grad_accum, "loss_type": loss_type, "max_length": max_length,
            "max_prompt_length": max_prompt_length, "save_steps": save_steps, "system_prompt": system_prompt,
            "seed": seed,
            "precompute_ref_log_probs": precompute_ref, "bf16": bf16,
            **opt.cleared(lora=full), **opt.flags(resume=resume)})
        if processes > 1:
            from socratic.train import launch

            stage.check_before_launch(settings)  # a bad option or folder: one line, before N processes start
            launch.relaunch(settings, processes)
        else:
            stage.run(settings)
