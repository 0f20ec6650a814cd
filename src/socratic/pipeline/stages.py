"""`socratic run CONFIG.yaml`: the whole method in one command, into one run folder.

    socratic run configs/quickstart.yaml              # run (or resume, or skip what is done)
    socratic run configs/quickstart.yaml --dry-run    # print which stages would run and why
    socratic run configs/quickstart.yaml --force train:mathdial --force report

Stages, in order (X = each training dataset; one tuned model per training dataset, as in the paper):
    generate:X  k sampled candidates per training dialogue     RUN/prefs/X/candidates.jsonl
    judge:X     the reward judge scores every candidate         RUN/prefs/X/judgments.jsonl
    pairs:X     best vs worst candidate -> DPO pairs            RUN/prefs/X/pairs.jsonl + README.md
    train:X     DPO (LoRA) on those pairs                       RUN/models/X/ (hf:RUN/models/X loads it)
  with `sft:` set, a warm-up between pairs:X and train:X, and DPO starts from its model:
    sft:X       supervised fine-tuning on the chosen replies    RUN/models/X-sft/
                (or the teachers' turns: sft.data)
  with `pairs.teacher_share` > 0, teacher-anchored pairs (socratic.preference.teacher_pairs) before pairs:X:
    teachers:X          the training dataset's teacher turns (once)       RUN/prefs/X/teacher-dialogues.jsonl
    teacher-generate:X  the round's model's reply to each (k = 1)         RUN/prefs/X/teacher-candidates.jsonl
    teacher-judge:X     the reward judge scores replies and teachers      RUN/prefs/X/teacher-judgments.jsonl
    and pairs:X mixes them with the judge-ranked pairs at that share
  with `rounds: N` (iterative, on-policy DPO), rounds 2..N repeat these four on the same dialogues,
  sampling from the previous round's tuned model and training on from it:
    generate:X:r2, judge:X:r2, pairs:X:r2   RUN/prefs/X/round2/      train:X:r2   RUN/models/X-round2/
    evaluate    base, every tuned model (the last round's), the reference models on every test set, by
                every evaluation judge (eval_judges): the cross table (trained on X, tested on Y)   RUN/eval/
    agreement   the evaluation judges and the reward judge against human labels (only when `labels`
                is set)   RUN/agreement/
    report      RUN/report.html (self-contained) and RUN/report.md
The run folder also keeps config.resolved.yaml and timings.json (wall time and peak RSS per stage).
config.resolved.yaml is the config with every default filled in: its model is PipelineConfig, and
`socratic run RUN/config.resolved.yaml` runs it again. So it has no `version:` key (PipelineConfig refuses
unknown keys, and a config is an input, versioned by the socratic that reads it); its first line, a YAML
comment, names the socratic version that wrote it (`resolved_config_text`).
Skipping and resuming are `socratic.pipeline.runner`'s: a stage re-runs only when its config or its
inputs changed, or when forced.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel

from socratic.config import output_fields
from socratic.errors import SocraticError
from socratic.judge import files, judge_version
from socratic.pipeline.config import PipelineConfig, TrainSlice
from socratic.pipeline.runner import Decision, Runner, Stage
from socratic.progress import console
from socratic.render import load_system_prompt
from socratic.store.cache import content_key
from socratic.store.jsonl import write_text
from socratic.store.run_folder import (
    AGREEMENT,
    EVAL,
    REPORT_HTML,
    REPORT_MD,
    TIMINGS,
    model_folder,
    prefs_folder,
    sft_folder,
    slug,
)
from socratic.train.artifacts import FINISHED_MARKER

if TYPE_CHECKING:
    from socratic.preference.generate import GenerateConfig

# ------------------------------------------------------------------------------------- the stages

def _prompt_hash(config: PipelineConfig) -> str:
    return content_key(load_system_prompt(config.system_prompt))[:16]


# Output settings added after run folders already existed, with the value that does what came before: at
# that value a setting stays out of the manifest, so an older run folder does not re-run a stage (and all
# after it: re-pair, re-train) because a key appeared.
ADDED_LATER = {"chosen_asks_question": False, "teacher": True, "teacher_share": 0.0, "teacher_limit": None,
               "answer_key": False, "data": "chosen", "teacher_sources": None, "teacher_test_sets": None,
               "model_written": False, "skip_openings": False, "teacher_moves": None, "sft_weight": 0.0}


def output_settings(config: BaseModel, *, without: frozenset[str] = frozenset()) -> dict:
    """What a stage's manifest keeps of its config: the fields its model marks `Output[...]`, so a change to
    one re-runs the stage and a change to a cache switch, a batch size or a location does not."""
    settings = config.model_dump(mode="json", include=set(output_fields(type(config))) - without)
    return {key: value for key, value in settings.items()
            if not (key in ADDED_LATER and ADDED_LATER[key] == value)}


def judge_files(specs: list[str]) -> dict:
    """What a stage's manifest keeps of the saved judges it uses (`learned`, `pairwise`, with or without a path):
    the sha256 of each file, so a refitted judge re-runs the stages it judged (and, through their outputs,
    those after them). Nothing for judges without a file (rubric, qmark, llm:): their manifests keep the
    settings they always had."""
    found = files.fingerprint(specs)
    return {"judge_files": found} if found else {}


def judges_used(config: PipelineConfig, stages: list[str]) -> list[str]:
    """The judge specs the named stages load: judge:* and teacher-judge:* the reward judge, evaluate the
    evaluation judges, agreement both."""
    kinds = {name.split(":", 1)[0] for name in stages}
    used = [config.reward_judge] if kinds & {"judge", "teacher-judge", "agreement"} else []
    used += config.eval_judges if kinds & {"evaluate", "agreement"} else []
    return list(dict.fromkeys(used))


# The tutor prompt enters the pairs' and the evaluation's manifests by its content's hash (system_prompt_sha),
# not its path. generate's keeps the path as well, as its manifests always have; train's and sft's keep only
# the path (training.system_prompt).
BY_HASH = frozenset({"system_prompt"})


# ------------------------------------------------------------------------------------- the run folder

def stage_name(kind: str, dataset: str, round_number: int = 1) -> str:
    """`generate:mathdial` in round 1 (the names of a one-round run), `generate:mathdial:r2` after."""
    return f"{kind}:{dataset}" if round_number == 1 else f"{kind}:{dataset}:r{round_number}"


def tuned_model_folder(config: PipelineConfig, dataset: str) -> Path:
    """The model the evaluation calls tuned-<dataset>: the last round's."""
    return model_folder(config.run_dir, dataset, config.rounds)


def round_seed(seed: int, round_number: int) -> int:
    """The sampling seed of a round: the run's own in round 1, then one derived from it per round.

    Each round samples afresh from a new model; a seed of its own keeps its draws from reusing the
    random numbers of the round before (the cache keys include the model, not the round).
    """
    if round_number == 1:
        return seed
    return int(content_key("socratic.pipeline.round", seed, round_number)[:8], 16) & 0x7FFFFFFF


def generate_config(config: PipelineConfig, **where: Any) -> GenerateConfig:
    """A generate stage's config: the run's `generate:` section, its tutor prompt and answer key, and `where`
    (what, from which model, into which file; it wins over the section, as the teacher replies' k=1 does)."""
    from socratic.preference.generate import GenerateConfig

    return GenerateConfig(**{"system_prompt": config.system_prompt, "answer_key": config.answer_key,
                             **config.generate.model_dump(), **where})


def model_specs(config: PipelineConfig) -> dict[str, str]:
    """Evaluation models: the base, one tuned model per training dataset, then reference models."""
    models = {"base": config.model}
    models.update({f"tuned-{slug(s.source)}": f"hf:{tuned_model_folder(config, slug(s.source))}"
                   for s in config.datasets.train})
    models.update(config.reference_models)
    return models


# ------------------------------------------------------------------------------------- the stages

def build_stages(config: PipelineConfig) -> list[Stage]:
    from socratic.evaluate import evaluation as evaluate
    from socratic.report import build_report

    root, prompt = config.run_dir, _prompt_hash(config)
    stages: list[Stage] = []
    model_dirs = []
    for part in config.datasets.train:
        start = None  # the run's own model folder a round starts from; None: config.model
        for number in range(1, config.rounds + 1):
            stages += _round_stages(config, part, number, start, prompt)
            start = model_folder(root, slug(part.source), number)
        model_dirs.append(start)

    eval_config = evaluate.EvaluateConfig(
        models=model_specs(config), datasets=[t.source for t in config.datasets.test],
        splits={t.source: t.split for t in config.datasets.test},
        limits={t.source: t.limit for t in config.datasets.test if t.limit},
        limit=None, judges=config.eval_judges, training_judge=config.reward_judge,
        trained_on={f"tuned-{slug(s.source)}": s.source for s in config.datasets.train},
        out=root / EVAL, formula=config.formula, system_prompt=config.system_prompt, answer_key=config.answer_key,
        seed=config.seed, **config.evaluation.model_dump())
    stages.append(Stage(
        "evaluate", {**output_settings(eval_config, without=BY_HASH), "system_prompt_sha": prompt,
                     "judge_versions": [judge_version(j) for j in config.eval_judges],
                     **judge_files(config.eval_judges)},
        lambda fresh: _evaluate(eval_config, fresh),
        inputs=model_dirs, outputs=[root / EVAL / "evaluation.json"],
        upstream=[stage_name("train", slug(s.source), config.rounds) for s in config.datasets.train],
        own_process=True))

    report_inputs = [root / EVAL / "evaluation.json", root / EVAL / "replies.jsonl"]
    report_inputs += [d / "metrics.jsonl" for d in model_dirs]
    if config.labels is not None:
        from socratic.agreement import measure as agreement

        judges = list(dict.fromkeys([*config.eval_judges, config.reward_judge]))
        agreement_config = agreement.AgreementConfig(labels=config.labels, judges=judges, out=root / AGREEMENT,
                                                     formula=config.formula, seed=config.seed)
        stages.append(Stage("agreement", {**output_settings(agreement_config),
                                          "judge_versions": [judge_version(j) for j in judges],
                                          **judge_files(judges)},
                            lambda fresh: agreement.run(agreement_config), inputs=[config.labels],
                            outputs=[root / AGREEMENT / "agreement.json"]))
        report_inputs.append(root / AGREEMENT / "agreement.json")
    stages.append(Stage(
        "report", {"examples": config.report_examples, "name": config.name, "reward_judge": config.reward_judge},
        lambda fresh: build_report(root, title=f"socratic run: {config.name}", examples_per_dataset=config.report_examples),
        inputs=report_inputs, outputs=[root / REPORT_HTML, root / REPORT_MD],
        upstream=["evaluate", "agreement"]))
    return stages


def _round_stages(config: PipelineConfig, part: TrainSlice, number: int, start: Path | None,
                  prompt: str) -> list[Stage]:
    """generate, judge, pairs and train of one training dataset in one round (and, before round 1's DPO,
    the `sft:` warm-up).

    Every round uses the same training dialogues (the on-policy loop: the policy's own replies to the
    same conversations, re-judged); round r > 1 samples from round r-1's tuned model, with a seed of
    its own, and DPO starts from that model, which is also its reference model. Round 1 samples from the
    run's model, or from the warm-up with `sft.sample_from_warm_up` (then round 1 is on-policy too).
    """
    from socratic.preference import generate, pairs
    from socratic.train import dpo as train

    root, name = config.run_dir, slug(part.source)
    prefs, out = prefs_folder(root, name, number), model_folder(root, name, number)
    candidates, judgments, pair_file = prefs / "candidates.jsonl", prefs / "judgments.jsonl", prefs / "pairs.jsonl"
    policy = config.model if start is None else f"hf:{start}"
    weights = [] if start is None else [start]  # the starting model, when the run made it: an input
    previous = [] if number == 1 else [stage_name("train", name, number - 1)]
    train_config = train.TrainConfig(pairs=pair_file, out=out, model=policy, seed=config.seed,
                                     **config.training.model_dump())
    warm_up = _warm_up_stage(config, part, train_config) if config.sft is not None and number == 1 else None
    on_policy = warm_up is not None and config.sft.sample_from_warm_up
    sampled, sampled_from, trained_from = policy, weights, weights
    if warm_up is not None:  # DPO starts from the warmed-up model, which is also its reference
        warmed = sft_folder(root, name)
        train_config = train_config.model_copy(update={"model": f"hf:{warmed}"})
        trained_from = [warmed]
        if on_policy:
            sampled, sampled_from = f"hf:{warmed}", [warmed]
    stages = [warm_up] if on_policy else []
    gen = generate_config(config, dataset=part.source, split=part.split, limit=part.limit, model=sampled,
                          out=candidates, seed=round_seed(config.seed, number))
    stages.append(Stage(
        stage_name("generate", name, number),
        {**output_settings(gen), "system_prompt_sha": prompt},
        lambda fresh, gen=gen: generate.run(gen.model_copy(update={"overwrite": fresh})),
        inputs=sampled_from, outputs=[candidates], upstream=[warm_up.name] if on_policy else previous,
        own_process=True))
    stages.append(Stage(
        stage_name("judge", name, number),
        {"judge": config.reward_judge, "judge_version": judge_version(config.reward_judge),
         "max_tries": config.judge_max_tries, **judge_files([config.reward_judge])},
        lambda fresh, c=candidates, j=judgments: _judge(config, c, j),
        inputs=[candidates], outputs=[judgments], upstream=[stage_name("generate", name, number)]))
    pair_inputs, pair_upstream, teacher_judgments = [judgments], [stage_name("judge", name, number)], None
    if config.pairs.teacher_share > 0:
        teacher = _teacher_stages(config, part, number, sampled, sampled_from, previous)
        stages += teacher
        teacher_judgments = teacher[-1].outputs[0]
        pair_inputs.append(teacher_judgments)
        pair_upstream.append(teacher[-1].name)
    pair_config = pairs.PairsConfig(judgments=judgments, out=pair_file, formula=config.formula,
                                    system_prompt=config.system_prompt, answer_key=config.answer_key,
                                    teacher_judgments=teacher_judgments, **config.pairs.model_dump())
    stages.append(Stage(
        stage_name("pairs", name, number),
        {**output_settings(pair_config, without=BY_HASH), "system_prompt_sha": prompt},
        lambda fresh, p=pair_config: _pairs(p),
        inputs=pair_inputs, outputs=[pair_file], upstream=pair_upstream))
    if warm_up is not None and not on_policy:
        stages.append(warm_up)
    stages.append(Stage(
        stage_name("train", name, number), output_settings(train_config),
        lambda fresh, t=train_config: _train(t, name, fresh),
        inputs=[pair_file, *trained_from], outputs=[out / FINISHED_MARKER],
        upstream=[stage_name("pairs", name, number), *([warm_up.name] if warm_up else []), *previous],
        own_process=True))
    return stages


def _warm_up_stage(config: PipelineConfig, part: TrainSlice, dpo: Any) -> Stage:
    """The `sft:` warm-up before round 1's DPO (`dpo`, whose adapter and length budget it shares)."""
    from socratic.train import sft

    name = slug(part.source)
    warm_up = sft.warm_up_config(config.sft, dpo, sft_folder(config.run_dir, name), dataset=part.source,
                                 answer_key=config.answer_key)
    # One that reads no pair (the teachers' turns alone) does not wait for them: a new reward leaves it be.
    return Stage(stage_name("sft", name), output_settings(warm_up),
                 lambda fresh, w=warm_up: _warm_up(w, name, fresh),
                 inputs=[dpo.pairs] if warm_up.reads_pairs else [], outputs=[warm_up.out / FINISHED_MARKER],
                 upstream=[stage_name("pairs", name, 1)] if warm_up.reads_pairs else [], own_process=True)


def _teacher_stages(config: PipelineConfig, part: TrainSlice, number: int, policy: str, weights: list[Path],
                    previous: list[str]) -> list[Stage]:
    """Teacher-anchored pairs' inputs (socratic.preference.teacher_pairs): the teacher turns of the training
    dataset (once, round 1's folder), the round's model's reply to each (k=1: on-policy every round), and
    the reward judge's scores of both."""
    from socratic.preference import generate, teacher_pairs

    name = slug(part.source)
    sources = teacher_pairs.sources_of(part.source)  # refuses a dataset without teachers before any work
    first, prefs = prefs_folder(config.run_dir, name), prefs_folder(config.run_dir, name, number)
    dialogues = first / "teacher-dialogues.jsonl"
    candidates, judgments = prefs / "teacher-candidates.jsonl", prefs / "teacher-judgments.jsonl"
    stages = []
    if number == 1:
        settings = {"sources": list(sources), "limit": config.pairs.teacher_limit, "seed": config.seed}
        stages.append(Stage(
            stage_name("teachers", name), settings,
            lambda fresh: _write_teacher_dialogues(dialogues, sources, config.pairs.teacher_limit, config.seed),
            outputs=[dialogues]))
    gen = generate_config(config, dataset=str(dialogues), split="train", model=policy, out=candidates,
                          seed=round_seed(config.seed, number), k=1, dedupe=False)  # a context per alternative turn too
    stages.append(Stage(
        stage_name("teacher-generate", name, number), {**output_settings(gen), "system_prompt_sha": _prompt_hash(config)},
        lambda fresh, gen=gen: generate.run(gen.model_copy(update={"overwrite": fresh})),
        inputs=[dialogues, *weights], outputs=[candidates], upstream=[stage_name("teachers", name), *previous],
        own_process=True))
    stages.append(Stage(
        stage_name("teacher-judge", name, number),
        {"judge": config.reward_judge, "judge_version": judge_version(config.reward_judge),
         "max_tries": config.judge_max_tries, **judge_files([config.reward_judge])},
        lambda fresh: _judge_teachers(config, dialogues, candidates, judgments),
        inputs=[dialogues, candidates], outputs=[judgments], upstream=[stage_name("teacher-generate", name, number)]))
    return stages


def _write_teacher_dialogues(path: Path, sources: tuple[str, ...], limit: int | None, seed: int) -> None:
    from socratic.preference import teacher_pairs
    from socratic.store.jsonl import write_jsonl

    write_jsonl(path, teacher_pairs.teacher_dialogues(sources, limit=limit, seed=seed))


def _judge_teachers(config: PipelineConfig, dialogues: Path, candidates: Path, judgments: Path) -> None:
    """The reward judge scores the model's replies and the teachers' turns, side by side in one file."""
    from socratic.preference import teacher_pairs
    from socratic.records import Candidate, Dialogue
    from socratic.store.jsonl import read_jsonl, write_jsonl

    both = candidates.with_name("teacher-and-model-candidates.jsonl")
    write_jsonl(both, [*read_jsonl(candidates, Candidate),
                       *teacher_pairs.teacher_candidates(read_jsonl(dialogues, Dialogue))])
    _judge(config, both, judgments)


def _pairs(pair_config) -> None:
    from socratic.preference import pairs, teacher_pairs

    (teacher_pairs.run if pair_config.teacher_judgments is not None else pairs.run)(pair_config)


def _judge(config: PipelineConfig, candidates: Path, judgments: Path) -> None:
    from socratic.judge import stage

    # Judgments are cached as they arrive, so an interrupted stage resumes at no cost.
    settings = stage.JudgeConfig(input=candidates, output=judgments, judge=config.reward_judge,
                                 max_tries=config.judge_max_tries, concurrency=config.judge_concurrency,
                                 formula=config.formula)
    stage.print_summary(stage.run(settings), config.reward_judge, config.formula, console)


def _require_pairs(pairs: Path, name: str) -> None:
    from socratic.records import PairRecord
    from socratic.store.jsonl import read_jsonl

    if not read_jsonl(pairs, PairRecord):
        raise SocraticError(f"{pairs}: no preference pairs for {name} (every dialogue was dropped; "
                            "see the README.md next to it). Use more training dialogues, a larger k, or a lower "
                            "pairs.min_chosen_score / pairs.min_margin")


def _train(train_config, name: str, fresh: bool) -> None:
    _require_pairs(train_config.pairs, name)
    from socratic.train import dpo as train

    if fresh:
        # Only this stage's own folder, and only when it must be redone (forced, or config/input changed).
        shutil.rmtree(train_config.out, ignore_errors=True)
    elif train.is_finished(train_config.out):
        return  # interrupted after training finished but before the stage's manifest was written

    train.run(train_config.model_copy(update={"resume": not fresh}))


def _warm_up(warm_up, name: str, fresh: bool) -> None:
    from socratic.train import dpo as train
    from socratic.train import sft

    if warm_up.reads_pairs:
        _require_pairs(warm_up.pairs, name)
    if not fresh and train.is_finished(warm_up.out):
        return  # interrupted after the warm-up finished but before the stage's manifest was written
    shutil.rmtree(warm_up.out, ignore_errors=True)  # no checkpoints: an unfinished warm-up starts again
    sft.run(warm_up)


def _evaluate(eval_config, fresh: bool) -> None:
    from socratic.evaluate import evaluation as evaluate

    # Always incremental, fresh or not: replies are keyed by the model folder's version and the
    # settings, judgments by reply text, so only what a change touched is produced again. The runner
    # decided that this evaluation is to be redone: the folder's evaluation.json is the run's to replace.
    evaluate.run(eval_config.model_copy(update={"overwrite": True}))


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


def _print_headline(path: Path) -> None:
    from socratic.evaluate.result import Evaluation
    from socratic.report.headline import print_headline

    if path.exists():
        print_headline(Evaluation.read(path), console)


def resolved_config_text(config: PipelineConfig, root: Path) -> str:
    """config.resolved.yaml: the config as PipelineConfig reads it, under a comment naming its writer."""
    from socratic import __version__

    resolved = config.model_dump(mode="json")
    resolved["out"] = str(root)
    return (f"# written by socratic {__version__}: the run config with every default filled in "
            f"(socratic.pipeline.config.PipelineConfig); `socratic run` this file to run it again\n"
            + yaml.safe_dump(resolved, sort_keys=False))


def run_stage(config: PipelineConfig, name: str, fresh: bool) -> None:
    """Run the stage `name` of `config`'s pipeline here (in the process `own_process` started for it)."""
    stage = next(stage for stage in build_stages(config) if stage.name == name)
    stage.action(fresh)


def run(config: PipelineConfig, *, force: list[str] | tuple[str, ...] = (), dry_run: bool = False,
        own_processes: bool = False) -> Path:
    """Run (or plan) the pipeline; returns the report path. `own_processes`: each stage that loads a model
    runs in a process of its own (socratic.pipeline.own_process; `socratic run` does), so that its memory
    goes back to the system when it ends."""
    from functools import partial

    from socratic.pipeline import own_process, preflight

    preflight.check_inputs(config)  # the dry run too: no machine can provide a missing dataset
    root = config.run_dir
    source = own_process.source_fingerprint()  # a stage's own process warns when the code changed since
    elsewhere = partial(own_process.run, run_stage, config, source=source) if own_processes else None
    runner = Runner(root, build_stages(config), force, elsewhere)
    decisions = runner.plan()
    print_plan(decisions)
    needs = preflight.needs(config, [d.stage for d in decisions if d.run])
    report = root / REPORT_HTML
    if dry_run:
        preflight.print_needs(needs, console)
        console.print(f"dry run: nothing was run. Run folder: {root}")
        return report
    preflight.require(needs, f"run {config.name!r}")  # before anything is written
    # A default judge that is missing (or stale) is fitted now rather than inside its first stage, so that the
    # manifests keep the hash of the file that judged and the next run finds it unchanged.
    if files.prepare_defaults(judges_used(config, [d.stage for d in decisions if d.run])):
        runner = Runner(root, build_stages(config), force, elsewhere)
    root.mkdir(parents=True, exist_ok=True)
    write_text(root / "config.resolved.yaml", resolved_config_text(config, root))
    record = runner.execute(root / TIMINGS)
    _print_headline(root / EVAL / "evaluation.json")
    console.print(f"total {record.total_wall_s:.0f} s; timings in {root / TIMINGS}")
    console.print(f"[bold]report:[/] {report}  (and {root / 'report.md'})")
    return report
