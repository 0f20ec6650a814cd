"""`socratic rate export|import`: blind ratings of an evaluation's replies by people (docs/rating.md).

    socratic rate export runs/quickstart/eval -o sheet/ --items 40 --seed 0
    socratic rate import sheet/ratings-*.csv
"""

from __future__ import annotations

import typer

from socratic.commands import _options as opt
from socratic.rate.config import ExportConfig as E
from socratic.rate.config import ImportConfig as I

app = typer.Typer(help="Blind ratings by people: export a rating sheet, import the filled ratings.",
                  no_args_is_help=True)


@app.command("export")
@opt.config_command(E, opt.Opt("evaluation", argument=True), opt.Opt("out", default=...), "items", "seed", "models",
                    "datasets")
def export_command(settings: E) -> None:
    """A blind rating sheet: an offline HTML form and a CSV of an evaluation's replies, and the private key."""
    from socratic.rate import export

    key = export.run(settings)
    replies = sum(len(item.letters) for item in key.items)
    typer.echo(f"sheet: {settings.out / export.SHEET_HTML} ({len(key.items)} items, {replies} replies; "
               f"blank CSV {export.SHEET_CSV})")
    if key.left_out:
        typer.echo(f"left out {key.left_out} items: not every chosen source replied to them")
    typer.echo(f"key:   {settings.out / export.KEY} (which source wrote which letter: keep it from the raters)")


@app.command("import")
@opt.config_command(I, opt.Opt("files", argument=True), "key", "evaluation", "out", "formula", "bootstrap", "seed")
def import_command(settings: I) -> None:
    """Filled ratings CSVs -> per source mean, acceptable and harmful shares, win rates, agreement."""
    from socratic.rate import importing
    from socratic.rate.table import print_result

    result = importing.run(settings)
    print_result(result)
    typer.echo(f"wrote {settings.result_path()}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="rate")
