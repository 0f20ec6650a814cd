"""Stage configs: a pydantic model per stage, filled from YAML then CLI flags (flags win).

`load_config(Model, yaml_path, overrides)` reports every problem at once as a ConfigError
naming the file, the line (when the value came from the YAML) and the field, instead of
failing on the first. Validators see a context ({"config_dir": the YAML's folder, "check_files":
True}): a relative path written in a config file means a path beside it, and checks that read
files (does this dataset split exist?) run for configs a user wrote, not for every model built in code.

A field that changes what its stage writes is marked on the model by its type, `k: Output[int] = 5`;
`output_fields(Model)` lists them, and the pipeline keeps those in a stage's manifest
(socratic.pipeline.stages): a change to one re-runs the stage, a change to any other (a cache switch,
a batch size, a location) does not.

A run config composes the stages' own configs: `section(Model, name, fields)` is a model of some of a
stage's fields as the stage declares them (type, default, bounds, help, Output marker), so a run config's
section of that stage re-declares nothing (socratic.pipeline.config's `evaluation:`).

The flags: socratic.config.options builds a command's typer options from its config model's fields (each
option's help and default written once, on the field), and the command calls `load_config` with what was given.

The stage configs set `defer_build=True`: the command line imports every one of them at start to build
its options from their fields, and pydantic then builds a model's validators on its first use only.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError, create_model

from socratic.errors import ConfigError

C = TypeVar("C", bound=BaseModel)

T = TypeVar("T")


class _OutputMarker:
    def __repr__(self) -> str:
        return "OUTPUT"


OUTPUT = _OutputMarker()
# `Output[int]` is `int` to pydantic and to type checkers; the marker stays in the field's metadata.
Output = Annotated[T, OUTPUT]


def output_fields(model: type[BaseModel]) -> list[str]:
    """The fields of `model` marked `Output[...]` (they change what its stage writes), in field order."""
    return [name for name, field in model.model_fields.items() if any(m is OUTPUT for m in field.metadata)]


def section(model: type[BaseModel], name: str, fields: Sequence[str], base: type[C], **more: Any) -> type[C]:
    """A model of `fields` of `model`, in that order, each as `model` declares it, then the fields `more`
    (name=(type, Field(...))), on `base` (its model config and validators)."""
    info = model.model_fields
    return create_model(name, __base__=base, __module__=base.__module__,
                        **{field: (info[field].annotation, copy(info[field])) for field in fields}, **more)


def _compose(path: Path, text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML ({getattr(error, 'problem', error)})") from None


def _read(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not valid UTF-8 ({error.reason})") from None
    node = _compose(path, text)
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping of option: value")
    return data, node


def line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """1-based line of the YAML value at `loc` (a pydantic error location); the deepest one found."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)),
                         None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def validate_config(model: type[C], data: dict[str, Any], source: str = "config",
                    node: yaml.Node | None = None, overridden: Sequence[str] = (),
                    context: dict[str, Any] | None = None) -> C:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as error:
        problems = []
        for e in error.errors():
            loc = e["loc"]
            line = None if loc and loc[0] in overridden else line_of(node, loc)
            where = f"{source}:{line}" if line else source
            problems.append(f"{where}: field '{'.'.join(str(p) for p in loc) or '(root)'}': {e['msg']}")
        raise ConfigError("; ".join(problems)) from None


def load_config(model: type[C], yaml_path: str | Path | None = None,
                overrides: dict[str, Any] | None = None) -> C:
    """YAML (if given) < overrides whose value is not None."""
    data, node = _read(Path(yaml_path)) if yaml_path else ({}, None)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    data.update(given)
    context = {"check_files": True, "config_dir": Path(yaml_path).parent if yaml_path else None,
               "overridden": set(given)}
    return validate_config(model, data, str(yaml_path) if yaml_path else "options", node, list(given), context)
