"""`socratic judge-train`: fit the learned judge from human labels (see socratic.judge.learned)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt


def register(app: typer.Typer) -> None:
    @app.command("judge-train")
    def judge_train(
        labels: list[Path] = typer.Option(None, "--labels", help="Extra Labelled-reply JSONL (or MRBench JSON) to "
                                          "learn from, besides the shipped labels; repeat for several files."),
        out: Path = opt.out_option("Where to save the judge (default: SOCRATIC_HOME/judges/learned.json, "
                                   "which `--judge learned` loads)."),
        force: bool = typer.Option(False, "--force", help="Refit even when a saved judge exists."),
    ) -> None:
        """Fit the `learned` judge on human labels (CPU, offline, deterministic) and save it."""
        from socratic.judge import learned

        path = out or learned.default_path()
        if path.exists() and not force and not labels:
            model = learned.load(path)
            typer.echo(f"{path} already holds a learned judge (training data {model.short_hash}); "
                       "--force refits it")
            return
        model, path = learned.train(path, extra=labels or [])
        typer.echo(f"learned judge {learned.model_hash(model)[:12]} saved to {path}")
