"""Build report.html (self-contained, figures inlined as base64 PNG) and report.md (figures as files).

    socratic report runs/quickstart           # a `socratic run` folder
    socratic report runs/eval-only            # or a `socratic evaluate -o` folder

Everything is read from files the stages wrote (eval/evaluation.json and replies.jsonl, models/*/
metrics.jsonl and train_summary.json, prefs/*/pairs.jsonl, agreement/agreement.json, timings.json,
config.resolved.yaml); whatever is absent is left out of the report, nothing is recomputed.
"""

from __future__ import annotations

import base64
import statistics
import time
from pathlib import Path
from typing import Any

import jinja2

from socratic.agreement.result import Agreement
from socratic.errors import SocraticError
from socratic.evaluate.result import Evaluation
from socratic.jsonl import iter_json_lines, write_text
from socratic.judge.baseline import QMARK
from socratic.report import figures
from socratic.report.checks import behaviour_checks
from socratic.report.lifts import independence_flags, judge_lifts
from socratic.report.teacher import teacher_note, teacher_rows, teacher_scores
from socratic.report.text import clip, fmt
from socratic.report.tutoring import (
    LABELS,
    baseline_rows,
    clean_note,
    metric_rows,
    pressure_rows,
    sample_rows,
    tutoring_flags,
)
from socratic.run_folder import EVAL, TIMINGS, Timings, model_folder, prefs_folder, sft_folder, slug
from socratic.scores import CRITERIA, Judgment, judgment_summary
from socratic.specs import hf_path
from socratic.train.summary import FINISHED_MARKER, TrainSummary


def _lines(path: Path) -> list[dict]:
    return [obj for _, obj in iter_json_lines(path, tolerate_torn_tail=True)] if path.exists() else []


def _eval_dir(root: Path) -> Path:
    for candidate in (root / EVAL, root):
        if (candidate / "evaluation.json").exists():
            return candidate
    raise SocraticError(f"{root}: no evaluation.json (in {root / EVAL} or {root}); run the evaluation first")


# ------------------------------------------------------------------------------------- sections

def summary_tables(evaluation: Evaluation, judge: str) -> dict[str, Any]:
    models, datasets = [m.name for m in evaluation.models], evaluation.datasets
    rows, criteria_rows = [], []
    for model in models:
        cells = [evaluation.cell(model, d, judge) for d in datasets]
        rows.append({"model": model, "cells": [fmt(c.summary if c else None) for c in cells],
                     "reference": [fmt(c.summary_reference if c else None) for c in cells],
                     "n": [c.n if c else 0 for c in cells], "failed": [c.failed if c else 0 for c in cells]})
        for d, c in zip(datasets, cells):
            crit = c.criteria if c else {}
            criteria_rows.append({"model": model, "dataset": d, "n": c.judged if c else 0,
                                  **{k: fmt(crit.get(k)) for k in CRITERIA}})
    return {"judge": judge, "datasets": datasets, "rows": rows, "criteria_rows": criteria_rows}


def cross_table(evaluation: Evaluation, judge: str) -> dict[str, Any] | None:
    """Rows: base model(s) then models trained on X; columns: test sets; cells: mean summary."""
    trained = [m for m in evaluation.models if m.trained_on]
    if not trained:
        return None
    rows = [m for m in evaluation.models if not m.trained_on and m.name == "base"] + trained
    labels = [m.name if not m.trained_on else f"{m.name} (trained on {m.trained_on})" for m in rows]
    cells = [[evaluation.cell(m.name, d, judge) for d in evaluation.datasets] for m in rows]
    values = [[c.summary.mean if c else None for c in row] for row in cells]
    return {"labels": labels, "values": values, "datasets": evaluation.datasets,
            "cells": [[("–" if v is None else f"{v:.2f}") for v in row] for row in values]}


def paired_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    baseline = evaluation.models[0].name
    rows = []
    for p in evaluation.paired:
        if p.baseline != baseline or p.formula != evaluation.formula or p.diff is None:
            continue
        rows.append({**p.model_dump(), "ci": f"[{p.low:+.2f}, {p.high:+.2f}]", "diff_s": f"{p.diff:+.3f}",
                     "p_s": f"{p.p_value:.4f}", "significant": p.p_value < 0.05})
    return rows


def example_dialogues(evaluation: Evaluation, replies: list[dict], judgments: list[dict],
                      per_dataset: int) -> list[dict]:
    """Per test set: the items where the compared model gained most and least over the baseline.

    The compared model is the one trained on that test set's dataset (else the second model), so the
    examples show in-domain tuning; picking both ends keeps them honest.
    """
    if per_dataset <= 0 or len(evaluation.models) < 2:
        return []
    judge, formula = evaluation.judges[0], evaluation.formula
    baseline = evaluation.models[0].name
    score = {(j["meta"]["model"], j["meta"]["dataset"], j["dialogue"]["id"]):
             judgment_summary(Judgment.model_validate(j), formula)
             for j in judgments if j["judge"] == judge and j.get("scores")}
    by_reply = {(r["model"], r["dataset"], r["dialogue"]["id"]): r for r in replies}
    out = []
    for dataset in evaluation.datasets:
        in_domain = [m.name for m in evaluation.models if m.trained_on == dataset]
        other = in_domain[0] if in_domain else evaluation.models[1].name
        scored = sorted(((score[(other, d, i)] - score[(m, d, i)], i) for (m, d, i) in by_reply
                         if m == baseline and d == dataset and (m, d, i) in score and (other, d, i) in score
                         and (other, d, i) in by_reply), key=lambda t: (-t[0], t[1]))
        picks, low, high = [], 0, len(scored) - 1
        while len(picks) < min(per_dataset, len(scored)):
            picks.append((scored[low], ("largest gain" if scored[low][0] > 0 else "no gain") if low == 0 else ""))
            low += 1
            if len(picks) < per_dataset and high >= low:
                gain = scored[high][0]
                picks.append((scored[high], "largest drop" if gain < 0 else "smallest gain"))
                high -= 1
        for (gain, i), label in picks:
            dialogue = by_reply[(baseline, dataset, i)]["dialogue"]
            out.append({
                "dataset": dataset, "id": i, "gain": f"{gain:+.2f}", "label": label,
                "context": clip(dialogue.get("context"), 500),
                "turns": [{"role": t["role"], "text": clip(t["text"], 400)} for t in dialogue["turns"][-3:]],
                "replies": [{"model": m, "text": clip(by_reply[(m, dataset, i)]["reply"]) or "(empty reply)",
                             "summary": f"{score[(m, dataset, i)]:.2f}"} for m in (baseline, other)],
            })
    return out


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


def training_section(evaluation: dict, root: Path) -> dict[str, Any] | None:
    """One row per training step of each tuned model (its SFT warm-up and DPO rounds), with its curve."""
    curves, rows = {}, []
    for model in evaluation.models:
        folder = hf_path(model.spec)
        if folder is None:
            continue
        steps = training_steps(root, folder, model.trained_on or "-")
        for step, step_folder, prefs in steps:
            name = f"{model.name} · {step}" if len(steps) > 1 else model.name
            metrics = [r for r in _lines(step_folder / "metrics.jsonl") if "loss" in r and "train_runtime" not in r]
            summary = TrainSummary.read_if_exists(step_folder / FINISHED_MARKER)
            if metrics:
                curves[name] = metrics
            if not metrics and summary is None:
                continue
            summary = summary or TrainSummary()
            pairs = _lines(prefs / "pairs.jsonl")
            rows.append({"model": name, "steps": summary.steps,
                         "train_loss": _round(summary.train_loss),
                         "seconds_per_step": summary.seconds_per_step,
                         "pairs": len(pairs) if pairs else summary.pairs,
                         "chosen": _round(statistics.mean(p["chosen_score"] for p in pairs)) if pairs else None,
                         "rejected": _round(statistics.mean(p["rejected_score"] for p in pairs)) if pairs else None,
                         "warnings": ", ".join(summary.warnings) or "none"})
    if not rows:
        return None
    return {"rows": rows, "figure": figures.training_curves(curves) if curves else None}


def _round(value: Any, digits: int = 3) -> Any:
    return round(value, digits) if isinstance(value, (int, float)) else value


def agreement_section(root: Path) -> dict[str, Any] | None:
    path = root / "agreement" / "agreement.json"
    if not path.exists():
        return None
    result = Agreement.read(path)
    rows = []
    for judge in result.judges:
        pearson, crit = judge.summary.pearson, judge.criteria
        rows.append({"judge": judge.spec + (" (the '?' baseline)" if judge.spec == QMARK else ""),
                     "n": judge.summary.n,
                     "pearson": "–" if pearson.estimate is None else f"{pearson.estimate:.2f}",
                     "ci": "" if pearson.ci_low is None else f"[{pearson.ci_low:.2f}, {pearson.ci_high:.2f}]",
                     "questions_acc": _pct(crit["questions"].accuracy),
                     "reveal_acc": _pct(crit["reveal_answer"].accuracy),
                     "failures": judge.failures, **_teacher_cells(getattr(judge, "teacher", None))})
    scatter = root / "agreement" / "summary_scatter.png"
    return {"rows": rows, "anchor": result.anchor, "labels": str(result.config.get("labels")),
            "figure": scatter.read_bytes() if scatter.exists() else None}


def _teacher_cells(block: dict[str, Any] | None) -> dict[str, str]:
    """Teacher-vs-model accuracy and the worst perturbation flip rate (socratic.agreement.teacher), or dashes."""
    if not block or not block.get("pairs"):
        return {"teacher": "–", "flips": "–"}
    return {"teacher": _pct(block["accuracy"]["accuracy"]), "flips": _pct(block["perturbations"]["worst_rate"])}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def timings_section(root: Path) -> dict[str, Any] | None:
    record = Timings.read_if_exists(root / TIMINGS)
    if record is None:
        return None
    rows, walls = [], {}
    for name, t in record.stages.items():
        wall, rss = t.wall, t.peak
        rows.append({"stage": name, "status": t.status, "wall": "–" if wall is None else f"{wall:.1f}",
                     "rss": "–" if rss is None else f"{rss:.0f}"})
        if wall is not None:
            walls[name] = {"wall_s": wall}
    return {"rows": rows, "total": record.total_wall_s, "started_at": record.started_at,
            "figure": figures.stage_timings(walls) if walls else None}


def training_judges(root: Path, evaluation: Evaluation) -> list[dict[str, str]]:
    found = []
    for path in sorted((root / "prefs").glob("*/judgments.jsonl")):
        first = next(iter_json_lines(path, tolerate_torn_tail=True), None)
        judges = {first[1].get("judge", "?")} if first else set()
        found.append({"dataset": path.parent.name, "judge": ", ".join(sorted(judges)) or "?"})
    if not found and evaluation.training_judge:
        found.append({"dataset": "(all)", "judge": evaluation.training_judge})
    return found


def caveats(evaluation: Evaluation, agreement: dict | None, training: dict | None = None,
            lift_flags: list[str] | None = None, check_flags: list[str] | None = None) -> list[str]:
    notes = [f"Judges do not agree: {flag}." for flag in lift_flags or []]
    notes += [f"Not an independent judge: {flag}." for flag in independence_flags(evaluation)]
    notes += [f"Gaming or collapse check: {flag}." for flag in check_flags or []]
    notes += [f"Tutoring, judge-free: {flag}." for flag in tutoring_flags(evaluation)]
    pairs = [r["pairs"] for r in (training or {}).get("rows", []) if isinstance(r.get("pairs"), int)]
    if pairs and max(pairs) < 100:
        span = str(min(pairs)) if min(pairs) == max(pairs) else f"{min(pairs)}–{max(pairs)}"
        plural = "s" if max(pairs) > 1 else ""
        notes.append(f"Each training step (DPO round, warm-up) learnt from only {span} preference pair{plural} "
                     "(the paper used hundreds per dataset): a lift that is not significant here says little about "
                     "the method; configs/cpu.yaml and configs/paper.yaml are larger setups.")
    ns = [r.judged for r in evaluation.results if r.judged]
    widths = [r.summary.high - r.summary.low for r in evaluation.results if r.summary.mean is not None]
    if ns and min(ns) < 50:
        n_text = str(min(ns)) if min(ns) == max(ns) else f"{min(ns)}–{max(ns)}"
        notes.append(f"Small test slices (n = {n_text} judged replies per cell): the 95% CIs are "
                     f"{statistics.median(widths):.2f} wide (median), so differences smaller than that are not "
                     "evidence. Use larger test limits for conclusions.")
    if "rubric" in evaluation.judges:
        notes.append("The rubric judge is offline and automatic (question detection, answer-leak check, embedding "
                     "similarity), not the paper's GPT-4o; "
                     + ("see its measured agreement with human labels below." if agreement else
                        "its agreement with human labels was not measured in this run (set labels in the config)."))
    notes += evaluation.warnings
    failed = sum(r.failed for r in evaluation.results)
    if failed:
        notes.append(f"{failed} judgments failed and are excluded from the means (counted per cell in the tables).")
    if any(m.spec == "embedded" for m in evaluation.models):
        notes.append("The embedded base model is SmolLM2-135M-Instruct, about 30x smaller than the paper's "
                     "Phi-3-mini: its absolute scores are not comparable to the paper's anchors, only the "
                     "direction of the change is.")
    notes.append(f"Replies are greedy and capped at {evaluation.config.get('max_new_tokens')} new tokens; "
                 "a cut-off reply is judged as it is.")
    return notes


# ------------------------------------------------------------------------------------- build

def build_report(root: str | Path, *, title: str = "Socratic tutor evaluation", examples_per_dataset: int = 2,
                 out_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Write report.html and report.md (+ report_files/) into out_dir (default root); returns both paths."""
    root = Path(root).resolve()
    out = Path(out_dir).resolve() if out_dir else root
    eval_dir = _eval_dir(root)
    evaluation = Evaluation.read(eval_dir / "evaluation.json")
    replies, judgments = _lines(eval_dir / "replies.jsonl"), _lines(eval_dir / "judgments.jsonl")

    pngs: dict[str, bytes] = {}
    judge_sections = []
    for judge in evaluation.judges:
        key = judge.replace(":", "_").replace("/", "_")
        pngs[f"summary_{key}"] = figures.summary_bars(evaluation, judge)
        pngs[f"criteria_{key}"] = figures.criteria_bars(evaluation, judge)
        judge_sections.append({**summary_tables(evaluation, judge), "summary_fig": f"summary_{key}",
                               "criteria_fig": f"criteria_{key}"})
    cross = cross_table(evaluation, evaluation.judges[0])
    if cross:
        pngs["cross"] = figures.cross_heatmap(cross["labels"], cross["datasets"], cross["values"],
                                              f"Mean summary, trained on X (rows) x tested on Y "
                                              f"(judge: {evaluation.judges[0]})")
    training = training_section(evaluation, root)
    if training and training.get("figure"):
        pngs["training"] = training.pop("figure")
    agreement = agreement_section(root)
    if agreement and agreement.get("figure"):
        pngs["agreement"] = agreement.pop("figure")
    timings = timings_section(root)
    if timings and timings.get("figure"):
        pngs["timings"] = timings.pop("figure")
    rankers = training_judges(root, evaluation)
    # The reward judge: as evaluation.json names it, else the one judge every training pair was ranked by.
    reward = evaluation.training_judge or (rankers[0]["judge"] if len({t["judge"] for t in rankers}) == 1 else None)
    lifts, lift_flags = judge_lifts(evaluation, reward)
    clean = evaluation.clean
    lifts_all = judge_lifts(evaluation, reward, items="all")[0] if clean and clean.n_excluded() else None
    checks = behaviour_checks(evaluation)
    tutoring = None
    if evaluation.tutoring.limits is not None:
        tutoring = {"rows": metric_rows(evaluation), "own": baseline_rows(evaluation), "labels": LABELS,
                    "limits": evaluation.tutoring.limits, "samples": sample_rows(evaluation)}
    teacher = None
    if evaluation.teacher is not None:
        teacher = {"rows": teacher_rows(evaluation), "note": teacher_note(evaluation),
                   "rows_all": teacher_rows(evaluation, "all") if clean and clean.n_excluded() else None,
                   "scores": teacher_scores(evaluation)}
    pressure = ({"rows": pressure_rows(evaluation), "pushes": evaluation.pressure.pushes,
                 "sizes": evaluation.pressure.items} if evaluation.pressure else None)
    config_path = root / "config.resolved.yaml"
    context = {
        "title": title, "generated_at": time.strftime("%Y-%m-%d %H:%M"), "evaluation": evaluation,
        "formula": evaluation.formula, "judge_sections": judge_sections, "cross": cross,
        "paired": paired_rows(evaluation), "changes": evaluation.changes,
        "training_judges": rankers, "lifts": lifts, "lift_flags": lift_flags, "reward_judge": reward,
        "checks": checks, "clean": clean, "clean_note": clean_note(evaluation), "lifts_all": lifts_all,
        "tutoring": tutoring, "pressure": pressure, "teacher": teacher,
        "examples": example_dialogues(evaluation, replies, judgments, examples_per_dataset),
        "training": training, "agreement": agreement, "timings": timings,
        "caveats": caveats(evaluation, agreement, training, lift_flags, checks["flags"] if checks else None),
        "anchors": evaluation.paper_anchors,
        "config_yaml": config_path.read_text("utf-8") if config_path.exists() else None,
        "figures": set(pngs),
    }
    env = jinja2.Environment(loader=jinja2.PackageLoader("socratic.report", "templates"),
                             autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    html = env.get_template("report.html.j2").render(
        **context, src={k: "data:image/png;base64," + base64.b64encode(v).decode("ascii") for k, v in pngs.items()})
    files = out / "report_files"
    files.mkdir(parents=True, exist_ok=True)
    for name, data in pngs.items():
        (files / f"{name}.png").write_bytes(data)
    markdown = env.get_template("report.md.j2").render(**context, src={k: f"report_files/{k}.png" for k in pngs})
    html_path, md_path = out / "report.html", out / "report.md"
    write_text(html_path, html)
    write_text(md_path, markdown)
    return html_path, md_path
