"""`socratic judge-train`: fit the learned judge (socratic.judge.learned.store.train) or, with --reward, the `pairwise`
judge (socratic.judge.pairwise), the reward model a run may rank its pairs by, from human labels."""

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
        reward: bool = typer.Option(False, "--reward", help="Fit the `pairwise` judge (a reward model) instead (shipped "
                                    "labels + synthetic dodges; default path SOCRATIC_HOME/judges/reward.json)."),
    ) -> None:
        """Fit the `learned` (or, with --reward, the `pairwise`) judge on human labels (CPU, offline, deterministic)."""
        from socratic.judge.learned import store as learned_store
        from socratic.store.paths import check_output_file

        # Before a fit of a minute or more: where it goes (and, below, that each extra labels file holds labels).
        if out is not None:
            check_output_file(out)
        if reward:
            from socratic.errors import SocraticError
            from socratic.judge.pairwise import store as pairwise

            if labels:
                raise SocraticError("--labels: the pairwise judge learns from the shipped labels only (for now)")
            path = out or pairwise.default_path()
            if path.exists() and not force:
                model = pairwise.load(path)
                typer.echo(f"{path} already holds a pairwise judge (training data {model.data_hash[:12]}); "
                           "--force refits it")
                return
            model, path = pairwise.train(path)
            typer.echo(f"pairwise judge {pairwise.model_hash(model)[:12]} saved to {path}")
            return

        _check_labels(labels or [])
        path = out or learned_store.default_path()
        if path.exists() and not force and not labels:
            model = learned_store.load(path)
            typer.echo(f"{path} already holds a learned judge (training data {model.short_hash}); "
                       "--force refits it")
            return
        model, path = learned_store.train(path, extra=labels or [])
        typer.echo(f"learned judge {learned_store.model_hash(model)[:12]} saved to {path}")


def _check_labels(paths: list[Path]) -> None:
    """Each --labels file holds at least one labelled reply (an empty one would fit on the shipped labels alone)."""
    from socratic.data import load_labelled
    from socratic.errors import InputError

    for path in paths:
        if not load_labelled(path):
            raise InputError("no labelled replies in the file (--labels)", path=str(path))
