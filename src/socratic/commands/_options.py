"""The CLI options several commands share, declared once, and the one way flags reach a config.

Each command builds a dict of {config field: option value} and hands it to `config.load_config`,
which drops the None values, so an option left out never overrides the YAML file. Boolean
switches go through `flags` (a given switch sets True) or `cleared` (a given switch sets False):
an unset switch stays None, so `no_cache: true` in a YAML file is not undone by a missing flag.
Model and judge help text comes from the spec registry (socratic.specs).
"""

from __future__ import annotations

from typing import Any

import typer

from socratic.specs import DATASET_HELP, JUDGE_SPEC_HELP, MODEL_SPEC_HELP, TRAINABLE_HELP

CONFIG_HELP = "YAML file of these options (flags win)."
FORMULA_HELP = "Summary formula: uniform (default) or reference."


def flags(**values: bool) -> dict[str, bool]:
    """Only the switches that were given, as True."""
    return {name: True for name, value in values.items() if value}


def cleared(**values: bool) -> dict[str, bool]:
    """Only the switches that were given, as False (`--full` clears `lora`, `--no-verify` clears `verify`)."""
    return {name: False for name, value in values.items() if value}


def config_option() -> Any:
    return typer.Option(None, "--config", help=CONFIG_HELP)


def out_option(help: str) -> Any:
    return typer.Option(None, "-o", "--out", help=help)


def system_prompt_option(help: str = "Tutor system prompt file.") -> Any:
    return typer.Option(None, "--system-prompt", help=help)


def seed_option(help: str) -> Any:
    return typer.Option(None, "--seed", help=help)


def formula_option(default: str | None = None, help: str = FORMULA_HELP) -> Any:
    return typer.Option(default, "--formula", help=help)


def no_cache_option(help: str = "Do not read or write the cache.") -> Any:
    return typer.Option(False, "--no-cache", help=help)


def overwrite_option(help: str) -> Any:
    return typer.Option(False, "--overwrite", help=help)


def model_option(role: str = "Model spec (default embedded)", *names: str, trainable: bool = False) -> Any:
    kinds = TRAINABLE_HELP if trainable else MODEL_SPEC_HELP
    return typer.Option(None, "--model", *names, help=f"{role}: {kinds}.")


def dataset_option() -> Any:
    return typer.Option(None, "--dataset", help=DATASET_HELP)


def limit_option(help: str = "Only the first N dialogues.") -> Any:
    return typer.Option(None, "--limit", help=help)


def dedupe_option() -> Any:
    return typer.Option(None, "--dedupe/--no-dedupe", help="Drop duplicate dialogues and, for a train split, "
                        "those also in the test split (default: dedupe).")


def temperature_option() -> Any:
    return typer.Option(None, "--temperature", help="Sampling temperature (default 1.0).")


def top_p_option() -> Any:
    return typer.Option(None, "--top-p", help="Nucleus sampling (default 0.95).")


def max_new_tokens_option(default: int = 128) -> Any:
    return typer.Option(None, "--max-new-tokens", help=f"Reply length cap (default {default}).")


def judge_option(role: str, default: str | None = None) -> Any:
    return typer.Option(default, "--judge", help=f"{role}: {JUDGE_SPEC_HELP}.")


def concurrency_option(help: str) -> Any:
    return typer.Option(None, "--concurrency", help=help)
