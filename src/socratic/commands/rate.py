"""`socratic rate export|import`: blind ratings of an evaluation's replies by people (docs/rating.md).

    socratic rate export runs/quickstart/eval -o sheet/ --items 40 --seed 0
    socratic rate import sheet/ratings-*.csv
"""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.rate.config import ExportConfig as E
from socratic.rate.config import ImportConfig as I

EVALUATION_HELP = opt.description(E, "evaluation")
FILES_HELP = opt.description(I, "files")

app = typer.Typer(help="Blind ratings by people: export a rating sheet, import the filled ratings.",
                  no_args_is_help=True)


def _validated(model, values: dict):
    from socratic.config import validate_config

    return validate_config(model, {k: v for k, v in values.items() if v is not None}, "options")


@app.command("export")
def export_command(
    evaluation: Path = typer.Argument(..., help=EVALUATION_HELP),
    out: Path = opt.option(E, "out", "-o", "--out", default=...),
    items: int = opt.option(E, "items", "--items"),
    seed: int = opt.option(E, "seed", "--seed"),
    model: list[str] = opt.option(E, "models", "--model"),
    dataset: list[str] = opt.option(E, "datasets", "--dataset"),
) -> None:
    """A blind rating sheet: an offline HTML form and a CSV of an evaluation's replies, and the private key."""
    from socratic.rate import export

    config = _validated(E, {"evaluation": evaluation, "out": out, "items": items, "seed": seed,
                            "models": model or None, "datasets": dataset or None})
    key = export.run(config)
    replies = sum(len(item.letters) for item in key.items)
    typer.echo(f"sheet: {config.out / export.SHEET_HTML} ({len(key.items)} items, {replies} replies; "
               f"blank CSV {export.SHEET_CSV})")
    if key.left_out:
        typer.echo(f"left out {key.left_out} items: not every chosen source replied to them")
    typer.echo(f"key:   {config.out / export.KEY} (which source wrote which letter: keep it from the raters)")


@app.command("import")
def import_command(
    files: list[Path] = typer.Argument(..., help=FILES_HELP),
    key: Path = opt.option(I, "key", "--key"),
    evaluation: Path = opt.option(I, "evaluation", "--evaluation"),
    out: Path = opt.option(I, "out", "-o", "--out"),
    formula: str = opt.option(I, "formula", "--formula"),
    bootstrap: int = opt.option(I, "bootstrap", "--bootstrap"),
    seed: int = opt.option(I, "seed", "--seed"),
) -> None:
    """Filled ratings CSVs -> per source mean, acceptable and harmful shares, win rates, agreement."""
    from socratic.rate import importing
    from socratic.rate.table import print_result

    config = _validated(I, {"files": files, "key": key, "evaluation": evaluation, "out": out, "formula": formula,
                            "bootstrap": bootstrap, "seed": seed})
    result = importing.run(config)
    print_result(result)
    typer.echo(f"wrote {config.result_path()}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="rate")
