"""The `socratic` command line. Thin by design: each command (socratic.commands) parses its options and calls
one `run(config)` of its stage. docs/cli.md is generated from this app (socratic.cli.reference).
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# typer 0.29 carries its own copy of click: its errors are these classes, not the `click` package's.
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from socratic.commands import data, setup, stages
from socratic.errors import SocraticError

app = typer.Typer(
    name="socratic",
    help="Fine-tune small language models into Socratic tutors, and measure how well they do it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.registered_commands = sorted(stages.app.registered_commands + setup.app.registered_commands,
                                 key=lambda command: command.name or command.callback.__name__)  # as --help lists them
app.add_typer(data.app, name="data")
app.add_typer(stages.rate, name="rate")

err = Console(stderr=True)

INTERRUPTED = 130  # what a shell reports for a process ended by SIGINT (128 + 2)


def _fail(message: str, code: int = 2) -> NoReturn:
    # soft_wrap: ONE line whatever the terminal width (scripts grep it); escape: a message may hold "[...]".
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(code)


def _interrupted() -> NoReturn:
    err.print("interrupted; re-run the same command to resume", highlight=False, soft_wrap=True)
    sys.exit(INTERRUPTED)


def _usage_message(error: UsageError) -> str:
    """click's message (it names the option: "Invalid value for '--limit': ...") and where help is, in one line."""
    text = " ".join(error.format_message().split())
    if error.ctx is not None:
        return f"{error.ctx.command_path}: {text} (see `{error.ctx.command_path} --help`)"
    return text


def main() -> None:
    """Entry point: user-facing errors and usage errors become one red line and exit code 2, not a
    traceback; Ctrl-C exits 130 with the resume hint (docs/guarantees.md)."""
    try:
        # standalone_mode=False: usage errors are raised to us, and an interrupt or `typer.Exit(code)` comes
        # back as the return value (typer turns KeyboardInterrupt into Exit(130) and returns its code).
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as error:  # `socratic`, `socratic data`: the help, as click shows it
        error.show()
        sys.exit(error.exit_code)
    except UsageError as error:
        _fail(_usage_message(error), error.exit_code)
    except ClickException as error:  # other click errors (a file click could not open)
        _fail(" ".join(error.format_message().split()), error.exit_code)
    except SocraticError as error:
        _fail(str(error), error.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _interrupted()
    if code == INTERRUPTED:
        _interrupted()
    if isinstance(code, int) and code:
        sys.exit(code)
