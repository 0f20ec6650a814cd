"""`socratic generate`: k sampled tutor replies per dialogue (see socratic.preference.generate)."""

from __future__ import annotations

import typer

from socratic.commands import _options as opt
from socratic.preference.generate import GenerateConfig as C
from socratic.store.paths import check_output_file


def register(app: typer.Typer) -> None:
    @app.command("generate")
    @opt.config_command(C, *opt.DATASET, "model", "k", "limit", "out", *opt.SAMPLING, "batch_dialogues", *opt.PROMPT,
                        "concurrency", *opt.COMMON)
    def generate(settings: C) -> None:
        """Sample k candidate tutor replies per dialogue; resumes an interrupted run."""
        from socratic.preference import generate as stage

        check_output_file(settings.out)  # before the model loads
        stage.run(settings)
