"""CLI options built from the stage config models, and the one way flags reach a config.

An option that sets a config field is declared from that field, as TRL's parser does with its dataclasses:
`option(PairsConfig, "min_margin", "--min-margin")` takes its help from the field's description and its
"(default 0.05)" from the field's default, so each default and each help text is written once, on the model.

Each command builds a dict of {config field: option value} and hands it to `config.load_config`,
which drops the None values, so an option left out never overrides the YAML file: every option built
here defaults to None ("not given"), whatever the field's default. Boolean switches go through `flags`
(a given switch sets True) or `cleared` (a given switch sets False): an unset switch stays None, so
`no_cache: true` in a YAML file is not undone by a missing flag.
"""

from __future__ import annotations

from typing import Any

import typer
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

CONFIG_HELP = "YAML file of these options (flags win)."


def flags(**values: bool) -> dict[str, bool]:
    """Only the switches that were given, as True."""
    return {name: True for name, value in values.items() if value}


def cleared(**values: bool) -> dict[str, bool]:
    """Only the switches that were given, as False (`--full` clears `lora`, `--no-verify` clears `verify`)."""
    return {name: False for name, value in values.items() if value}


def default_of(model: type[BaseModel], field: str) -> Any:
    """The field's default as a user would write it; None when it has none (or its default is None)."""
    info = model.model_fields[field]
    if info.default_factory is not None:
        value = info.default_factory()
    elif info.default is PydanticUndefined:
        return None
    else:
        value = info.default
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or None
    if isinstance(value, dict):
        return None
    return value


def description(model: type[BaseModel], field: str) -> str:
    text = model.model_fields[field].description
    if not text:
        raise TypeError(f"{model.__name__}.{field} has no description: write the option's help there")
    return text


def help_of(model: type[BaseModel], field: str, help: str | None = None, prefix: str = "") -> str:
    """`prefix`, the field's description (or `help`), and the field's default before the last full stop."""
    text = prefix + (help if help is not None else description(model, field))
    default = default_of(model, field)
    if default is None:
        return text
    if text.endswith(".") and not text.endswith("..."):
        return f"{text[:-1]} (default {default})."
    return f"{text} (default {default})"


def option(model: type[BaseModel], field: str, *names: str, help: str | None = None, prefix: str = "",
           default: Any = None, **kwargs: Any) -> Any:
    """A typer option that sets `model.field`: help and default text from the field; `default` stays None
    ("not given") unless a command must require the option (`default=...`)."""
    return typer.Option(default, *names, help=help_of(model, field, help, prefix), **kwargs)


def switch(model: type[BaseModel], field: str, name: str, help: str | None = None) -> Any:
    """A one-way flag (`--no-cache`) for a bool field: False when absent, for `flags`/`cleared` to drop."""
    return typer.Option(False, name, help=help if help is not None else description(model, field))


def config_option() -> Any:
    return typer.Option(None, "--config", help=CONFIG_HELP)


def out_option(help: str) -> Any:
    """-o/--out of a command without a config model (report, judge-train)."""
    return typer.Option(None, "-o", "--out", help=help)
