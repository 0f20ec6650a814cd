"""The report's sections read from a `socratic run` folder beyond its evaluation: the training steps (SFT
warm-up and DPO rounds) with their curves, the judges' agreement with human labels, the stage timings.
Each returns None where its files are absent (a `socratic evaluate -o` folder has none of them).

    section = training_section_of(evaluation, Path("runs/quickstart"), pngs)
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from socratic.agreement.result import Agreement
from socratic.evaluate.result import Evaluation
from socratic.judge.baseline import QMARK
from socratic.report import figures
from socratic.report.document import Code, Column, Figure, Paragraph, Section, Table
from socratic.specs import hf_path
from socratic.store.jsonl import iter_json_lines
from socratic.store.run_folder import TIMINGS, Timings, model_folder, prefs_folder, sft_folder, slug
from socratic.train.artifacts import FINISHED_MARKER, TrainSummary


def read_lines(path: Path) -> list[dict]:
    """The records of a JSONL file (a torn last line tolerated); none for a missing file."""
    return [obj for _, obj in iter_json_lines(path, tolerate_torn_tail=True)] if path.exists() else []


def training_steps(root: Path, folder: Path, dataset: str) -> list[tuple[str, Path, Path]]:
    """(step, model folder, pairs folder) of each training step that made `folder`, in order: in a run
    folder, the SFT warm-up and every DPO round (RUN/models/X-sft, X, X-round2, ...); else `folder` alone."""
    dataset = slug(dataset)
    rounds = []
    while model_folder(root, dataset, len(rounds) + 1).is_dir():
        number = len(rounds) + 1
        rounds.append((f"DPO round {number}", model_folder(root, dataset, number), prefs_folder(root, dataset, number)))
    last = next((i for i, (_, f, _) in enumerate(rounds) if f.resolve() == folder.resolve()), None)
    if last is None:
        return [("", folder, root / "prefs" / dataset)]
    warm_up = sft_folder(root, dataset)
    return ([("SFT warm-up", warm_up, prefs_folder(root, dataset))] if warm_up.is_dir() else []) + rounds[:last + 1]


def training_section(evaluation: Evaluation, root: Path) -> dict[str, Any] | None:
    """One row per training step of each tuned model (its SFT warm-up and DPO rounds), and the loss curves."""
    curves, rows = {}, []
    for model in evaluation.models:
        folder = hf_path(model.spec)
        if folder is None:
            continue
        steps = training_steps(root, folder, model.trained_on or "-")
        for step, step_folder, prefs in steps:
            name = f"{model.name} · {step}" if len(steps) > 1 else model.name
            metrics = [r for r in read_lines(step_folder / "metrics.jsonl") if "loss" in r and "train_runtime" not in r]
            summary = TrainSummary.read_if_exists(step_folder / FINISHED_MARKER)
            if metrics:
                curves[name] = metrics
            if not metrics and summary is None:
                continue
            summary = summary or TrainSummary()
            pairs = read_lines(prefs / "pairs.jsonl")
            rows.append({"model": name, "steps": summary.steps,
                         "train_loss": _round(summary.train_loss),
                         "seconds_per_step": summary.seconds_per_step,
                         "pairs": len(pairs) if pairs else summary.pairs,
                         "chosen": _round(statistics.mean(p["chosen_score"] for p in pairs)) if pairs else None,
                         "rejected": _round(statistics.mean(p["rejected_score"] for p in pairs)) if pairs else None,
                         "warnings": ", ".join(summary.warnings) or "none"})
    if not rows:
        return None
    return {"rows": rows, "curves": curves}


def _round(value: Any, digits: int = 3) -> Any:
    return round(value, digits) if isinstance(value, (int, float)) else value


def training_report(training: dict[str, Any] | None, pngs: dict[str, bytes]) -> Section | None:
    """The Training section of `training_section`'s rows, with the curves drawn into `pngs`."""
    if training is None:
        return None
    blocks: list = []
    if training["curves"]:
        pngs["training"] = figures.training_curves(training["curves"])
        blocks.append(Figure("training", "training curves"))
    columns = [Column("model"), *[Column(title, numeric=True) for title in
               ("pairs", "mean chosen / rejected score", "steps", "final train loss", "s/step")], Column("warnings")]
    blocks.append(Table(columns, [[r["model"], str(r["pairs"]), f"{r['chosen']} / {r['rejected']}", str(r["steps"]),
                                   str(r["train_loss"]), str(r["seconds_per_step"]), r["warnings"]]
                                  for r in training["rows"]]))
    return Section("Training", blocks, anchor="training", short="Training")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _teacher_cells(block: dict[str, Any] | None) -> dict[str, str]:
    """Teacher-vs-model accuracy and the worst perturbation flip rate (socratic.agreement.teacher_check), or dashes."""
    if not block or not block.get("pairs"):
        return {"teacher": "–", "flips": "–"}
    return {"teacher": _pct(block["accuracy"]["accuracy"]), "flips": _pct(block["perturbations"]["worst_rate"])}


def agreement_section(root: Path, pngs: dict[str, bytes]) -> Section | None:
    """The judges against human labels (agreement/agreement.json), with its scatter plot where drawn."""
    path = root / "agreement" / "agreement.json"
    if not path.exists():
        return None
    result = Agreement.read(path)
    rows = []
    for judge in result.judges:
        pearson, crit = judge.summary.pearson, judge.criteria
        cells = _teacher_cells(getattr(judge, "teacher", None))
        rows.append([Code(judge.spec + (" (the '?' baseline)" if judge.spec == QMARK else "")), str(judge.summary.n),
                     "–" if pearson.estimate is None else f"{pearson.estimate:.2f}",
                     "" if pearson.ci_low is None else f"[{pearson.ci_low:.2f}, {pearson.ci_high:.2f}]",
                     _pct(crit["questions"].accuracy), _pct(crit["reveal_answer"].accuracy), cells["teacher"],
                     cells["flips"], str(judge.failures)])
    anchor = result.anchor
    text = f"Labels: {result.config.get('labels')}."
    if anchor:
        text += f" Paper: {anchor['judge']} Pearson {anchor['pearson']} (n={anchor['n']})."
    blocks: list = [Paragraph(text)]
    scatter = root / "agreement" / "summary_scatter.png"
    if scatter.exists():
        pngs["agreement"] = scatter.read_bytes()
        blocks.append(Figure("agreement", "judge vs human scatter"))
    columns = [Column("judge"), *[Column(title, numeric=True) for title in
               ("n", "Pearson (summary)", "95% CI", "questions accuracy", "reveal accuracy", "teacher > model",
                "worst perturbation flip", "failures")]]
    blocks.append(Table(columns, rows))
    return Section("Judge vs human labels", blocks, anchor="agreement", short="Judge vs human")


def timings_section(root: Path, pngs: dict[str, bytes]) -> Section | None:
    """Wall time and peak memory per stage (timings.json), with a bar chart."""
    record = Timings.read_if_exists(root / TIMINGS)
    if record is None:
        return None
    rows, walls = [], {}
    for name, t in record.stages.items():
        wall, rss = t.wall, t.peak
        rows.append([name, t.status, "–" if wall is None else f"{wall:.1f}", "–" if rss is None else f"{rss:.0f}"])
        if wall is not None:
            walls[name] = {"wall_s": wall}
    total = (f"; total wall time {record.total_wall_s:.0f} s (stages run in this invocation)"
             if record.total_wall_s else "")
    blocks: list = [Paragraph(
        f"Run started {record.started_at}{total}. Skipped stages show the time of the run that produced their "
        "outputs. Peak RSS is the stage's high-water mark: for a stage that loads a model (run in a process of its "
        "own by `socratic run`), that process's peak plus the run's process's private memory; for the others, the run's "
        "process during the stage.")]
    if walls:
        pngs["timings"] = figures.stage_timings(walls)
        blocks.append(Figure("timings", "wall time per stage"))
    blocks.append(Table([Column("stage"), Column("status"), Column("wall time (s)", numeric=True),
                         Column("peak RSS (MB)", numeric=True)], rows))
    return Section("Timings", blocks, anchor="timings", short="Timings")
