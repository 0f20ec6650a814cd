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

from pydantic import BaseModel, ConfigDict, Field

from socratic.preference import generate, pairs
from socratic.preference.generate import DEFAULT_BATCH_DIALOGUES
from socratic.progress import console
from socratic.scores import Formula


class PreferencesConfig(BaseModel):
    """Settings of `socratic preferences`: those of generate, judge and pairs together."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(min_length=1)
    split: str = "train"
    dedupe: bool = True
    limit: int | None = Field(default=None, ge=1)
    model: str = "embedded"
    k: int = Field(default=5, ge=1, le=64)
    judge: str = "rubric"
    out: Path
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    max_new_tokens: int = Field(default=128, ge=1, le=8192)
    seed: int = 0
    batch_dialogues: int = Field(default=DEFAULT_BATCH_DIALOGUES, ge=1, le=64)
    system_prompt: Path | None = None
    judge_concurrency: int = Field(default=4, ge=1, le=64)
    judge_max_tries: int = Field(default=3, ge=1, le=20)
    strategy: pairs.Strategy = "best-worst"
    min_chosen_score: float = Field(default=0.5, ge=0.0, le=1.0)
    min_margin: float = Field(default=0.05, ge=0.0, le=1.0)
    formula: Formula = "uniform"
    no_cache: bool = False
    overwrite: bool = False

    def generate_config(self) -> generate.GenerateConfig:
        fields = generate.GenerateConfig.model_fields.keys() - {"out"}
        return generate.GenerateConfig(out=self.out / "candidates.jsonl",
                                       **{f: getattr(self, f) for f in fields})

    def pairs_config(self) -> pairs.PairsConfig:
        return pairs.PairsConfig(judgments=self.out / "judgments.jsonl", out=self.out / "pairs.jsonl",
                                 strategy=self.strategy, min_chosen_score=self.min_chosen_score,
                                 min_margin=self.min_margin, formula=self.formula,
                                 system_prompt=self.system_prompt)


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
