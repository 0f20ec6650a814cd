"""`socratic agreement`: compare judges with human labels (see socratic.agreement.measure)."""

from __future__ import annotations

import typer

from socratic.agreement.config import AgreementConfig as C
from socratic.commands import _options as opt
from socratic.store.paths import check_output_folder


def register(app: typer.Typer) -> None:
    @app.command("agreement")
    @opt.config_command(C, "labels", "judges", "out", "formula", "top_k", "bootstrap", "seed", "folds",
                        "teacher_pairs", "no_cache", opt.CONFIG)
    def agreement(settings: C) -> None:
        """Judge validation: agreement of each judge with human labels, per criterion and on the summary."""
        from socratic.agreement import measure as stage
        from socratic.agreement.table import print_agreement

        check_output_folder(settings.out)  # before any judge runs
        print_agreement(stage.run(settings))
