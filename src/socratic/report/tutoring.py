"""Tutoring, not form, in the report and the headline: the judge-free tutoring metrics, the pressure test,
the clean test set and random tuned replies. Pure: evaluation.json's `tutoring`, `pressure`, `clean`
in, rows, lines and the report's two sections out; the definitions are socratic.evaluate.tutoring's,
.pressure's and .clean's.

    rows = metric_rows(Evaluation.read("runs/x/eval/evaluation.json"))
"""

from __future__ import annotations

import itertools
from typing import Any

from socratic.evaluate.config import TEACHER
from socratic.evaluate.result import Evaluation, RateDiff
from socratic.evaluate.tutoring import METRICS
from socratic.report import document as doc
from socratic.report.text import clip

LABELS = {"leak": "states the answer", "false_praise": "praises wrong work", "echo": "echoes the dialogue",
          "as_student": "speaks as the student", "degenerate": "repetition loop", "empty": "empty",
          "not_english": "not English", "invents_number": "invents a number", "miscomputes": "false arithmetic",
          "asks_question": "asks a question", "dodge": "dodge"}
SHORT = {"leak": "leak", "false_praise": "false praise", "echo": "echo", "as_student": "as student",
         "degenerate": "loop", "empty": "empty", "not_english": "not Eng.", "invents_number": "invents #",
         "miscomputes": "false arith.", "asks_question": "asks ?",
         "dodge": "dodge"}
SAMPLE_CLIP = 400


def arrow(test: RateDiff | None) -> str:
    """↑ / ↓ where the paired 95% CI of model - baseline lies above / below 0."""
    if test is None or test.low is None:
        return ""
    return "↑" if test.low > 0 else "↓" if test.high < 0 else ""


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _diff(test: RateDiff | None) -> str:
    if test is None or test.diff is None:
        return "–"
    return f"{test.diff:+.2f} [{test.low:+.2f}, {test.high:+.2f}]"


def _tuned(evaluation: Evaluation) -> list[tuple[str, str]]:
    """(model, test set) of every later model, its own training set's first."""
    trained = {m.name: m.trained_on for m in evaluation.models}
    pairs = itertools.product([m.name for m in evaluation.models[1:]], evaluation.datasets)
    return sorted(pairs, key=lambda p: ([m.name for m in evaluation.models].index(p[0]), p[1] != trained.get(p[0])))


def metric_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Per later model x test set, per metric: the baseline's and the model's rate on the same applicable
    items, the difference with its 95% CI, and its direction. Empty for an evaluation.json without them."""
    tutoring = evaluation.tutoring
    if tutoring.limits is None:
        return []
    rows = []
    for model, dataset in _tuned(evaluation):
        cells = []
        for metric in METRICS:
            test = tutoring.diff(metric, model, dataset)
            rate = tutoring.rate(metric, model, dataset)
            cells.append({"metric": metric, "label": LABELS[metric], "short": SHORT[metric],
                          "applicable": rate.applicable if rate else 0,
                          "baseline": _rate(test.baseline_rate if test else None),
                          "model": _rate(test.model_rate if test else None), "diff": _diff(test), "arrow": arrow(test),
                          "n": test.n if test else 0})
        if any(c["n"] for c in cells):
            rows.append({"model": model, "dataset": dataset, "baseline": evaluation.models[0].name, "cells": cells})
    return rows


def baseline_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Every model's own rates with their 95% CIs (the baseline included; the teacher's turns too where the
    test items carry them), per test set."""
    tutoring = evaluation.tutoring
    rows = []
    sources = [m.name for m in evaluation.models] + ([TEACHER] if evaluation.teacher is not None else [])
    for dataset, model in itertools.product(evaluation.datasets, sources):
        cells = []
        for metric in METRICS:
            r = tutoring.rate(metric, model, dataset)
            e = r.rate if r else None
            cells.append("–" if e is None or e.mean is None else
                         f"{e.mean:.2f} [{e.low:.2f}, {e.high:.2f}] ({r.applicable})")
        if tutoring.rate("empty", model, dataset):
            rows.append({"model": model, "dataset": dataset, "cells": cells})
    return rows


def pressure_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Per later model x pushed test set: after each push, the leak rate of the baseline and the model and
    their difference (95% CI); and the share of items whose tutor gave the answer at some point."""
    pressure = evaluation.pressure
    if pressure is None:
        return []
    baseline = evaluation.models[0].name
    rows = []
    for model, dataset in _tuned(evaluation):
        if dataset not in pressure.items:
            continue
        cells = []
        for push in range(len(pressure.pushes) + 1):
            test = pressure.diff(f"leak@{push}", model, dataset)
            turn = pressure.turn(model, dataset, push)
            cells.append({"push": push, "phrasing": turn.phrasing if turn else "",
                          "baseline": _rate(test.baseline_rate if test else None),
                          "model": _rate(test.model_rate if test else None), "diff": _diff(test), "arrow": arrow(test)})
        last = pressure.diff(f"leaked_by@{len(pressure.pushes)}", model, dataset)
        rows.append({"model": model, "dataset": dataset, "baseline": baseline, "n": pressure.items[dataset],
                     "cells": cells, "leaked_by_end": {"baseline": _rate(last.baseline_rate if last else None),
                                                       "model": _rate(last.model_rate if last else None),
                                                       "diff": _diff(last), "arrow": arrow(last)}})
    return rows


def tutoring_flags(evaluation: Evaluation) -> list[str]:
    """One line per later model x test set x failure metric (dodge included) whose rate is clearly higher
    than the baseline's: the paired 95% CI of the difference lies above 0."""
    flags = []
    for row in metric_rows(evaluation):
        for c in row["cells"]:
            if c["metric"] != "asks_question" and c["arrow"] == "↑":
                flags.append(f"{row['model']} on {row['dataset']}: {c['label']} more often than {row['baseline']} "
                             f"(judge-free): {c['baseline']} → {c['model']}, {c['diff']}")
    return flags


def clean_note(evaluation: Evaluation) -> str | None:
    """One line: how many test items the headline lifts leave out, and why; None before the check existed."""
    clean = evaluation.clean
    if clean is None:
        return None
    if not clean.n_excluded():
        return "clean test set: no evaluation judge was fitted or calibrated on any test item; the lifts use all items"
    parts = ", ".join(f"{len(ids)} of {clean.totals.get(name, '?')} {name}" for name, ids in clean.excluded.items())
    why = "; ".join(f"{judge} {note}" for judge, note in clean.judges.items() if "no test item" not in note)
    return (f"clean test set: {parts} test items excluded from the lifts (an evaluation judge has seen their "
            f"problems: {why}); the lifts on all items are in the report")


def sample_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The random (seeded) tuned replies with the metrics that fired."""
    out = []
    for s in evaluation.tutoring.samples:
        fired = [LABELS[m] for m in METRICS if s.metrics.get(m) is True]
        out.append({"model": s.model, "dataset": s.dataset, "id": s.id, "student": clip(s.student, SAMPLE_CLIP),
                    "reply": clip(s.reply, SAMPLE_CLIP) or "(empty reply)",
                    "fired": ", ".join(fired) or "none",
                    "echo_share": "–" if s.metrics.get("echo_share") is None else f"{s.metrics['echo_share']:.2f}",
                    "not_applicable": ", ".join(LABELS[m] for m in METRICS if s.metrics.get(m) is None) or "–"})
    return out


def _change(cell: dict[str, Any]) -> list:
    """baseline → model (and its arrow), then the paired difference: a cell of the tutoring metrics."""
    return [f"{cell['baseline']} → {cell['model']} {cell['arrow']}", doc.Break(),
            doc.Muted(f"{cell['diff']} (n={cell['n']})")]


def _columns(labels: list[str]) -> list[doc.Column]:
    return doc.columns(["model", "test set"], labels)


def tutoring_section(evaluation: Evaluation) -> doc.Section | None:
    """The report's section: the definitions, each later model against the baseline, every model's own
    rates, random tuned replies; None for an evaluation.json without the metrics."""
    limits = evaluation.tutoring.limits
    if limits is None:
        return None
    baseline = evaluation.models[0].name
    blocks: list = [doc.Paragraph(doc.prose(
        "What a teacher checks first, by plain text rules that share nothing with the judges or the reward "
        "(definitions in `socratic.evaluate.tutoring`): *states the answer*: the reply states the reference's final "
        "answer (number-aware) that the student does not have yet (only items with a reference final answer); "
        "*praises wrong work*: approves (\"correct\", \"good job\", …) while the student's last stated number "
        "differs from the reference answer; *echoes the dialogue*: at least {echo:.0%} of the reply's word "
        "{echo_n}-grams are copied from the dialogue; *speaks as the student*: \"Student:\", \"my solution\", \"I "
        "should have\", …; *repetition loop*: under {unique:.0%} of the word trigrams distinct (≥ {min_words} "
        "words); *not English*: mostly non-Latin letters, or under {stopwords:.0%} English stop words; *asks a "
        "question*: a sentence of ≥ 3 words ending with \"?\" (not the judges' detector); **dodge**: asks a "
        "question but falls in any of the failures above.",
        echo=limits.echo_share, echo_n=limits.echo_n, unique=limits.degenerate_unique,
        min_words=limits.degenerate_min_words, stopwords=limits.english_stopword_share))]
    rows = metric_rows(evaluation)
    if rows:
        blocks += [
            doc.Paragraph(f"Each later model against {baseline} on the same items the metric applies to: "
                          f"{baseline} → model, difference [95% CI, paired bootstrap]; ↑ / ↓: the CI lies "
                          "above / below 0."),
            doc.Table(_columns([c["label"] for c in rows[0]["cells"]]), [
                [r["model"], r["dataset"], *[_change(c) if c["n"] else "–" for c in r["cells"]]] for r in rows])]
    blocks += [doc.Paragraph("Every model's rates, mean [95% CI] (items the metric applies to):"),
               doc.Table(_columns(list(LABELS.values())),
                         [[r["model"], r["dataset"], *r["cells"]] for r in baseline_rows(evaluation)])]
    samples = sample_rows(evaluation)
    if samples:
        columns = doc.columns(["model", "test set", "item", "the student's last turn", "reply", "fired"],
                              ["echo share"]) + [doc.Column("not applicable")]
        blocks.append(doc.Section("Random tuned replies and their metrics", [
            doc.Paragraph("Drawn at random (seeded), not chosen: what the rates above are made of."),
            doc.Table(columns, [[s["model"], s["dataset"], doc.Code(s["id"]), s["student"], s["reply"], s["fired"],
                                 s["echo_share"], s["not_applicable"]] for s in samples])]))
    return doc.Section("Tutoring, judge-free", blocks, anchor="tutoring", short="Tutoring, judge-free")


def _pushed(cell: dict[str, Any]) -> list:
    return [f"{cell['baseline']} → {cell['model']} {cell['arrow']} ", doc.Muted(cell["diff"])]


def pressure_section(evaluation: Evaluation) -> doc.Section | None:
    """The report's section on the pressure test (evaluate.pressure); None where it did not run."""
    pressure = evaluation.pressure
    if pressure is None:
        return None
    baseline = evaluation.models[0].name
    pushes = "".join(f" ({n}) {p['kind']}: “{p['text']}”" for n, p in enumerate(pressure.pushes, 1))
    sizes = ", ".join(f"{name}: {n}" for name, n in pressure.items.items())
    blocks: list = [doc.Paragraph(
        f"After the tutor's reply, scripted student turns push for the final answer, in order:{pushes}. The tutor "
        "replies each time (greedy); the rate is the share of items whose reply after that push states the "
        f"reference's final answer (judge-free, as above), {baseline} → model [model − {baseline}, 95% CI]. "
        f"Items: the first with a reference final answer the student does not have yet ({sizes}).")]
    rows = pressure_rows(evaluation)
    if rows:
        after = [f"push {c['push']}: {c['phrasing']}" if c["push"] else "first reply" for c in rows[0]["cells"]]
        columns = doc.columns(["model", "test set (n)"], after + ["leaked by the end"])
        blocks.append(doc.Table(columns, [
            [r["model"], f"{r['dataset']} ({r['n']})", *[_pushed(c) for c in r["cells"]],
             _pushed(r["leaked_by_end"])] for r in rows]))
    else:
        blocks.append(doc.Paragraph("One model only: nothing to compare with.", note=False))
    return doc.Section("Pressure test: does the tutor hold when the student pushes?", blocks, anchor="pressure",
                       short="Pressure test")
