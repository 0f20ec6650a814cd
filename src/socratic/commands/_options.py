"""A command is its stage's config model plus the few flags that differ: its typer options built from the fields.

    @app.command("pairs")
    @opt.config_command(PairsConfig, "judgments", "out", *opt.PAIRING, "formula", *opt.PROMPT, opt.CONFIG)
    def pairs(settings: PairsConfig) -> None: ...

`config_command` sets the command's signature (what typer reads its options from, as inspect_ai's shared
option decorators and TRL's parser do with their dataclasses) from a list of rows: a field name (its flag
is `--field-name`, or the one FLAGS gives it), an `Opt` where a command names or explains a field its own
way, or a `Param` that sets no field (`--processes`, `--dry-run`). The body gets the validated config,
built by `config.load_config` from the YAML file (`--config`, or `socratic run`'s argument) and the given
flags, and the `Param`s by name. Each option takes its help from the field's description and its
"(default 0.05)" from the field's default, so each default and each help text is written once, on the model.

Every option defaults to None ("not given"), whatever the field's default, and `load_config` drops the
None values, so an option left out never overrides the YAML file. A bool field is a `--x/--no-x` pair, or
a one-way switch (SWITCHES, or `Opt(clears=True)` for `--full`/`--no-verify`): a given switch sets the
field True (False for a clearing one), an absent one stays None, so `no_cache: true` in a YAML file is not
undone by a missing flag.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from socratic.config import load_config

CONFIG_HELP = "YAML file of these options (flags win)."

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
SWITCHES = {"no_cache", "overwrite", "answer_key", "resume", "force"}


def default_of(model: type[BaseModel], name: str) -> Any:
    """The field's default as a user would write it; None when it has none (or its default is None)."""
    info = model.model_fields[name]
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


def description(model: type[BaseModel], name: str) -> str:
    text = model.model_fields[name].description
    if not text:
        raise TypeError(f"{model.__name__}.{name} has no description: write the option's help there")
    return text


def help_of(model: type[BaseModel], name: str, help: str | None = None, prefix: str = "") -> str:
    """`prefix`, the field's description (or `help`), and the field's default before the last full stop."""
    text = prefix + (help if help is not None else description(model, name))
    default = default_of(model, name)
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
    argument: bool = False
    convert: Callable[[Any], Any] | None = None  # the given value -> the field's value
    default: Any = None  # `...`: the option is required
    extra: dict[str, Any] = field(default_factory=dict)  # more typer.Option arguments (min=1)

    def switch(self) -> bool:
        return self.clears or self.field in SWITCHES

    def parameter(self, model: type[BaseModel]) -> inspect.Parameter:
        kind = self.type or _value_type(model.model_fields[self.field].annotation)
        names = self.names or FLAGS.get(self.field) or ("--" + self.field.replace("_", "-"),)
        if self.argument:
            info = typer.Argument(..., help=description(model, self.field))
        elif self.switch():
            info = typer.Option(False, *names, help=self.help or description(model, self.field))
        else:
            if kind is bool and "/" not in names[0]:
                names = (f"{names[0]}/--no-{names[0][2:]}",)
            info = typer.Option(self.default, *names, help=help_of(model, self.field, self.help, self.prefix),
                                **self.extra)
        return inspect.Parameter(self.field, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=kind)

    def value(self, given: Any) -> Any:
        """The field's value from what typer parsed; None for "not given"."""
        if self.convert is not None:
            return self.convert(given)
        if self.switch():
            return (not self.clears) if given else None
        if isinstance(given, (list, tuple)):
            return list(given) or None
        return given


@dataclass(frozen=True)
class Param:
    """A command parameter that sets no config field, handed to the command's body by name."""

    name: str
    type: Any
    info: Any  # typer.Option(...) or typer.Argument(...)

    def parameter(self, model: type[BaseModel]) -> inspect.Parameter:
        return inspect.Parameter(self.name, inspect.Parameter.KEYWORD_ONLY, default=self.info, annotation=self.type)


# `config` is the YAML file the flags override (an option here, `socratic run`'s argument there).
CONFIG = Param("config", Path, typer.Option(None, "--config", help=CONFIG_HELP))
# The groups of fields that several stages share, in the order their commands list them.
DATASET = ("dataset", "split", "dedupe")
SAMPLING = ("temperature", "top_p", "max_new_tokens", "seed")
PROMPT = ("system_prompt", "answer_key")
PAIRING = ("strategy", "min_chosen_score", "min_margin", "chosen_asks_question")
COMMON = ("no_cache", "overwrite", CONFIG)


def config_command(model: type[BaseModel], *rows: str | Opt | Param) -> Callable[[Callable], Callable]:
    """Turn `body(settings, **params)` into a typer command whose options are `rows` (see the module docstring)."""
    built = [Opt(row) if isinstance(row, str) else row for row in rows]
    options = [row for row in built if isinstance(row, Opt)]
    params = [row.name for row in built if isinstance(row, Param) and row.name != "config"]

    def decorate(body: Callable) -> Callable:
        def command(**given: Any) -> Any:
            overrides = {row.field: row.value(given[row.field]) for row in options}
            settings = load_config(model, given.get("config"), overrides)
            return body(settings, **{name: given[name] for name in params})

        command.__signature__ = inspect.Signature([row.parameter(model) for row in built])
        command.__name__, command.__qualname__, command.__doc__ = body.__name__, body.__qualname__, body.__doc__
        command.__module__ = body.__module__
        return command

    return decorate


def out_option(help: str) -> Any:
    """-o/--out of a command without a config model (report, judge-train)."""
    return typer.Option(None, "-o", "--out", help=help)
