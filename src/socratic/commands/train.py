"""`socratic train`: DPO fine-tuning of the tutor on preference pairs (see socratic.train.dpo)."""

from __future__ import annotations

import typer

from socratic.commands import _options as opt
from socratic.store.paths import check_output_folder
from socratic.train.dpo import TrainConfig as C

FULL = opt.Opt("lora", ("--full",), clears=True, help="Full fine-tune instead of LoRA.")
PROCESSES = opt.Param("processes", int, typer.Option(
    1, "--processes", min=1, help="Data-parallel processes on this machine (one per GPU; CPU: gloo). "
                                  "--batch-size is per process."))


def register(app: typer.Typer) -> None:
    @app.command("train")
    @opt.config_command(C, "pairs", "model", "out", opt.CONFIG, FULL, "lora_r", "lora_alpha", "beta", "learning_rate",
                        "epochs", "max_steps", "batch_size", "grad_accum", "loss_type", "max_length",
                        "max_prompt_length", "precompute_ref_log_probs", "bf16", "save_steps", "system_prompt", "seed",
                        "resume", PROCESSES)
    def train(settings: C, processes: int) -> None:
        """Train the tutor with DPO (TRL); the output folder holds the merged model, the adapter and metrics."""
        from socratic.train import dpo as stage

        check_output_folder(settings.out)  # before the model loads
        if processes > 1:
            from socratic.train import launch

            stage.check_before_launch(settings)  # a bad option or folder: one line, before N processes start
            launch.relaunch(settings, processes)
        else:
            stage.run(settings)
