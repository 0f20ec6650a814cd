"""A stage's config model as command-line flags: a command is the model plus the few flags that differ, its typer
options built from the fields (the commands in socratic.commands use it).

    @app.command()
    @config_command("judgments", "out", *PAIRING, "formula", *PROMPT, "config")
    def pairs(settings: PairsConfig) -> None: ...

`config_command` gives the command the signature typer reads (as inspect_ai's shared option decorators and TRL's
parser do with their dataclasses), one option per row: a field of the `settings` model (flag `--field-name` or
FLAGS's), an `Opt` where a command names or explains a field its own way, one of the body's own parameters
(`processes`), or "config", the YAML file the flags override. Help is the field's description with its default,
so each is written once, on the model. Every option defaults to None, "not given", which `load_config` drops: a
flag left out never overrides the YAML file (a bool is a `--x/--no-x` pair, or a switch that stays None unless given).

It lives beside `load_config` rather than in socratic.cli: socratic.cli assembles the app from the commands, so
a module there that the commands import would be an import circle (tests/test_import_graph.py).
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from socratic.config import load_config

# A field's flags where they are not `--field-name`, the same in every command that has the field.
FLAGS = {
    "k": ("-k", "--k"), "out": ("-o", "--out"), "output": ("-o", "--output"), "input": ("--input", "-i"),
    "judges": ("--judge",), "datasets": ("--dataset",), "models": ("--model",), "start": ("--from",),
    "min_chosen_score": ("--min-chosen",), "chosen_asks_question": ("--chosen-asks-question/--any-chosen",),
    "learning_rate": ("--lr",), "precompute_ref_log_probs": ("--precompute-ref/--no-precompute-ref",),
    "top_k": ("--top",), "default_temperature": ("--temperature",),
    "training_judge": ("--reward-judge", "--training-judge"),
}
# Bool fields whose flag only turns them on (`--no-cache`), rather than a `--x/--no-x` pair.
SWITCHES = {"no_cache", "overwrite", "answer_key", "resume", "force", "reward", "restating"}
# The groups of fields that several stages share, in the order their commands list them.
DATASET = ("dataset", "split", "dedupe")
SAMPLING = ("temperature", "top_p", "max_new_tokens", "seed")
PROMPT = ("system_prompt", "answer_key")
PAIRING = ("strategy", "min_chosen_score", "min_margin", "chosen_asks_question")
COMMON = ("no_cache", "overwrite", "config")
CONFIG = typer.Option(None, "--config", help="YAML file of these options (flags win).")


def default_of(model: type[BaseModel], name: str) -> Any:
    """The field's default as a user would write it; None when it has none (or its default is None)."""
    info = model.model_fields[name]
    value = info.default_factory() if info.default_factory is not None else info.default
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or None
    return None if value is PydanticUndefined or isinstance(value, dict) else value


def help_of(model: type[BaseModel], name: str, help: str | None = None, prefix: str = "",
            with_default: bool = True) -> str:
    """`prefix`, the field's description (or `help`), and the field's default before the last full stop."""
    text = help if help is not None else model.model_fields[name].description
    if not text:
        raise TypeError(f"{model.__name__}.{name} has no description: write the option's help there")
    text, default = prefix + text, default_of(model, name) if with_default else None
    if default is None:
        return text
    if text.endswith(".") and not text.endswith("..."):
        return f"{text[:-1]} (default {default})."
    return f"{text} (default {default})"


def _value_type(annotation: Any) -> Any:
    """What a user passes for a field: `int | None` is int (None is "not given"), a Literal of names is str."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return str if typing.get_origin(annotation) is typing.Literal else annotation


@dataclass(frozen=True)
class Opt:
    """The option (or, `argument=True`, the argument) that sets one field of the command's config."""

    field: str
    names: tuple[str, ...] = ()
    help: str | None = None  # instead of the field's description
    prefix: str = ""  # before the field's description
    clears: bool = False  # a switch that sets the field False (`--full` clears `lora`)
    type: Any = None  # what typer parses, where it differs from the field's type
    convert: Callable[[Any], Any] | None = None  # the given value -> the field's value
    argument: bool = False
    required: bool = False
    min: int | None = None

    def switch(self) -> bool:
        return self.clears or self.field in SWITCHES

    def parameter(self, model: type[BaseModel]) -> inspect.Parameter:
        kind = self.type or _value_type(model.model_fields[self.field].annotation)
        names = self.names or FLAGS.get(self.field) or ("--" + self.field.replace("_", "-"),)
        if self.argument:
            info = typer.Argument(..., help=help_of(model, self.field, with_default=False))
        elif self.switch():
            info = typer.Option(False, *names, help=help_of(model, self.field, self.help, with_default=False))
        else:
            if kind is bool and "/" not in names[0]:
                names = (f"{names[0]}/--no-{names[0][2:]}",)
            info = typer.Option(... if self.required else None, *names, min=self.min,
                                help=help_of(model, self.field, self.help, self.prefix))
        return inspect.Parameter(self.field, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=kind)

    def value(self, given: Any) -> Any:
        """The field's value from what typer parsed; None for "not given"."""
        if self.convert is not None:
            return self.convert(given)
        if self.switch():
            return (not self.clears) if given else None
        return (list(given) or None) if isinstance(given, (list, tuple)) else given


def config_command(*rows: str | Opt, config: Any = CONFIG) -> Callable[[Callable], Callable]:
    """Turn `body(settings, **own)` into a typer command whose options are `rows` (see the module docstring);
    `config`: the typer.Option or typer.Argument of the YAML file."""

    def decorate(body: Callable) -> Callable:
        hints = typing.get_type_hints(body)
        model = hints.pop("settings")
        own = {p.name: p.replace(annotation=hints[p.name], kind=p.KEYWORD_ONLY)
               for p in inspect.signature(body).parameters.values() if p.name in hints}
        if not own.keys() <= set(rows):
            raise TypeError(f"{body.__name__}: place its parameters {sorted(own)} among the rows")
        own["config"] = inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=config, annotation=Path)
        built = [row if isinstance(row, Opt) else own.get(row) or Opt(row) for row in rows]
        options = [row for row in built if isinstance(row, Opt)]

        @functools.wraps(body)  # typer reads the command's name and help from it
        def command(**given: Any) -> Any:
            overrides = {row.field: row.value(given[row.field]) for row in options}
            settings = load_config(model, given.get("config"), overrides)
            return body(settings, **{name: given[name] for name in own if name != "config"})

        command.__signature__ = inspect.Signature([row.parameter(model) if isinstance(row, Opt) else row
                                                   for row in built])
        return command

    return decorate
