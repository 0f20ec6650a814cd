"""`socratic report DIR`: (re)build report.html and report.md from a run or evaluation folder."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        folder: Path = typer.Argument(..., help="A `socratic run` folder or a `socratic evaluate -o` folder."),
        out: Path = opt.out_option("Where to write the report (default: the folder)."),
        examples: int = typer.Option(2, "--examples", help="Example dialogues per test set."),
    ) -> None:
        """Build the self-contained HTML report and the Markdown report from finished stage outputs."""
        from socratic.progress import console
        from socratic.report import build_report
        from socratic.store.paths import check_output_folder

        if out is not None:
            check_output_folder(out)
        html, md = build_report(folder, out_dir=out, examples_per_dataset=examples)
        console.print(f"[bold]report:[/] {html}  (and {md})")
