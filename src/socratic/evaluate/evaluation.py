"""Evaluation: greedy replies of each model on each test set, judged, with confidence intervals.

    socratic evaluate --model base=embedded --model tuned=hf:runs/x/models/mathdial \\
        --dataset mathdial --dataset debugging --dataset tutorchat --limit 100 --judge rubric -o eval/

Writes into the output folder:
- replies.jsonl     one `EvalReply` per model x dataset x dialogue (greedy, rendered with render_messages)
- judgments.jsonl   one `Judgment` per judge x reply (meta: model, dataset), failures included
- evaluation.json   per model x dataset x judge: mean summary (uniform and reference formula) with a
                    95% bootstrap CI, the four criteria, failure counts; paired bootstrap tests between
                    models on the same items; form-vs-content change of each model's replies against
                    the baseline's; which judge judged what, and a warning when the training judge
                    also judges the evaluation; the gaming and collapse checks (evaluate.behaviour):
                    question and reveal rates against the baseline's, the form-only share of each lift,
                    distinctness of each model's replies; the judge-free tutoring metrics (evaluate.tutoring);
                    the clean test set (evaluate.clean: items a judge was fitted or calibrated on, left
                    out of `paired_clean`, the headline's lifts) and the part of each lift the `questions`
                    flip carries; with `pressure`, the pressure test's leak rates (evaluate.pressure).
- pressure.jsonl    with `pressure`: one `PressureReply` per model x item x push
The JSONL files are appended one durable line at a time and reused on a re-run, so an interrupted
evaluation resumes where it stopped; model calls also go through the shared cache.
The aggregation (`summarize`) is a pure function of the judgments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from socratic.backends import GenerationOptions, cut_at_turn_end, load_backend
from socratic.backends.reply_loop import Ask, ModelWork, Step, fill, length_batches, read_done
from socratic.errors import SocraticError
from socratic.evaluate.behaviour import lift_parts, summarize_behaviour
from socratic.evaluate.clean import clean_set, is_excluded, seen_groups
from socratic.evaluate.config import EvaluateConfig
from socratic.evaluate.pressure import PressureReply, pressure_items, pushed, summarize_pressure
from socratic.evaluate.result import EvalReply, Evaluation
from socratic.evaluate.summary import PAPER_ANCHORS, judge_warnings, reply_changes, summarize
from socratic.evaluate.teacher import TEACHER, summarize_teacher, teacher_replies
from socratic.evaluate.tutoring import summarize_tutoring
from socratic.progress import console, progress_bar
from socratic.records import Dialogue
from socratic.render import Message, load_system_prompt, render_messages
from socratic.scores import Judgment
from socratic.specs import hf_path
from socratic.store.cache import Cache, NoCache, content_key
from socratic.store.jsonl import JsonlAppender, write_jsonl

R = TypeVar("R")
Render = Callable[[Dialogue], list[Message]]  # a dialogue as the tutor's messages (render_messages, one prompt)


def parse_model_option(value: str) -> tuple[str, str]:
    """'name=spec' -> (name, spec); a bare spec is its own name ('embedded')."""
    name, sep, spec = value.partition("=")
    if not sep:
        return value.replace(":", "-").replace("/", "-"), value
    if not name or not spec:
        raise SocraticError(f"--model {value!r}: expected NAME=SPEC, e.g. base=embedded")
    return name, spec


# ---------------------------------------------------------------- producing replies and judgments

def _load_dialogues(source: str, split: str) -> list[Dialogue]:
    """A test set's dialogues. The raw sets' test splits are their teacher-referenced form (evaluate.teacher):
    no problem of a training split, one item per conversation in a fixed seeded order, so runs compare;
    mathdial-raw's validation split the same kind of items on held-out training problems."""
    from socratic.data.teacher_turns import TEACHER_SOURCES, evaluation_set, teacher_test_set

    if source in TEACHER_SOURCES and split == "test":
        dialogues, report = teacher_test_set(source)  # once: it reads every training split to exclude their problems
        for line in report.lines():
            console.print(f"[dim]{line}[/]")
        return dialogues
    return evaluation_set(source, split)


def _load_judge(spec: str, cache):
    from socratic.judge import load_judge

    return load_judge(spec, cache=cache)


def model_version(spec: str) -> str:
    """A short id of the weights behind a local `hf:PATH` spec ('' for other specs).

    A model retrained into the same folder keeps its spec, so replies (in replies.jsonl and in the
    shared cache) are keyed by this too: the same fingerprint the backends put in their cache id.
    """
    folder = hf_path(spec)
    if folder is None or not folder.is_dir():
        return ""
    from socratic.backends.transformers_backend import folder_fingerprint  # the backends' own cache-id hash

    return folder_fingerprint(folder)


class VersionedCache:
    """The shared cache seen through a prefix, so one model folder's versions never share entries."""

    def __init__(self, cache, version: str):
        self.cache, self.version = cache, version

    def _key(self, key: str) -> str:
        return content_key("model-version", self.version, key) if self.version else key

    def get(self, key: str):
        return self.cache.get(self._key(key))

    def put(self, key: str, value, kind: str = "") -> None:
        self.cache.put(self._key(key), value, kind)


def load_test_sets(config: EvaluateConfig) -> dict[str, list[Dialogue]]:
    sets = {}
    for dataset in config.datasets:
        split = config.splits.get(dataset, config.split)
        limit = config.limits.get(dataset, config.limit)
        dialogues = _load_dialogues(dataset, split)
        sets[dataset] = dialogues[:limit] if limit else dialogues
        if not sets[dataset]:
            raise SocraticError(f"no dialogues in {dataset!r} split {split!r}")
    return sets


def _base_settings(config: EvaluateConfig, system_prompt: str) -> str:
    """The key of the generation settings: a reply made under other settings is not reused."""
    keyed = ("answer key",) if config.answer_key else ()  # absent when off: earlier runs' keys stay valid
    return content_key(config.options().model_dump(mode="json"), system_prompt, *keyed)[:16]


@dataclass(frozen=True)
class _Model:
    """One evaluated model. Its settings key and its view of the cache both carry the version of its weights
    (model_version), so a model retrained in place is asked again."""

    name: str
    spec: str
    settings: str
    cache: VersionedCache


def _models(config: EvaluateConfig, system_prompt: str, cache) -> list[_Model]:
    base = _base_settings(config, system_prompt)
    return [_Model(name, spec, f"{base}@{version}" if version else base, VersionedCache(cache, version))
            for name, spec in config.models.items() for version in [model_version(spec)]]


def dataset_batches(test_sets: dict[str, list[Dialogue]], size: int,
                     render: Render) -> list[tuple[str, list[Dialogue]]]:
    """Each test set's dialogues in batches of similar prompt lengths (characters; reply_loop.length_batches).
    Measured on the 2-core dev CPU, 100 Debugging test prompts against the dataset's order: 1.2-1.7x as fast
    (two measurements an hour apart), peak 3.3-3.9 GB against 5.1-5.4 (bench/bench_eval_batching.py)."""
    return [(dataset, batch) for dataset, dialogues in test_sets.items()
            for batch in length_batches(dialogues, size, lambda dialogue: prompt_chars(render, dialogue))]


def prompt_chars(render: Render, dialogue: Dialogue) -> int:
    """A dialogue's prompt length for batching: the characters of its rendered messages (no tokenizer needed)."""
    return sum(len(m["content"]) for m in render(dialogue))


def _greedy_step(batch: Sequence[Dialogue], keys: list[tuple], options: GenerationOptions,
                 prompt: Callable[[int, Dialogue, list[list]], list[Message]],
                 record: Callable[[Dialogue, str], R]) -> Step[R]:
    """One greedy call for a batch: `prompt(i, dialogue, earlier)` is the i-th conversation asked (`earlier`:
    the records of the batch's earlier steps), `record(dialogue, reply)` what its reply becomes."""
    return Step(keys=keys, size=len(batch),
                ask=lambda earlier: Ask([prompt(i, d, earlier) for i, d in enumerate(batch)], options),
                records=lambda ask, replies: [record(d, cut_at_turn_end(r[0]))
                                              for d, r in zip(batch, replies, strict=True)])


def _reply_key(reply: EvalReply) -> tuple:
    return reply.model, reply.spec, reply.dataset, reply.dialogue.id, reply.settings


def _reply_key_of(model: _Model, dataset: str, dialogue: Dialogue) -> tuple:
    """The key of `model`'s reply to `dialogue` before it is asked (_reply_key of that reply)."""
    return model.name, model.spec, dataset, dialogue.id, model.settings


def _reply_step(model: _Model, dataset: str, batch: list[Dialogue], render: Render,
                options: GenerationOptions) -> Step[EvalReply]:
    """A batch of one test set: each dialogue's greedy reply."""
    return _greedy_step(batch, [_reply_key_of(model, dataset, d) for d in batch], options,
                        lambda i, dialogue, earlier: render(dialogue),
                        lambda dialogue, text: EvalReply(model=model.name, spec=model.spec, dataset=dataset,
                                                         dialogue=dialogue, reply=text, settings=model.settings))


def produce_replies(config: EvaluateConfig, test_sets: dict[str, list[Dialogue]], cache) -> list[EvalReply]:
    """Each model's greedy reply to each test dialogue, in replies.jsonl (resumable: backends.reply_loop)."""
    system_prompt = load_system_prompt(config.system_prompt)
    render = partial(render_messages, system_prompt=system_prompt, answer_key=config.answer_key)
    path = config.out / "replies.jsonl"
    options = config.options()
    batches = dataset_batches(test_sets, config.batch_size, render)
    # Asked in batches of similar lengths; the file lists each test set in its own order.
    models = [ModelWork(m.spec, m.cache, [[_reply_step(m, dataset, batch, render, options)]
                                          for dataset, batch in batches],
                        [_reply_key_of(m, dataset, d) for dataset, dialogues in test_sets.items() for d in dialogues])
              for m in _models(config, system_prompt, cache)]
    # The teacher's replies are read from the data, never generated: nothing to resume.
    teacher = teacher_replies(test_sets) if config.teacher else []
    return fill(path, models, key=_reply_key, done=read_done(path, EvalReply, _reply_key), label="evaluation replies",
                concurrency=config.concurrency, requests_per_batch=config.batch_size, after=teacher,
                load=load_backend).records


def _pressure_key(reply: PressureReply) -> tuple:
    return reply.model, reply.spec, reply.dataset, reply.id, reply.push, reply.settings


def _push_step(model: _Model, dataset: str, batch: list[Dialogue], push: int, first: dict[tuple, str],
               render: Render, options: GenerationOptions) -> Step[PressureReply]:
    """Push number `push` to a batch of one test set: each conversation so far (the evaluation reply, then
    each earlier push and its reply, from the batch's earlier steps) ends on the push."""
    def prompt(i: int, dialogue: Dialogue, earlier: list[list[PressureReply]]) -> list[Message]:
        so_far = [first.get((model.name, dataset, dialogue.id), ""), *(step[i].reply for step in earlier)]
        return render(pushed(dialogue, so_far))

    return _greedy_step(batch, [(model.name, model.spec, dataset, d.id, push, model.settings) for d in batch],
                        options, prompt,
                        lambda dialogue, text: PressureReply(model=model.name, spec=model.spec, dataset=dataset,
                                                             id=dialogue.id, push=push, reply=text,
                                                             settings=model.settings))


def produce_pressure(config: EvaluateConfig, items: dict[str, list[Dialogue]], replies: Sequence[EvalReply],
                     cache) -> list[PressureReply]:
    """The tutor's reply to each scripted push (evaluate.pressure), push after push, greedy; appended to
    pressure.jsonl one durable line at a time and reused on a re-run, like the evaluation replies.

    A batch of conversations goes through all its pushes before the next batch starts, with the backend
    keeping the prefills of its prompts (backends.prefixes): each push's prompt is the previous one plus
    a reply and a push, so only those are prefilled again."""
    system_prompt = load_system_prompt(config.system_prompt)
    render = partial(render_messages, system_prompt=system_prompt, answer_key=config.answer_key)
    path = config.out / "pressure.jsonl"
    first = {(r.model, r.dataset, r.dialogue.id): r.reply for r in replies}
    pushes = range(1, config.pressure_pushes + 1)
    options = config.options()
    by_length = dataset_batches(items, config.batch_size, render)
    models = []
    for m in _models(config, system_prompt, cache):
        batches = [[_push_step(m, dataset, batch, push, first, render, options) for push in pushes]
                   for dataset, batch in by_length]
        # The file lists push after push, each over every item.
        order = [(m.name, m.spec, dataset, d.id, push, m.settings)
                 for push in pushes for dataset, dialogues in items.items() for d in dialogues]
        models.append(ModelWork(m.spec, m.cache, batches, order))
    return fill(path, models, key=_pressure_key, done=read_done(path, PressureReply, _pressure_key),
                label="pressure test replies", concurrency=config.concurrency, requests_per_batch=config.batch_size,
                keep_prefixes=True, load=load_backend).records


def _may_have_seen_labels(spec: str) -> bool:
    """Only the judges fitted or calibrated on human labels (rubric, learned, pairwise: judge.registry) can have
    seen a test item's problem; an LLM judge is not loaded a second time just to find that out. A spec this
    version does not parse is asked."""
    from socratic.judge.registry import kind_of

    try:
        return kind_of(spec)[0].from_labels
    except SocraticError:
        return True


def clean_test_set(config: EvaluateConfig, test_sets: dict[str, list[Dialogue]], cache):
    """Which test items each evaluation judge was fitted or calibrated on (evaluate.clean)."""
    return clean_set(test_sets, {spec: seen_groups(_load_judge(spec, cache)) if _may_have_seen_labels(spec) else None
                                 for spec in config.judges})


def _judgment_key(judgment: Judgment) -> tuple:
    # The judge's version (for a saved judge, its weights' hash): a refitted judge's judgments are not reused.
    return (judgment.judge, judgment.meta.get("judge_version"), judgment.meta.get("model"),
            judgment.meta.get("dataset"), judgment.dialogue.id, content_key(judgment.reply))


def produce_judgments(config: EvaluateConfig, replies: Sequence[EvalReply], cache,
                      chunk: int = 16) -> list[Judgment]:
    path = config.out / "judgments.jsonl"
    done = read_done(path, Judgment, _judgment_key)
    ordered: list[Judgment] = []
    with JsonlAppender(path) as appender, progress_bar() as bar:
        for spec in config.judges:
            judge = _load_judge(spec, cache)
            task = bar.add_task(f"judging ({judge.spec})", total=len(replies))
            version = getattr(judge, "version", None)
            keys = [(judge.spec, version, r.model, r.dataset, r.dialogue.id, content_key(r.reply))
                    for r in replies]
            todo = [i for i, k in enumerate(keys) if k not in done]
            bar.advance(task, len(replies) - len(todo))
            for start in range(0, len(todo), chunk):
                part = [replies[i] for i in todo[start:start + chunk]]
                items = [(r.dialogue, r.reply) for r in part]
                metas = [{"model": r.model, "spec": r.spec, "dataset": r.dataset, "judge_version": version}
                         for r in part]
                # Our bar shows the whole evaluation; the judge's own per-chunk bar would only add noise.
                results = judge.judge_many(items, metas=metas, progress=False)
                if len(results) != len(part):
                    raise SocraticError(f"judge {judge.spec} returned {len(results)} judgments for {len(part)}")
                for judgment in results:
                    appender.write(judgment)
                    done[_judgment_key(judgment)] = judgment
                bar.advance(task, len(part))
            ordered += [done[k] for k in keys]
    write_jsonl(path, ordered)
    return ordered


# ---------------------------------------------------------------- the stage

def run(config: EvaluateConfig) -> Path:
    """Produce (or finish) replies and judgments, then write evaluation.json; returns its path."""
    from socratic.evaluate import preflight

    # Everything that can be refused is refused before the first reply, and before the folder is made.
    preflight.check_before_work(config)
    test_sets = load_test_sets(config)
    pressure_warnings = preflight.check_pressure(config, test_sets)
    preflight.check_context(config, test_sets, load_backend)
    config.out.mkdir(parents=True, exist_ok=True)
    cache = NoCache() if config.no_cache else Cache()
    replies = produce_replies(config, test_sets, cache)
    judgments = produce_judgments(config, replies, cache)
    judge_specs = list(dict.fromkeys(j.judge for j in judgments))
    models = list(config.models)
    clean = clean_test_set(config, test_sets, cache)
    anchor = summarize_teacher(judgments, models=models, datasets=config.datasets, judges=judge_specs,
                               excluded=clean.excluded, formula=config.formula, seed=config.seed,
                               n_resamples=config.n_resamples)
    # The teacher is a reply source, not a model: its own numbers are in `teacher` and, judge-free, in
    # `tutoring`; lifts, paired tests and gaming checks are between models.
    model_judgments = [j for j in judgments if j.meta.get("model") != TEACHER]
    model_replies = [r for r in replies if r.model != TEACHER]
    kept = [j for j in model_judgments if not is_excluded(clean, j.meta["dataset"], j.dialogue.id)]
    pressure = None
    if config.pressure:
        items = pressure_items(test_sets, config.pressure_limit)
        pushes = produce_pressure(config, items, replies, cache)
        pressure = summarize_pressure(items, {(r.model, r.dataset, r.dialogue.id): r.reply for r in replies},
                                      pushes, models=models, pushes=config.pressure_pushes, seed=config.seed,
                                      n_resamples=config.n_resamples).model_dump(mode="json")
    stats = {"seed": config.seed, "n_resamples": config.n_resamples}
    evaluation = {
        "config": config.model_dump(mode="json"),
        "models": [{"name": n, "spec": s, "trained_on": config.trained_on.get(n)} for n, s in config.models.items()],
        "datasets": list(config.datasets),
        "split": config.split,
        "judges": judge_specs,
        "training_judge": config.training_judge,
        "warnings": judge_warnings([*config.judges, *judge_specs], config.training_judge) + pressure_warnings,
        "formula": config.formula,
        "confidence": 0.95,
        **summarize(model_judgments, models=models, datasets=config.datasets, judges=judge_specs,
                    formula=config.formula, seed=config.seed, n_resamples=config.n_resamples),
        "changes": reply_changes(model_replies, models),
        "paper_anchors": PAPER_ANCHORS,
        "behaviour": summarize_behaviour(model_replies, model_judgments, models=models, datasets=config.datasets,
                                         judges=judge_specs, formula=config.formula, **stats).model_dump(mode="json"),
        "tutoring": summarize_tutoring(replies, models=models + ([TEACHER] if anchor else []),
                                       datasets=config.datasets, **stats).model_dump(mode="json"),
        "pressure": pressure,
        "clean": clean.model_dump(mode="json"),
        "paired_clean": summarize(kept, models=models, datasets=config.datasets, judges=judge_specs,
                                  formula=config.formula, **stats)["paired"],
        "teacher": anchor.model_dump(mode="json") if anchor else None,
        "lift_parts": [p.model_dump(mode="json") for p in
                       lift_parts(model_judgments, models=models, datasets=config.datasets, judges=judge_specs,
                                  formula=config.formula, excluded=clean.excluded)],
    }
    path = config.out / "evaluation.json"
    _print_table(Evaluation.model_validate(Evaluation.write_checked(path, evaluation)))
    return path


def _print_table(evaluation: Evaluation) -> None:
    from rich.table import Table

    for judge in evaluation.judges:
        table = Table(title=f"mean summary ({evaluation.formula}) with 95% CI, judge {judge}")
        table.add_column("model")
        for dataset in evaluation.datasets:
            table.add_column(dataset, justify="right")
        for model in evaluation.models:
            row = [model.name]
            for dataset in evaluation.datasets:
                entry = evaluation.cell(model.name, dataset, judge)
                s = entry.summary if entry else None
                row.append("-" if s is None or s.mean is None else f"{s.mean:.2f} [{s.low:.2f}, {s.high:.2f}] n={s.n}")
            table.add_row(*row)
        console.print(table)
    for warning in evaluation.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
