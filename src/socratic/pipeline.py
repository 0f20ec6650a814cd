"""`socratic run CONFIG.yaml`: the whole method in one command, into one run folder.

    socratic run configs/quickstart.yaml              # run (or resume, or skip what is done)
    socratic run configs/quickstart.yaml --dry-run    # print which stages would run and why
    socratic run configs/quickstart.yaml --force train:mathdial --force report

Stages, in order (X = each training dataset; one tuned model per training dataset, as in the paper):
    generate:X  k sampled candidates per training dialogue     RUN/prefs/X/candidates.jsonl
    judge:X     the training judge scores every candidate       RUN/prefs/X/judgments.jsonl
    pairs:X     best vs worst candidate -> DPO pairs            RUN/prefs/X/pairs.jsonl + README.md
    train:X     DPO (LoRA) on those pairs                       RUN/models/X/ (hf:RUN/models/X loads it)
    evaluate    base, every tuned model and the reference models on every test set, by the
                evaluation judges: the cross table (trained on X, tested on Y)   RUN/eval/
    agreement   the evaluation judges against human labels (only when `labels` is set)   RUN/agreement/
    report      RUN/report.html (self-contained) and RUN/report.md
The run folder also keeps config.resolved.yaml and timings.json (wall time and peak RSS per stage).
Skipping and resuming are `socratic.stage_runner`'s: a stage re-runs only when its config or its
inputs changed, or when forced.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from socratic.backends import parse_spec
from socratic.cache import content_key
from socratic.config import load_config
from socratic.errors import SocraticError
from socratic.generate import DEFAULT_BATCH_DIALOGUES
from socratic.progress import console
from socratic.render import load_system_prompt
from socratic.scores import Formula
from socratic.stage_runner import Decision, Runner, Stage

KNOWN_SOURCES = ("mathdial", "debugging", "tutorchat", "mathdial-raw", "debugging-raw")
PIPELINE_SET = {"pairs", "out", "model", "resume", "seed"}  # TrainConfig fields the pipeline fills itself


class TrainSlice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    split: str = "train"
    limit: int | None = Field(default=None, ge=1)


class TestSlice(TrainSlice):
    split: str = "test"


class Datasets(BaseModel):
    model_config = ConfigDict(extra="forbid")
    train: list[TrainSlice] = Field(min_length=1)
    test: list[TestSlice] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Datasets:
        for kind, slices in (("train", self.train), ("test", self.test)):
            keys = [slug(s.source) for s in slices]
            if len(set(keys)) != len(keys):
                raise ValueError(f"{kind}: each dataset may appear once ({', '.join(keys)})")
        return self


class GenerateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    k: int = Field(default=5, ge=2, le=64)
    temperature: float = Field(default=1.0, gt=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    max_new_tokens: int = Field(default=128, ge=1, le=8192)
    batch_dialogues: int = Field(default=DEFAULT_BATCH_DIALOGUES, ge=1, le=64)


class PairSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strategy: Literal["best-worst", "all-pairs"] = "best-worst"
    min_chosen_score: float = Field(default=0.5, ge=0.0, le=1.0)
    min_margin: float = Field(default=0.05, ge=0.0, le=1.0)


class EvaluationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    judges: list[str] = Field(default_factory=lambda: ["rubric"], min_length=1)
    max_new_tokens: int = Field(default=200, ge=1, le=8192)
    batch_size: int = Field(default=8, ge=1, le=256)
    n_resamples: int = Field(default=4000, ge=100)

    @field_validator("judges")
    @classmethod
    def _judges(cls, judges: list[str]) -> list[str]:
        for spec in judges:
            check_judge_spec(spec)
        return judges


class PipelineConfig(BaseModel):
    """Everything `socratic run` needs; see configs/quickstart.yaml for a commented example."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="run", pattern=r"^[A-Za-z0-9_.-]+$")
    out: Path | None = None  # default runs/<name>
    model: str = "embedded"
    system_prompt: Path | None = None
    seed: int = 0
    formula: Formula = "uniform"
    datasets: Datasets
    generate: GenerateSettings = Field(default_factory=GenerateSettings)
    judge: str = "rubric"  # ranks the training candidates
    judge_concurrency: int = Field(default=4, ge=1, le=64)
    judge_max_tries: int = Field(default=3, ge=1, le=20)
    pairs: PairSettings = Field(default_factory=PairSettings)
    training: dict[str, Any] = Field(default_factory=dict)  # TrainConfig fields (lora, epochs, beta, ...)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    reference_models: dict[str, str] = Field(default_factory=dict)  # name -> spec, prompt-only
    labels: Path | None = None  # human-labelled replies -> the agreement stage
    report_examples: int = Field(default=2, ge=0, le=20)
    # A guard, not a device switch: a run that only makes sense on a GPU refuses to start without one.
    requires_gpu: bool = False

    @field_validator("model")
    @classmethod
    def _trainable(cls, spec: str) -> str:
        kind, _ = parse_spec(_spec_or_value_error(spec))
        if kind not in ("embedded", "hf"):
            raise ValueError(f"{spec!r} cannot be trained: use embedded or hf:PATH (reference_models takes "
                             "API models)")
        return spec

    @field_validator("judge")
    @classmethod
    def _judge(cls, spec: str) -> str:
        return check_judge_spec(spec)

    @field_validator("reference_models")
    @classmethod
    def _references(cls, models: dict[str, str]) -> dict[str, str]:
        for name, spec in models.items():
            if name == "base" or name.startswith("tuned-") or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
                raise ValueError(f"reference model name {name!r}: use letters, digits, '-', '_', '.', "
                                 "and not 'base' or 'tuned-*'")
            parse_spec(_spec_or_value_error(spec))
        return models

    @field_validator("training")
    @classmethod
    def _training(cls, training: dict[str, Any]) -> dict[str, Any]:
        from socratic.train import TrainConfig

        clash = sorted(PIPELINE_SET & set(training))
        if clash:
            raise ValueError(f"{', '.join(clash)}: set by the pipeline, not under training")
        try:
            TrainConfig(pairs=Path("pairs.jsonl"), out=Path("model"), **training)
        except ValidationError as error:
            raise ValueError("; ".join(f"{'.'.join(map(str, e['loc'])) or '(training)'}: {e['msg']}"
                                       for e in error.errors())) from None
        return training

    @field_validator("labels", mode="before")
    @classmethod
    def _data_path(cls, value: Any) -> Any:
        # "data:socratic_llm/x.json" = a file in the shared dataset folder, wherever it is on this machine.
        if isinstance(value, str) and value.startswith("data:"):
            from socratic.data.location import data_dir

            try:
                return data_dir() / value[5:]
            except SocraticError as error:
                raise ValueError(str(error)) from None
        return value

    @field_validator("labels", "system_prompt")
    @classmethod
    def _exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.exists():
            raise ValueError(f"file not found: {path}")
        return path

    @property
    def run_dir(self) -> Path:
        return (self.out or Path("runs") / self.name).resolve()


def _spec_or_value_error(spec: str) -> str:
    try:
        parse_spec(spec)
    except SocraticError as error:
        raise ValueError(str(error)) from None
    return spec


def check_judge_spec(spec: str) -> str:
    if spec == "rubric":
        return spec
    if spec.startswith("llm:"):
        _spec_or_value_error(spec[4:])
        return spec
    raise ValueError(f"unknown judge {spec!r}; expected rubric or llm:<model spec>")


def slug(source: str) -> str:
    """A folder-safe name for a data source (a path becomes its file stem)."""
    if source in KNOWN_SOURCES:
        return source
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(source).stem) or "data"


def load(path: str | Path, overrides: dict[str, Any] | None = None) -> PipelineConfig:
    return load_config(PipelineConfig, path, overrides)


# ------------------------------------------------------------------------------------- the stages

def _prompt_hash(config: PipelineConfig) -> str:
    return content_key(load_system_prompt(config.system_prompt))[:16]


def model_specs(config: PipelineConfig) -> dict[str, str]:
    """Evaluation models: the base, one tuned model per training dataset, then reference models."""
    root = config.run_dir
    models = {"base": config.model}
    models.update({f"tuned-{slug(s.source)}": f"hf:{root / 'models' / slug(s.source)}" for s in config.datasets.train})
    models.update(config.reference_models)
    return models


def build_stages(config: PipelineConfig) -> list[Stage]:
    from socratic import evaluate, generate, pairs, train
    from socratic.report import build_report

    root, prompt = config.run_dir, _prompt_hash(config)
    stages: list[Stage] = []
    model_dirs = []
    for part in config.datasets.train:
        name, prefs = slug(part.source), root / "prefs" / slug(part.source)
        candidates, judgments, pair_file, model_dir = (prefs / "candidates.jsonl", prefs / "judgments.jsonl",
                                                       prefs / "pairs.jsonl", root / "models" / slug(part.source))
        model_dirs.append(model_dir)
        gen = generate.GenerateConfig(dataset=part.source, split=part.split, limit=part.limit, model=config.model,
                                      out=candidates, seed=config.seed, system_prompt=config.system_prompt,
                                      **config.generate.model_dump())
        stages.append(Stage(
            f"generate:{name}", {**gen.model_dump(mode="json", exclude={"out", "overwrite", "no_cache", "concurrency"}),
                                 "system_prompt_sha": prompt},
            lambda fresh, gen=gen: generate.run(gen.model_copy(update={"overwrite": fresh})),
            outputs=[candidates]))
        stages.append(Stage(
            f"judge:{name}", {"judge": config.judge, "max_tries": config.judge_max_tries},
            lambda fresh, c=candidates, j=judgments: _judge(config, c, j),
            inputs=[candidates], outputs=[judgments], upstream=[f"generate:{name}"]))
        pair_config = pairs.PairsConfig(judgments=judgments, out=pair_file, formula=config.formula,
                                        system_prompt=config.system_prompt, **config.pairs.model_dump())
        stages.append(Stage(
            f"pairs:{name}", {**pair_config.model_dump(mode="json", exclude={"judgments", "out", "system_prompt"}),
                              "system_prompt_sha": prompt},
            lambda fresh, p=pair_config: pairs.run(p),
            inputs=[judgments], outputs=[pair_file], upstream=[f"judge:{name}"]))
        train_config = train.TrainConfig(pairs=pair_file, out=model_dir, model=config.model, seed=config.seed,
                                         **config.training)
        stages.append(Stage(
            f"train:{name}", train_config.model_dump(mode="json", exclude={"pairs", "out", "resume"}),
            lambda fresh, t=train_config, n=name: _train(t, n, fresh),
            inputs=[pair_file], outputs=[model_dir / "train_summary.json"], upstream=[f"pairs:{name}"]))

    eval_config = evaluate.EvaluateConfig(
        models=model_specs(config), datasets=[t.source for t in config.datasets.test],
        splits={t.source: t.split for t in config.datasets.test},
        limits={t.source: t.limit for t in config.datasets.test if t.limit},
        limit=None, judges=config.evaluation.judges, training_judge=config.judge,
        trained_on={f"tuned-{slug(s.source)}": s.source for s in config.datasets.train},
        out=root / "eval", formula=config.formula, system_prompt=config.system_prompt, seed=config.seed,
        max_new_tokens=config.evaluation.max_new_tokens, batch_size=config.evaluation.batch_size,
        n_resamples=config.evaluation.n_resamples)
    stages.append(Stage(
        # batch_size changes how replies are computed, not what they are: not part of the hash.
        "evaluate", {**eval_config.model_dump(mode="json", exclude={"out", "system_prompt", "no_cache", "batch_size",
                                                          "concurrency"}),
                     "system_prompt_sha": prompt},
        lambda fresh: _evaluate(eval_config, fresh),
        inputs=model_dirs, outputs=[root / "eval" / "evaluation.json"],
        upstream=[f"train:{slug(s.source)}" for s in config.datasets.train]))

    report_inputs = [root / "eval" / "evaluation.json", root / "eval" / "replies.jsonl"]
    report_inputs += [d / "metrics.jsonl" for d in model_dirs]
    if config.labels is not None:
        from socratic import agreement

        judges = list(dict.fromkeys([*config.evaluation.judges, config.judge]))
        agreement_config = agreement.AgreementConfig(labels=config.labels, judges=judges, out=root / "agreement",
                                                     formula=config.formula, seed=config.seed)
        stages.append(Stage("agreement", agreement_config.model_dump(mode="json", exclude={"out", "no_cache"}),
                            lambda fresh: agreement.run(agreement_config), inputs=[config.labels],
                            outputs=[root / "agreement" / "agreement.json"]))
        report_inputs.append(root / "agreement" / "agreement.json")
    stages.append(Stage(
        "report", {"examples": config.report_examples, "name": config.name, "judge": config.judge},
        lambda fresh: build_report(root, title=f"socratic run: {config.name}", examples_per_dataset=config.report_examples),
        inputs=report_inputs, outputs=[root / "report.html", root / "report.md"],
        upstream=["evaluate", "agreement"]))
    return stages


def _judge(config: PipelineConfig, candidates: Path, judgments: Path) -> None:
    from socratic.judge import stage

    # Judgments are cached as they arrive, so an interrupted stage resumes at no cost.
    settings = stage.JudgeConfig(input=candidates, output=judgments, judge=config.judge,
                                 max_tries=config.judge_max_tries, concurrency=config.judge_concurrency,
                                 formula=config.formula)
    stage.print_summary(stage.run(settings), config.judge, config.formula, console)


def _train(train_config, name: str, fresh: bool) -> None:
    from socratic.pairs import load_pairs

    if not load_pairs(train_config.pairs):
        raise SocraticError(f"{train_config.pairs}: no preference pairs for {name} (every dialogue was dropped; "
                            "see the README.md next to it). Use more training dialogues, a larger k, or a lower "
                            "pairs.min_chosen_score / pairs.min_margin")
    from socratic import train

    if fresh:
        # Only this stage's own folder, and only when it must be redone (forced, or config/input changed).
        shutil.rmtree(train_config.out, ignore_errors=True)
    elif train.is_finished(train_config.out):
        return  # interrupted after training finished but before the stage's manifest was written

    train.run(train_config.model_copy(update={"resume": not fresh}))


def _evaluate(eval_config, fresh: bool) -> None:
    from socratic import evaluate

    # Always incremental, fresh or not: replies are keyed by the model folder's version and the
    # settings, judgments by reply text, so only what a change touched is produced again.
    evaluate.run(eval_config)


# ------------------------------------------------------------------------------------- run

def print_plan(decisions: list[Decision]) -> None:
    from rich.table import Table

    table = Table(title="plan")
    table.add_column("stage")
    table.add_column("action")
    table.add_column("why")
    for d in decisions:
        action = ("[yellow]resume[/]" if not d.fresh else "[green]run[/]") if d.run else "[dim]skip[/]"
        table.add_row(d.stage, action, d.reason)
    console.print(table)


def run(config: PipelineConfig, *, force: list[str] | tuple[str, ...] = (), dry_run: bool = False) -> Path:
    """Run (or plan) the pipeline; returns the report path."""
    root = config.run_dir
    runner = Runner(root, build_stages(config), force)
    decisions = runner.plan()
    print_plan(decisions)
    from socratic import preflight

    needs = preflight.needs(config, [d.stage for d in decisions if d.run])
    report = root / "report.html"
    if dry_run:
        preflight.print_needs(needs, console)
        console.print(f"dry run: nothing was run. Run folder: {root}")
        return report
    preflight.require(needs, f"run {config.name!r}")  # before anything is written
    root.mkdir(parents=True, exist_ok=True)
    resolved = config.model_dump(mode="json")
    resolved["out"] = str(root)
    (root / "config.resolved.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False), "utf-8")
    record = runner.execute(root / "timings.json")
    console.print(f"total {record['total_wall_s']:.0f} s; timings in {root / 'timings.json'}")
    console.print(f"[bold]report:[/] {report}  (and {root / 'report.md'})")
    return report
