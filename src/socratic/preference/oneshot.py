"""One-shot preference data: generate -> judge -> pairs into one folder.

    socratic preferences --dataset mathdial --split train --limit 32 --model embedded -k 5 \
        --judge rubric -o runs/prefs

DIR ends up holding candidates.jsonl (+ .config.json), judgments.jsonl, pairs.jsonl and README.md
(the dataset card). Every step resumes: generation skips complete dialogues (see socratic.preference.generate);
judging is `socratic judge`'s stage, whose cache holds every successful judgment as it arrives, so a
re-run re-judges only what is missing or failed; judgments.jsonl and the pairs are rewritten
atomically from the candidates each time, so they can never go stale. `overwrite=True` restarts
the candidates file (the caches still make it cheap).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from socratic.config import Output
from socratic.preference import generate, pairs
from socratic.progress import console
from socratic.scores import Formula
from socratic.specs import JUDGE_SPEC_HELP


class PreferencesConfig(generate.GenerateConfig, pairs.PairSettings):
    """Settings of `socratic preferences`: generate's (out is a folder here), the judge's and the pairs'.

    Flat, as on the command line; the judge's own settings are prefixed (`judge_max_tries` is
    `socratic judge --max-tries`) because `max_tries` alone would not say of what."""

    out: Path = Field(description="Output folder.")
    judge: Output[str] = Field(default="rubric", description=f"Judge spec: {JUDGE_SPEC_HELP}.")
    judge_concurrency: int = Field(default=4, ge=1, le=64, description="Parallel judge calls.")
    judge_max_tries: Output[int] = Field(default=3, ge=1, le=20)
    formula: Output[Formula] = Field(default="uniform", description="Summary formula: uniform or reference.")

    def generate_config(self) -> generate.GenerateConfig:
        fields = generate.GenerateConfig.model_fields.keys() - {"out"}
        return generate.GenerateConfig(out=self.out / "candidates.jsonl",
                                       **{f: getattr(self, f) for f in fields})

    def pairs_config(self) -> pairs.PairsConfig:
        return pairs.PairsConfig(judgments=self.out / "judgments.jsonl", out=self.out / "pairs.jsonl",
                                 formula=self.formula, system_prompt=self.system_prompt, answer_key=self.answer_key,
                                 **{f: getattr(self, f) for f in pairs.PairSettings.model_fields})


def judge_candidates(config: PreferencesConfig) -> Path:
    """Judge every candidate with `socratic judge`'s stage; its cache makes a re-run cost nothing."""
    from socratic.judge import stage

    settings = stage.JudgeConfig(input=config.out / "candidates.jsonl", output=config.out / "judgments.jsonl",
                                 judge=config.judge, max_tries=config.judge_max_tries,
                                 concurrency=config.judge_concurrency, no_cache=config.no_cache,
                                 formula=config.formula)
    summary = stage.run(settings)
    stage.print_summary(summary, config.judge, config.formula, console)
    return settings.output


def run(config: PreferencesConfig) -> Path:
    """Run the three steps into config.out; returns the pairs path."""
    config.out.mkdir(parents=True, exist_ok=True)
    generate.run(config.generate_config())
    judge_candidates(config)
    return pairs.run(config.pairs_config())
