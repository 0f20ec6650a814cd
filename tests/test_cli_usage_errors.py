"""Usage errors of every command are one line naming the option, exit 2, no traceback (issue 41).

typer 0.29 carries its own copy of click (`typer._click`), whose errors are not `click`'s: before the fix
`socratic judge --bogus` was a 30-56-line traceback with exit 1. The commands are enumerated from the typer
app, not listed here, so a command added later (`socratic rate export`, ...) is covered without a word.

    .venv/bin/python -m pytest -q tests/test_cli_usage_errors.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from socratic.cli import app
from socratic.cli.reference import command_names

SOCRATIC = Path(sys.executable).with_name("socratic")
NUMBERS = (int, float)


def command(path: str) -> Any:
    """The click command behind `socratic data show` (a path as command_names gives it)."""
    found = typer.main.get_command(app)
    for name in path.split()[1:]:
        found = found.commands[name]
    return found


def filler(param: Any) -> list[str]:
    """A valid-looking value for a required parameter, so that the error under test is the first one."""
    annotation = param.type_descriptor.annotation
    value = "1" if annotation in NUMBERS else "x"
    return [value] if param.param_type_name == "argument" else [param.opts[0], value]


def required_args(cmd: Any) -> list[str]:
    return [word for param in cmd.params if param.required for word in filler(param)]


def bad_value(cmd: Any) -> tuple[list[str], str] | None:
    """(the whole argument list, the option the error must name): a word for a number, else a value option left
    without its value, else a value given to a flag; None for a command without options. The required
    parameters get valid-looking values: click checks values in the order they are given, so the bad one
    comes first (a filler path that must exist would fail too), except an option without its value, which
    must end the line ("Option '--out' requires an argument.")."""
    options = [p for p in cmd.params if p.param_type_name == "option" and p.opts]
    numbers = [p for p in options if p.type_descriptor.annotation in NUMBERS and not getattr(p, "is_flag", False)]
    if numbers:
        name = max(numbers[0].opts, key=len)
        return [name, "abc", *required_args(cmd)], name
    valued = [p for p in options if not getattr(p, "is_flag", False)]
    if valued:
        name = max(valued[0].opts, key=len)
        return [*required_args(cmd), name], name
    if options:
        name = max(options[0].opts, key=len)
        return [f"{name}=yes", *required_args(cmd)], name  # "Option '--force' does not take a value."
    return None


def cli(capsys, monkeypatch, args: list[str]) -> tuple[int, str]:
    from socratic.cli import main

    monkeypatch.setattr(sys, "argv", ["socratic", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main()
    return exited.value.code, capsys.readouterr().err


def one_line_naming(code: int, err: str, *names: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    shown = [line for line in err.splitlines() if line.strip()]
    assert len(shown) == 1, f"expected one line, got:\n{err}"
    assert shown[0].startswith("error: ")
    assert any(name in shown[0] for name in names), (names, shown[0])


COMMANDS = command_names()


def test_the_commands_are_enumerated_from_the_app():
    # Guards the enumeration the tests below stand on: groups are walked, every leaf is there.
    assert {"socratic judge", "socratic run", "socratic data show", "socratic data export"} <= set(COMMANDS)
    assert not any(hasattr(command(path), "commands") for path in COMMANDS)


@pytest.mark.parametrize("path", COMMANDS)
def test_an_unknown_option_is_one_line_naming_it(path, capsys, monkeypatch):
    code, err = cli(capsys, monkeypatch, [*path.split()[1:], "--no-such-option"])
    one_line_naming(code, err, "--no-such-option")


@pytest.mark.parametrize("path", [p for p in COMMANDS if any(param.required for param in command(p).params)])
def test_a_missing_required_option_is_one_line_naming_it(path, capsys, monkeypatch):
    cmd = command(path)
    first = next(param for param in cmd.params if param.required)
    names = [*first.opts, first.name.upper()]  # an argument is named by its metavar: "Missing argument 'SOURCE'"
    code, err = cli(capsys, monkeypatch, path.split()[1:])
    one_line_naming(code, err, *names)


@pytest.mark.parametrize("path", [p for p in COMMANDS if bad_value(command(p)) is not None])
def test_a_bad_value_is_one_line_naming_the_option(path, capsys, monkeypatch):
    cmd = command(path)
    args, name = bad_value(cmd)
    code, err = cli(capsys, monkeypatch, [*path.split()[1:], *args])
    one_line_naming(code, err, name)


def test_every_command_with_options_gets_a_bad_value():
    without = [p for p in COMMANDS if bad_value(command(p)) is None]
    assert without == [p for p in COMMANDS if not any(param.opts for param in command(p).params
                                                      if param.param_type_name == "option")]


@pytest.mark.parametrize("args, name", [
    (["judge", "--bogus"], "--bogus"),
    (["judge", "-o", "out.jsonl"], "--input"),
    (["judge", "-i", "a", "-o", "b", "--limit", "abc"], "--limit"),
    (["run", "x.yaml", "--rounds", "0"], "--rounds"),
    (["evalute"], "evalute"),
], ids=["unknown", "missing", "not-a-number", "out-of-range", "mistyped-command"])
def test_the_issues_examples_with_the_installed_command(tmp_path, args, name):
    done = subprocess.run([str(SOCRATIC), *args], capture_output=True, text=True, check=False, timeout=120,
                          cwd=tmp_path, env={**os.environ, "COLUMNS": "40"})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: socratic"), done.stderr  # even 40 columns wide
    assert name in lines[0] and "Traceback" not in done.stderr


def test_help_and_no_arguments_still_show_the_help(capsys, monkeypatch):
    from socratic.cli import main

    monkeypatch.setattr(sys, "argv", ["socratic", "judge", "--help"])
    main()  # returns: --help is not an error
    assert "--input" in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["socratic"])
    with pytest.raises(SystemExit) as exited:
        main()
    shown = "".join(capsys.readouterr())
    assert exited.value.code == 2 and "judge" in shown and "Traceback" not in shown  # no_args_is_help, as before


def test_a_command_that_exits_with_a_code_keeps_it(capsys, monkeypatch):
    # `socratic chat` raises typer.Exit(code); standalone_mode=False hands that code back instead of exiting.
    from socratic.serve import chat

    monkeypatch.setattr(chat, "run", lambda config: 3)
    code, _ = cli(capsys, monkeypatch, ["chat", "--no-interactive"])
    assert code == 3


def test_an_interrupt_exits_130_with_the_resume_hint(capsys, monkeypatch):
    from socratic.judge import stage

    def interrupted(config):
        raise KeyboardInterrupt

    monkeypatch.setattr(stage, "run", interrupted)
    code, err = cli(capsys, monkeypatch, ["judge", "-i", "in.jsonl", "-o", "out.jsonl"])
    assert code == 130
    assert err.strip() == "interrupted; re-run the same command to resume"
