"""The report's sections on the judges' scores, which every evaluation has: the models, the summary score
per model and test set (one part per judge), the paired tests, the cross-dataset table, the per-criterion
breakdown next to the paper's numbers, who judged what, and how the replies changed (form vs content).
Pure: evaluation.json in, report sections out (figures drawn into `pngs`, by name); build.py orders them.

    sections = [models_section(evaluation), summary_section(evaluation, pngs), ...]
"""

from __future__ import annotations

from typing import Any

from socratic.evaluate.result import Evaluation
from socratic.report import document as doc
from socratic.report import figures
from socratic.report.text import fmt
from socratic.scores import CRITERIA

REFERENCE_FORMULA = "0.25q + 0.25(1−r) + 0.05·on_topic + 0.05·helpful"


def figure_key(judge: str) -> str:
    return judge.replace(":", "_").replace("/", "_")


def warnings(evaluation: Evaluation) -> list[doc.Callout]:
    return [doc.Callout([doc.Bold("Warning:"), f" {w}"]) for w in evaluation.warnings]


def models_section(evaluation: Evaluation) -> doc.Section:
    rows = [[m.name, doc.Code(m.spec), m.trained_on or "–"] for m in evaluation.models]
    return doc.Section("Models", [doc.Table(doc.columns(["name", "spec", "trained on"]), rows),
                                  *warnings(evaluation)])


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


def summary_section(evaluation: Evaluation, pngs: dict[str, bytes]) -> doc.Section:
    parts = []
    for judge in evaluation.judges:
        name = f"summary_{figure_key(judge)}"
        pngs[name] = figures.summary_bars(evaluation, judge)
        tables = summary_tables(evaluation, judge)
        rows = []
        for r in tables["rows"]:
            cells = [[f"{c} ", doc.Muted(f"(n={n}{f', {failed} failed' if failed else ''})")]
                     for c, n, failed in zip(r["cells"], r["n"], r["failed"])]
            rows.append([r["model"], *cells])
        columns = doc.columns(["model"], [f"{d}: mean [95% CI]" for d in tables["datasets"]])
        parts.append(doc.Section(["Judge: ", doc.Code(judge)],
                                 [doc.Figure(name, "summary score bars"), doc.Table(columns, rows)]))
    return doc.Section("Summary score per model and test set", parts, anchor="summary", short="Summary")


def paired_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    baseline = evaluation.models[0].name
    rows = []
    for p in evaluation.paired:
        if p.baseline != baseline or p.formula != evaluation.formula or p.diff is None:
            continue
        rows.append({**p.model_dump(), "ci": f"[{p.low:+.2f}, {p.high:+.2f}]", "diff_s": f"{p.diff:+.3f}",
                     "p_s": f"{p.p_value:.4f}", "significant": p.p_value < 0.05})
    return rows


def paired_section(evaluation: Evaluation) -> doc.Section:
    baseline = evaluation.models[0].name
    columns = doc.columns(["judge", "test set", "model"], ["n", "difference", "95% CI", "p"])
    rows = [[p["judge"], p["dataset"], p["model"], str(p["n"]),
             doc.Cell(doc.Bold(p["diff_s"]), doc.GOOD) if p["significant"] else p["diff_s"], p["ci"], p["p_s"]]
            for p in paired_rows(evaluation)]
    return doc.Section(f"Paired tests against {baseline}", [
        doc.Paragraph(f"Mean difference of the summary score on the same items (model − {baseline}), 95% bootstrap "
                      "CI, two-sided bootstrap p-value; bold where p < 0.05."),
        doc.Table(columns, rows)], anchor="paired", short="Paired tests")


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


def cross_section(evaluation: Evaluation, pngs: dict[str, bytes]) -> doc.Section | None:
    judge = evaluation.judges[0]
    cross = cross_table(evaluation, judge)
    if cross is None:
        return None
    pngs["cross"] = figures.cross_heatmap(cross["labels"], cross["datasets"], cross["values"],
                                          f"Mean summary, trained on X (rows) x tested on Y (judge: {judge})")
    columns = doc.columns(["model"], [f"test: {d}" for d in cross["datasets"]])
    rows = [[label, *cells] for label, cells in zip(cross["labels"], cross["cells"])]
    return doc.Section("Cross-dataset table: trained on X, tested on Y",
                   [doc.Figure("cross", "cross-dataset heatmap"), doc.Table(columns, rows)],
                   anchor="cross", short="Cross-dataset")


def criteria_section(evaluation: Evaluation, pngs: dict[str, bytes]) -> doc.Section:
    parts: list[doc.Section] = []
    columns = doc.columns(["model", "test set"],
                          ["n", "asks a question", "on topic (1-5)", "helpful (1-5)", "reveals the answer"])
    for judge in evaluation.judges:
        name = f"criteria_{figure_key(judge)}"
        pngs[name] = figures.criteria_bars(evaluation, judge)
        rows = [[r["model"], r["dataset"], str(r["n"]), *[r[k] for k in CRITERIA]]
                for r in summary_tables(evaluation, judge)["criteria_rows"]]
        parts.append(doc.Section(["Judge: ", doc.Code(judge)],
                                 [doc.Figure(name, "per-criterion bars"), doc.Table(columns, rows)]))
    anchors = evaluation.paper_anchors
    if anchors:
        first = summary_tables(evaluation, evaluation.judges[0])
        datasets = first["datasets"]
        rows = [[r["model"], *r["reference"]] for r in first["rows"]]
        rows += [[f"paper: {anchors['model']} {kind}", *[str(anchors[kind].get(d, "–")) for d in datasets]]
                 for kind in ("base", "tuned")]
        parts.append(doc.Section("Reference formula, next to the paper's numbers", [
            doc.Paragraph(f"The paper reports {anchors['model']} judged by {anchors['judge']} with the reference "
                          f"formula ({REFERENCE_FORMULA}). Different model and judge: compare directions, not levels."),
            doc.Table(doc.columns(["model"], datasets), rows)]))
    return doc.Section("Per-criterion breakdown", parts, anchor="criteria", short="Criteria")


def judges_section(evaluation: Evaluation, rankers: list[dict[str, str]]) -> doc.Section:
    rows = [[f"reward judge: ranked the training candidates ({t['dataset']})", doc.Code(t["judge"])]
            for t in rankers]
    rows += [["evaluation judge: judged the evaluation replies", doc.Code(j)] for j in evaluation.judges]
    return doc.Section("Who judged what", [doc.Table(doc.columns(["role", "judge"]), rows), *warnings(evaluation)],
                       anchor="judges", short="Who judged what")


def _two(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def changes_section(evaluation: Evaluation) -> doc.Section:
    baseline, changes = evaluation.models[0].name, evaluation.changes
    threshold = changes[0]["form_jaccard_threshold"] if changes else 0.8
    columns = doc.columns(["model", "test set"], ["n", "identical", "form only", "content", "question mark added",
                                                  "…of which form only", "mean Jaccard", "mean edit ratio"])
    rows = [[c["model"], c["dataset"], str(c["n"]), str(c["counts"]["identical"]), str(c["counts"]["form"]),
             str(c["counts"]["content"]), str(c["question_added"]), str(c["question_added_form_only"]),
             _two(c["mean_jaccard"]), _two(c["mean_edit_ratio"])] for c in changes]
    return doc.Section(f"Form vs content: how replies changed against {baseline}", [
        doc.Paragraph(doc.prose(
            "Same test item, greedy replies compared word by word. *identical*: same text; *form*: the same words "
            "give or take a few (token-set Jaccard ≥ {threshold}); *content*: different words. A lift made of "
            "form-only changes (e.g. a question mark added) is a sign of a gamed judge.", threshold=threshold)),
        doc.Table(columns, rows)], anchor="changes", short="Form vs content")
