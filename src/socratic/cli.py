"""The `socratic` command line. Thin by design: each subcommand lives in `socratic.commands.<name>`,
parses its options and calls one `run(config)` of its stage.

Each module in `socratic.commands` exposes `register(app)`; they are found here in name order.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from rich.console import Console
from rich.markup import escape

from socratic import commands
from socratic.errors import SocraticError

app = typer.Typer(
    name="socratic",
    help="Fine-tune small language models into Socratic tutors, and measure how well they do it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    if module_info.name.startswith("_"):  # shared helpers (_options), not commands
        continue
    importlib.import_module(f"{commands.__name__}.{module_info.name}").register(app)

err = Console(stderr=True)


def main() -> None:
    """Entry point: user-facing errors become one red line and exit code 2, not a traceback."""
    try:
        app(standalone_mode=False)
    except SocraticError as error:
        # soft_wrap: ONE line whatever the terminal width (scripts grep it); escape: a message may hold "[...]".
        err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        sys.exit(error.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted; re-run the same command to resume")
        sys.exit(130)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except Exception as error:  # click's usage errors
        import click

        if isinstance(error, click.ClickException):
            error.show()
            sys.exit(2)
        raise
