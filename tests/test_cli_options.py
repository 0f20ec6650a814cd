"""Options built from the config models (socratic.config.options): help and default text come from the
field, and an option left out reaches `load_config` as None, so it never overrides the YAML file."""

from __future__ import annotations

import pytest
import typer
from pydantic import BaseModel, Field
from typer.testing import CliRunner

from socratic.cli import app
from socratic.config import options as opt
from socratic.preference.pairs import PairSettings
from socratic.train.dpo import TrainConfig


class Toy(BaseModel):
    margin: float = Field(0.05, description="Minimum margin.")
    judges: list[str] = Field(default_factory=lambda: ["rubric", "qmark"], description="Judges")
    ask: bool = Field(False, description="Ask first.")
    limit: int | None = Field(None, description="Only the first N (default: all).")
    loss: str = Field("sigmoid", description="Loss: sigmoid, ipo, ...")
    bare: int = 3


def test_the_help_is_the_description_with_the_fields_default():
    assert opt.help_of(Toy, "margin") == "Minimum margin (default 0.05)."
    assert opt.help_of(Toy, "judges") == "Judges (default rubric, qmark)"
    assert opt.help_of(Toy, "ask") == "Ask first (default off)."
    assert opt.help_of(Toy, "limit") == "Only the first N (default: all)."  # a None default adds nothing
    assert opt.help_of(Toy, "loss") == "Loss: sigmoid, ipo, ... (default sigmoid)"
    assert opt.help_of(Toy, "margin", prefix="Overrides margin. ") == "Overrides margin. Minimum margin (default 0.05)."
    with pytest.raises(TypeError, match=r"Toy\.bare has no description"):
        opt.help_of(Toy, "bare")


def test_an_option_defaults_to_not_given_whatever_the_fields_default():
    built = opt.Opt("margin").parameter(Toy)
    assert built.default.default is None and built.default.help == "Minimum margin (default 0.05)."
    assert built.annotation is float
    assert opt.Opt("ask").parameter(Toy).default.param_decls == ("--ask/--no-ask",)  # a bool field: a pair
    assert opt.Opt("limit").parameter(Toy).annotation is int  # `int | None`: None is "not given"
    switch = opt.Opt("ask", ("--skip",), clears=True).parameter(Toy).default
    assert switch.default is False and switch.help == "Ask first."  # a one-way switch states no default


class Knobs(BaseModel):
    margin: float = Field(0.05, description="Minimum margin.")
    judges: list[str] = Field(default_factory=lambda: ["rubric"], description="Judges")
    no_cache: bool = Field(False, description="Skip the cache.")
    lora: bool = Field(True, description="LoRA.")


def _toy_app(seen: dict) -> typer.Typer:
    toy = typer.Typer()

    @toy.command()
    @opt.config_command("margin", "judges", "no_cache", opt.Opt("lora", ("--full",), clears=True), "times", "config")
    def knobs(settings: Knobs, times: int = typer.Option(1, "--times")) -> None:
        """The toy command's help."""
        seen.update(settings=settings, times=times)

    return toy


def test_a_config_command_hands_its_body_the_validated_config(tmp_path):
    seen = {}
    toy = _toy_app(seen)
    result = CliRunner().invoke(toy, ["--margin", "0.3", "--judge", "a", "--judge", "b", "--no-cache", "--full",
                                      "--times", "2"])
    assert result.exit_code == 0, result.output
    assert seen["settings"] == Knobs(margin=0.3, judges=["a", "b"], no_cache=True, lora=False)
    assert seen["times"] == 2
    config = tmp_path / "knobs.yaml"
    config.write_text("margin: 0.2\nno_cache: true\nlora: false\n", encoding="utf-8")
    result = CliRunner().invoke(toy, ["--config", str(config)])
    assert result.exit_code == 0, result.output
    assert seen["settings"] == Knobs(margin=0.2, no_cache=True, lora=False)  # absent switches undo nothing
    assert "The toy command's help." in CliRunner().invoke(toy, ["--help"]).output


def test_a_body_parameter_left_out_of_the_rows_is_refused():
    # Its option would be missing from the command and the body would never get it: fail when the CLI is built.
    with pytest.raises(TypeError, match=r"knobs: place its parameters \['times'\] among the rows"):
        @opt.config_command("margin")
        def knobs(settings: Knobs, times: int = typer.Option(1, "--times")) -> None: ...


def test_the_help_lists_the_commands_by_name_then_the_groups():
    listed = list(typer.main.get_command(app).list_commands(None))
    groups = [name for name in listed if hasattr(typer.main.get_command(app).commands[name], "commands")]
    assert groups == ["data", "rate"] and listed[-2:] == groups
    assert listed[:-2] == sorted(listed[:-2]) and {"generate", "judge-train", "setup", "train"} <= set(listed)


def _options(command_name: str) -> dict[str, typer.core.TyperOption]:
    command = typer.main.get_command(app).commands[command_name]
    return {o: p for p in command.params for o in p.opts}


def test_the_commands_show_the_models_own_defaults():
    # The number in the help is the model's: change the default on the model and the help follows.
    margin = PairSettings.model_fields["min_margin"].default
    assert f"(default {margin})" in _options("pairs")["--min-margin"].help
    assert f"(default {margin})" in _options("preferences")["--min-margin"].help
    assert f"(default {TrainConfig.model_fields['lora_r'].default})" in _options("train")["--lora-r"].help


def test_no_option_states_a_default_twice():
    for name, command in typer.main.get_command(app).commands.items():
        for sub in getattr(command, "commands", {name: command}).values():
            for param in sub.params:
                assert (param.help or "").count("(default") <= 1, (name, param.opts, param.help)


class Captured(Exception):
    pass


# command -> (arguments that must be given, the config fields those set)
COMMANDS = {
    "agreement": ([], set()), "evaluate": ([], set()), "export": ([], set()), "generate": ([], set()),
    "pairs": ([], set()), "preferences": ([], set()), "serve": ([], set()), "train": ([], set()),
    "chat": ([], set()), "judge": (["-i", "in.jsonl", "-o", "out.jsonl"], {"input", "output"}),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_an_option_left_out_never_reaches_the_config(name, monkeypatch, tmp_path):
    seen = {}

    def capture(model, yaml_path, overrides):
        seen.update(yaml=yaml_path, overrides=overrides)
        raise Captured

    monkeypatch.setattr(opt, "load_config", capture)
    arguments, given = COMMANDS[name]
    config = tmp_path / "c.yaml"
    config.write_text("{}\n", encoding="utf-8")
    with_config = ["--config", str(config)] if "--config" in _options(name) else []
    result = CliRunner().invoke(app, [name, *arguments, *with_config])
    assert isinstance(result.exception, Captured), result.output
    assert {k for k, v in seen["overrides"].items() if v is not None} == given
    assert set(seen["overrides"]) <= _model_fields(name)  # every key names a field of the stage's config


def _model_fields(name: str) -> set[str]:
    from socratic.agreement.config import AgreementConfig
    from socratic.evaluate.config import EvaluateConfig
    from socratic.export.config import ExportConfig
    from socratic.judge.stage import JudgeConfig
    from socratic.preference.generate import GenerateConfig
    from socratic.preference.oneshot import PreferencesConfig
    from socratic.preference.pairs import PairsConfig
    from socratic.serve.chat import ChatConfig
    from socratic.serve.config import ServeConfig

    models = {"agreement": AgreementConfig, "evaluate": EvaluateConfig, "export": ExportConfig,
              "generate": GenerateConfig, "pairs": PairsConfig, "preferences": PreferencesConfig,
              "serve": ServeConfig, "train": TrainConfig, "chat": ChatConfig, "judge": JudgeConfig}
    return set(models[name].model_fields)


def test_given_options_and_switches_reach_their_fields(monkeypatch):
    seen = {}

    def capture(model, yaml_path, overrides):
        seen.update(overrides)
        raise Captured

    monkeypatch.setattr(opt, "load_config", capture)
    CliRunner().invoke(app, ["pairs", "--min-margin", "0.3", "--any-chosen"])
    assert seen["min_margin"] == 0.3 and seen["chosen_asks_question"] is False
    seen.clear()
    CliRunner().invoke(app, ["train", "--full", "--resume", "--no-bf16"])
    assert {k: v for k, v in seen.items() if v is not None} == {"lora": False, "resume": True, "bf16": False}


def test_a_yaml_setting_survives_a_command_line_without_its_flag(tmp_path, monkeypatch):
    from socratic.preference import pairs as stage
    from socratic.preference.pairs import PairsConfig

    config = tmp_path / "pairs.yaml"
    config.write_text("judgments: j.jsonl\nout: p.jsonl\nmin_margin: 0.2\nchosen_asks_question: true\n",
                      encoding="utf-8")
    loaded = {}
    monkeypatch.setattr(stage, "run", lambda settings: loaded.setdefault("settings", settings))
    result = CliRunner().invoke(app, ["pairs", "--config", str(config), "--strategy", "all-pairs"])
    assert result.exit_code == 0, result.output
    settings = loaded["settings"]
    assert (settings.min_margin, settings.chosen_asks_question, settings.strategy) == (0.2, True, "all-pairs")
    assert type(settings) is PairsConfig


def test_the_cli_starts_without_the_heavy_stacks():
    # Options are built from the config models at start, so those models live in light modules
    # (evaluate/config.py, agreement/config.py, export/config.py, serve/config.py): `socratic --help` stays fast.
    import subprocess
    import sys

    heavy = ("torch", "transformers", "sentence_transformers", "trl", "sklearn", "scipy", "numpy", "fastapi")
    code = f"import sys, socratic.cli; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
