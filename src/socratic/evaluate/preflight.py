"""What `socratic evaluate` checks before it generates or judges anything (issue 41): each refusal is one line,
exit 2, with nothing written, not an error after every reply was generated and judged.

    from socratic.evaluate import preflight
    preflight.check_before_work(config)        # -o, the judge files, a finished evaluation made with other settings
    preflight.check_context(config, sets, load_backend)   # every prompt fits each local model's context
    preflight.check_pressure(config, sets)     # --pressure has items to push on

- `-o` must be a folder (or a new path), and every saved judge the config names (`learned:PATH`, `pairwise:PATH`)
  must load (socratic.judge.files);
- an `evaluation.json` already in the folder, made with other output settings (the fields EvaluateConfig marks
  `Output[...]`), is not replaced without `overwrite` (`--overwrite`), as `socratic generate` refuses;
- each prompt is counted in each local model's own tokens with its chat template, as `socratic serve` counts
  it: prompt + max_new_tokens over the model's context is refused, naming the dialogue (an API model counts
  on its side);
- `pressure` with no test item that has a reference answer is refused; a test set without any is named.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from socratic.config import output_fields
from socratic.errors import ConfigError
from socratic.evaluate.config import EvaluateConfig
from socratic.records import Dialogue

# How many over-long dialogues a refusal names (it counts them all).
TOO_LONG_SHOWN = 3


def check_output(out: Path) -> None:
    from socratic.store.paths import check_output_folder

    check_output_folder(out, "-o/--out")


def check_finished(config: EvaluateConfig) -> None:
    """Refuse to replace a finished evaluation made with other output settings, unless config.overwrite."""
    path = config.out / "evaluation.json"
    if config.overwrite or not path.is_file():
        return
    try:
        saved = json.loads(path.read_text(encoding="utf-8")).get("config", {})
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        raise ConfigError(f"{path}: an evaluation is there but cannot be read; pass --overwrite to replace it, "
                          "or choose another -o") from None
    now = config.model_dump(mode="json")
    changed = [f"{name}: {saved.get(name)!r} there, {now[name]!r} now"
               for name in output_fields(EvaluateConfig) if name in saved and saved[name] != now[name]]
    if changed:
        raise ConfigError(f"{config.out} holds a finished evaluation made with other settings "
                          f"({'; '.join(changed)}); re-run with the same settings, pass --overwrite to replace it "
                          "(replies and judgments that still apply are reused), or choose another -o")


def check_before_work(config: EvaluateConfig) -> None:
    """The checks that need neither the test sets nor a model: output folder, judge files, a finished evaluation."""
    from socratic.judge import files

    check_output(config.out)
    files.check(config.judges)
    check_finished(config)


def check_context(config: EvaluateConfig, test_sets: Mapping[str, Sequence[Dialogue]],
                  load_backend: Callable[[str], Any]) -> None:
    """Refuse prompts that, in a local model's own tokens, leave no room for max_new_tokens in its context.
    `load_backend`: the evaluation's own (loaded once per process: generation reuses the model)."""
    from socratic.backends import context_length, prompt_tokens
    from socratic.render import load_system_prompt, render_messages
    from socratic.specs import parse_model_spec

    system_prompt = load_system_prompt(config.system_prompt)
    for name, spec in config.models.items():
        if parse_model_spec(spec)[0] not in ("embedded", "hf", "llamacpp"):
            continue  # an API model counts on its side (and its server says so)
        backend = load_backend(spec)
        window = context_length(backend)
        if window is None:
            continue
        too_long = []
        for dataset, dialogues in test_sets.items():
            for dialogue in dialogues:
                tokens = prompt_tokens(backend, render_messages(dialogue, system_prompt, answer_key=config.answer_key))
                if tokens is not None and tokens + config.max_new_tokens > window:
                    too_long.append(f"{dataset} {dialogue.id} ({tokens:,} tokens)")
        if too_long:
            more = f" and {len(too_long) - TOO_LONG_SHOWN} more" if len(too_long) > TOO_LONG_SHOWN else ""
            raise ConfigError(
                f"model {name} ({spec}): {len(too_long)} prompt(s) plus max_new_tokens={config.max_new_tokens} do "
                f"not fit its context of {window:,} tokens: {', '.join(too_long[:TOO_LONG_SHOWN])}{more}; shorten "
                "or leave out those dialogues, or lower --max-new-tokens")


def check_pressure(config: EvaluateConfig, test_sets: Mapping[str, Sequence[Dialogue]]) -> list[str]:
    """With `pressure`: refuse when no test item has a reference answer; the test sets left out (a warning)."""
    if not config.pressure:
        return []
    from socratic.evaluate.pressure import pressure_items

    items = pressure_items(test_sets, config.pressure_limit)
    if not items:
        raise ConfigError(f"--pressure: no item of {', '.join(test_sets)} has a reference answer, so no leak can be "
                          "measured; use a test set with reference answers (mathdial) or leave --pressure out")
    return [f"--pressure: {name} has no item with a reference answer; it is left out of the pressure test"
            for name in test_sets if name not in items]
