"""The command line's options and the stage configs' YAML keys, compared with a checked-in snapshot
(tests/cli_snapshot.json), so a refactor of how options are declared (issue 29: options built from the
config models' fields) cannot rename, drop or add an option or a YAML key unnoticed.

A change made on purpose (a new option, a new config field) is recorded by regenerating the snapshot:

    PYTHONPATH=src python tests/test_cli_snapshot.py --update

and the diff of tests/cli_snapshot.json shows what users will see change.
"""

from __future__ import annotations

import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).with_name("cli_snapshot.json")


def _commands(group: Any, prefix: str) -> dict[str, Any]:
    # typer ships its own copy of click, so a group is told apart by having `commands`.
    found = {}
    for name in sorted(group.commands):
        command = group.commands[name]
        if hasattr(command, "commands"):
            found.update(_commands(command, f"{prefix} {name}"))
        else:
            found[f"{prefix} {name}"] = command
    return found


def _type_name(annotation: Any) -> str:
    """`float`, `Path`, `list[str]`: the value a user passes; `X | None` is X (None is "not given")."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = typing.Union[tuple(a for a in typing.get_args(annotation) if a is not type(None))]  # noqa: UP007
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("pathlib.", "")


def cli_options() -> dict[str, dict[str, dict[str, Any]]]:
    """command -> {"--min-margin" or "-o/--out" or "SOURCE": what a user can rely on about it}."""
    import typer

    from socratic.cli import app

    out = {}
    for path, command in _commands(typer.main.get_command(app), "socratic").items():
        params = {}
        for param in command.params:
            if param.name == "help":
                continue
            if param.param_type_name == "argument":
                key = param.name.upper()
            else:
                key = "/".join(sorted(param.opts, key=lambda o: (o.startswith("--"), o)))
                if param.secondary_opts:
                    key += " | " + "/".join(param.secondary_opts)
            params[key] = {"kind": param.param_type_name, "flag": bool(getattr(param, "is_flag", False)),
                           "multiple": bool(getattr(param, "multiple", False)),
                           "type": _type_name(param.type_descriptor.annotation),
                           "required": bool(param.required)}
        out[path] = params
    return out


def _nested_models(annotation: Any) -> list[type]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, tuple, dict):
        return [m for arg in typing.get_args(annotation) for m in _nested_models(arg)]
    return []


def yaml_keys(model: type) -> list[str]:
    """Every key a YAML file of `model` may hold, nested ones dotted (`pairs.min_margin`)."""
    keys = []
    for name, field in model.model_fields.items():
        keys.append(name)
        for nested in _nested_models(field.annotation):
            keys += [f"{name}.{key}" for key in yaml_keys(nested)]
    return sorted(set(keys))


def stage_models() -> dict[str, type]:
    """Every config model a command or `socratic run` loads, imported from where the commands import it."""
    from socratic.agreement.measure import AgreementConfig
    from socratic.evaluate.evaluation import EvaluateConfig
    from socratic.export.hf_folder import ExportConfig
    from socratic.judge.stage import JudgeConfig
    from socratic.pipeline.config import PipelineConfig
    from socratic.preference.generate import GenerateConfig
    from socratic.preference.oneshot import PreferencesConfig
    from socratic.preference.pairs import PairsConfig
    from socratic.serve import ServeConfig
    from socratic.serve.chat import ChatConfig
    from socratic.train.dpo import TrainConfig
    from socratic.train.sft import SftConfig

    models = (AgreementConfig, ChatConfig, EvaluateConfig, ExportConfig, GenerateConfig, JudgeConfig,
              PairsConfig, PipelineConfig, PreferencesConfig, ServeConfig, SftConfig, TrainConfig)
    return {model.__name__: model for model in models}


def snapshot() -> dict[str, Any]:
    return {"commands": cli_options(),
            "configs": {name: yaml_keys(model) for name, model in sorted(stage_models().items())}}


def test_cli_options_and_yaml_keys_match_the_snapshot():
    saved = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    now = snapshot()
    assert now["commands"].keys() == saved["commands"].keys(), "commands added or removed"
    for command, options in saved["commands"].items():
        assert now["commands"][command] == options, f"{command}: options changed (see the module docstring)"
    assert now["configs"] == saved["configs"], "YAML keys changed (see the module docstring)"


def test_the_snapshot_sees_options_flags_and_nested_keys():
    # Guards the snapshot itself: it holds what it claims to, so the comparison above can fail.
    now = snapshot()
    pairs = now["commands"]["socratic pairs"]
    assert pairs["--min-margin"]["type"] == "float"
    assert pairs["-o/--out"]["kind"] == "option"
    assert now["commands"]["socratic evaluate"]["--no-cache"]["flag"] is True
    assert now["commands"]["socratic evaluate"]["--model"]["multiple"] is True
    assert "--pressure | --no-pressure" in now["commands"]["socratic evaluate"]
    assert "pairs.min_margin" in now["configs"]["PipelineConfig"]
    assert "datasets.train.source" in now["configs"]["PipelineConfig"]
    assert "sft.epochs" in now["configs"]["PipelineConfig"]


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(__doc__)
    SNAPSHOT.write_text(json.dumps(snapshot(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
