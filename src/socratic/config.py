"""Stage configs: a pydantic model per stage, filled from YAML then CLI flags (flags win).

`load_config(Model, yaml_path, overrides)` reports every problem at once as a ConfigError
naming the file and the field, instead of failing on the first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from socratic.errors import ConfigError

C = TypeVar("C", bound=BaseModel)


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping of option: value")
    return data


def validate_config(model: type[C], data: dict[str, Any], source: str = "config") -> C:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{source}: field '{'.'.join(str(p) for p in e['loc']) or '(root)'}': {e['msg']}"
            for e in error.errors()
        ]
        raise ConfigError("; ".join(problems)) from None


def load_config(model: type[C], yaml_path: str | Path | None = None,
                overrides: dict[str, Any] | None = None) -> C:
    """YAML (if given) < overrides whose value is not None."""
    data = read_yaml(yaml_path) if yaml_path else {}
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return validate_config(model, data, str(yaml_path) if yaml_path else "options")
