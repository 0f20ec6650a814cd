"""`socratic agreement`: compare judges with human labels (see socratic.agreement.measure)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.agreement.config import AgreementConfig as C
from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.paths import check_output_folder


def register(app: typer.Typer) -> None:
    @app.command("agreement")
    def agreement(
        labels: Path = opt.option(C, "labels", "--labels"),
        judge: list[str] = opt.option(C, "judges", "--judge"),
        out: Path = opt.option(C, "out", "-o", "--out"),
        formula: str = opt.option(C, "formula", "--formula"),
        top: int = opt.option(C, "top_k", "--top"),
        bootstrap: int = opt.option(C, "bootstrap", "--bootstrap"),
        seed: int = opt.option(C, "seed", "--seed"),
        folds: int = opt.option(C, "folds", "--folds"),
        teacher_pairs: int = opt.option(C, "teacher_pairs", "--teacher-pairs"),
        no_cache: bool = opt.switch(C, "no_cache", "--no-cache"),
        config: Path = opt.config_option(),
    ) -> None:
        """Judge validation: agreement of each judge with human labels, per criterion and on the summary."""
        from socratic.agreement import measure as stage
        from socratic.agreement.table import print_agreement

        settings = load_config(C, config, {
            "labels": labels, "judges": judge or None, "out": out, "formula": formula, "top_k": top,
            "bootstrap": bootstrap, "seed": seed, "folds": folds, "teacher_pairs": teacher_pairs,
            **opt.flags(no_cache=no_cache)})
        check_output_folder(settings.out)  # before any judge runs
        print_agreement(stage.run(settings))
