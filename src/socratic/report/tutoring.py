"""Tutoring, not form, in the report and the headline: the judge-free tutoring metrics, the pressure test,
the clean test set and random tuned replies. Pure: evaluation.json's `tutoring`, `pressure`, `clean` in,
rows, lines and the report's two sections out; the definitions are socratic.evaluate.tutoring's, .pressure's and .clean's.

    rows = metric_rows(Evaluation.read("runs/x/eval/evaluation.json"))
"""

from __future__ import annotations

import itertools
from typing import Any

from socratic.evaluate.config import TEACHER
from socratic.evaluate.result import Evaluation, RateDiff
from socratic.evaluate.tutoring import METRICS
from socratic.report.document import Bold, Break, Code, Column, Italic, Muted, Paragraph, Section, Table
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


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _change(cell: dict[str, Any]) -> list:
    """baseline → model (and its arrow), then the paired difference, as a tutoring or pressure cell shows it."""
    return [f"{cell['baseline']} → {cell['model']} {cell['arrow']}", Break(), Muted(f"{cell['diff']} (n={cell['n']})")]


def tutoring_section(evaluation: Evaluation) -> Section | None:
    """The report's section: the definitions, each later model against the baseline, every model's own
    rates, random tuned replies; None for an evaluation.json without the metrics."""
    limits = evaluation.tutoring.limits
    if limits is None:
        return None
    baseline = evaluation.models[0].name
    blocks: list = [Paragraph([
        ("What a teacher checks first, by plain text rules that share nothing with the judges or the reward "
        "(definitions in "), Code("socratic.evaluate.tutoring"), "): ", Italic("states the answer"),
        (": the reply states the reference's final answer (number-aware) that the student does not have yet (only "
        "items with a reference final answer); "), Italic("praises wrong work"), (": approves (\"correct\", \"good "
        "job\", …) while the student's last stated number differs from the reference answer; "),
        Italic("echoes the dialogue"), (f": at least {_pct(limits.echo_share)} of the reply's word {limits.echo_n}-grams "
        "are copied from the dialogue; "), Italic("speaks as the student"), (": \"Student:\", \"my solution\", \"I "
        "should have\", …; "), Italic("repetition loop"), (f": under {_pct(limits.degenerate_unique)} of the word "
        f"trigrams distinct (≥ {limits.degenerate_min_words} words); "), Italic("not English"), (": mostly non-Latin "
        f"letters, or under {_pct(limits.english_stopword_share)} English stop words; "), Italic("asks a question"),
        ": a sentence of ≥ 3 words ending with \"?\" (not the judges' detector); ", Bold("dodge"),
        ": asks a question but falls in any of the failures above."])]
    rows = metric_rows(evaluation)
    if rows:
        columns = [Column("model"), Column("test set"), *[Column(c["label"], numeric=True) for c in rows[0]["cells"]]]
        blocks += [
            Paragraph(f"Each later model against {baseline} on the same items the metric applies to: {baseline} → "
                      "model, difference [95% CI, paired bootstrap]; ↑ / ↓: the CI lies above / below 0."),
            Table(columns, [[r["model"], r["dataset"], *[_change(c) if c["n"] else "–" for c in r["cells"]]]
                            for r in rows])]
    columns = [Column("model"), Column("test set"), *[Column(label, numeric=True) for label in LABELS.values()]]
    blocks += [Paragraph("Every model's rates, mean [95% CI] (items the metric applies to):"),
               Table(columns, [[r["model"], r["dataset"], *r["cells"]] for r in baseline_rows(evaluation)])]
    samples = sample_rows(evaluation)
    if samples:
        columns = [Column("model"), Column("test set"), Column("item"), Column("the student's last turn"),
                   Column("reply"), Column("fired"), Column("echo share", numeric=True), Column("not applicable")]
        blocks.append(Section("Random tuned replies and their metrics", [
            Paragraph("Drawn at random (seeded), not chosen: what the rates above are made of."),
            Table(columns, [[s["model"], s["dataset"], Code(s["id"]), s["student"], s["reply"], s["fired"],
                             s["echo_share"], s["not_applicable"]] for s in samples])]))
    return Section("Tutoring, judge-free", blocks, anchor="tutoring", short="Tutoring, judge-free")


def _pushed(cell: dict[str, Any]) -> list:
    return [f"{cell['baseline']} → {cell['model']} {cell['arrow']} ", Muted(cell["diff"])]


def pressure_section(evaluation: Evaluation) -> Section | None:
    """The report's section on the pressure test (evaluate.pressure); None where it did not run."""
    pressure = evaluation.pressure
    if pressure is None:
        return None
    baseline = evaluation.models[0].name
    pushes = "".join(f" ({n}) {p['kind']}: “{p['text']}”" for n, p in enumerate(pressure.pushes, 1))
    sizes = ", ".join(f"{name}: {n}" for name, n in pressure.items.items())
    blocks: list = [Paragraph(
        f"After the tutor's reply, scripted student turns push for the final answer, in order:{pushes}. The tutor "
        "replies each time (greedy); the rate is the share of items whose reply after that push states the "
        f"reference's final answer (judge-free, as above), {baseline} → model [model − {baseline}, 95% CI]. Items: "
        f"the first with a reference final answer the student does not have yet ({sizes}).")]
    rows = pressure_rows(evaluation)
    if rows:
        columns = [Column("model"), Column("test set (n)")]
        columns += [Column(f"push {c['push']}: {c['phrasing']}" if c["push"] else "first reply", numeric=True)
                    for c in rows[0]["cells"]]
        blocks.append(Table(columns + [Column("leaked by the end", numeric=True)], [
            [r["model"], f"{r['dataset']} ({r['n']})", *[_pushed(c) for c in r["cells"]], _pushed(r["leaked_by_end"])]
            for r in rows]))
    else:
        blocks.append(Paragraph("One model only: nothing to compare with.", note=False))
    return Section("Pressure test: does the tutor hold when the student pushes?", blocks, anchor="pressure",
                   short="Pressure test")
