"""The gaming and collapse checks in the report: question and reveal rates next to the baseline's, the
form-only share of each lift, distinctness. Pure: evaluation.json's `behaviour` in, table rows and flags
out, and the report's section (`checks_section`); the definitions and limits are
socratic.evaluate.behaviour's, read from the file.

    checks = behaviour_checks(Evaluation.read("runs/x/eval/evaluation.json"))
    checks["flags"]   # one line per missed target, also in the report's caveats

Flags: a tuned model's reveal rate above the baseline's by any judge (its 95% CI says whether clearly);
a form-only share of a lift at or above the limit; a collapsed model (base included: it says what the
tuning started from).
"""

from __future__ import annotations

import itertools
from typing import Any

from socratic.evaluate.result import JUDGE_FREE, Evaluation, RateDiff
from socratic.report import document as doc
from socratic.report.text import clip, fmt

MOST_REPEATED_CLIP = 160  # characters of the most repeated reply shown


def _rate(test: RateDiff | None) -> str:
    if test is None or test.model_rate is None:
        return "–"
    return f"{test.model_rate:.2f} (base {test.baseline_rate:.2f})"


def _diff(test: RateDiff) -> str:
    return f"{test.diff:+.2f} [{test.low:+.2f}, {test.high:+.2f}]"


def _rows(evaluation: Evaluation, models: list[str], row) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per model x test set that has one (`row` returns None where not); the rows' flags, named."""
    rows, flags = [], []
    for model, dataset in itertools.product(models, evaluation.datasets):
        found = row(evaluation, model, dataset)
        if found is not None:
            rows.append({"model": model, "dataset": dataset, **found})
            flags += [f"{model} on {dataset}: {f}" for f in found["flags"]]
    return rows, flags


def _tuned(evaluation: Evaluation) -> list[str]:
    return [m.name for m in evaluation.models[1:]]


def _rate_row(evaluation: Evaluation, model: str, dataset: str) -> dict[str, Any] | None:
    behaviour = evaluation.behaviour
    free = behaviour.rate("asks_question", model, dataset)
    if free is None:
        return None
    cells, flags = [], []
    for judge in evaluation.judges:
        questions = behaviour.rate("questions", model, dataset, judge)
        reveal = behaviour.rate("reveal_answer", model, dataset, judge)
        higher = reveal is not None and reveal.diff is not None and reveal.diff > 0
        cells.append({"judge": judge, "questions": _rate(questions), "reveal": _rate(reveal),
                      "reveal_diff": "–" if reveal is None or reveal.diff is None else _diff(reveal),
                      "reveal_higher": higher})
        if higher:
            clearly = "its CI lies above 0" if reveal.low > 0 else "its CI includes 0"
            flags.append(f"reveal rate by {judge} higher than {reveal.baseline}'s: {reveal.model_rate:.2f} vs "
                         f"{reveal.baseline_rate:.2f}, {_diff(reveal)} ({clearly})")
    return {"asks_question": _rate(free), "cells": cells, "flags": flags}


def rate_rows(evaluation: Evaluation) -> tuple[list[dict[str, Any]], list[str]]:
    """Per tuned model x test set: question rates (judge-free and per judge) and reveal rates, each next
    to the baseline's on the same items; a flag where a reveal rate is higher than the baseline's."""
    return _rows(evaluation, _tuned(evaluation), _rate_row)


def _form_only_row(evaluation: Evaluation, model: str, dataset: str) -> dict[str, Any] | None:
    limits = evaluation.behaviour.limits
    entries = {judge: evaluation.behaviour.form_only_lift(model, dataset, judge) for judge in evaluation.judges}
    if not any(entries.values()):
        return None
    cells, flags = [], []
    for judge, e in entries.items():
        if e is None or e.mean_lift is None:
            cells.append({"judge": judge, "text": "–", "over": False})
            continue
        form_items = f"{e.items.get('form', 0)}/{e.n} items form only"
        if e.form_only_share is None:
            text = f"– (lift {e.mean_lift:+.3f}, below {limits.min_lift_to_split}; {form_items})"
        else:
            text = f"{e.form_only_share:.0%} of {e.mean_lift:+.3f} ({form_items})"
        over = e.form_only_share is not None and e.form_only_share >= limits.form_only_share
        cells.append({"judge": judge, "text": text, "over": over})
        if over:
            flags.append(f"{e.form_only_share:.0%} of the lift by {judge} ({e.mean_lift:+.3f}) comes from replies "
                         f"that changed only their form (target: less than {limits.form_only_share:.0%})")
    return {"cells": cells, "flags": flags}


def form_only_rows(evaluation: Evaluation) -> tuple[list[dict[str, Any]], list[str]]:
    """Per tuned model x test set, one cell per judge: the share of the lift from form-only changes."""
    return _rows(evaluation, _tuned(evaluation), _form_only_row)


def _distinctness_row(evaluation: Evaluation, model: str, dataset: str) -> dict[str, Any] | None:
    s = evaluation.behaviour.reply_set(model, dataset)
    if s is None:
        return None
    share = "–" if s.near_duplicate_share is None else f"{s.near_duplicate_share:.0%}"
    one_line = " ".join(clip(s.most_repeated, MOST_REPEATED_CLIP).split())
    repeated = f"“{one_line}” ({s.most_repeated_count} items)" if s.most_repeated_count else "none repeated"
    flags = []
    if s.collapsed:
        flags.append(f"collapsed: {share} of its {s.n} replies are near-identical to another item's reply (limit "
                     f"{evaluation.behaviour.limits.collapse_share:.0%}); the most repeated: {repeated}")
    return {"n": s.n, "asks_question": fmt(s.asks_question), "share": share,
            "verdict": "collapsed" if s.collapsed else "distinct",
            "most_repeated": repeated, "flags": flags}


def distinctness_rows(evaluation: Evaluation) -> tuple[list[dict[str, Any]], list[str]]:
    """Per model (the baseline too) x test set: the near-duplicate share and the most repeated reply."""
    return _rows(evaluation, [m.name for m in evaluation.models], _distinctness_row)


def behaviour_checks(evaluation: Evaluation) -> dict[str, Any] | None:
    """The report's checks section, or None for an evaluation.json written before the checks existed."""
    limits = evaluation.behaviour.limits
    if limits is None:
        return None
    rates, rate_flags = rate_rows(evaluation)
    form_only, form_flags = form_only_rows(evaluation)
    distinct, collapse_flags = distinctness_rows(evaluation)
    return {"limits": limits, "judge_free": JUDGE_FREE, "rates": rates, "form_only": form_only,
            "distinctness": distinct, "flags": rate_flags + form_flags + collapse_flags}


def _flags(row: dict[str, Any]) -> doc.Flag | str:
    return doc.Flag("; ".join(row["flags"])) if row["flags"] else "–"


def checks_section(evaluation: Evaluation) -> tuple[doc.Section | None, list[str]]:
    """The report's section and its flags (for the caveats); None and no flags for an evaluation.json
    written before the checks existed."""
    checks = behaviour_checks(evaluation)
    if checks is None:
        return None, []
    baseline, judges, limits = evaluation.models[0].name, evaluation.judges, checks["limits"]
    rates = doc.Paragraph(doc.prose(
        "*asks a question, judge-free*: share of replies with at least one genuine question to the student "
        "(`signals.genuine_questions`: text rules, no model; but the same detector as the rubric judge's "
        "`questions`, which filters the pairs and feeds the reward, so not independent of it: \"Tutoring, "
        "judge-free\" below counts questions by a plain rule of its own). *questions* / *reveals*: share of replies "
        "the judge scored yes on that criterion. Reveal difference: paired bootstrap, 95% CI. Target: a reveal rate "
        "not higher than {baseline}'s.", baseline=baseline))
    if checks["rates"]:
        columns = doc.columns(["model", "test set"], ["asks a question, judge-free"])
        for j in judges:
            columns += [doc.Column([doc.Code(j), f" {what}"], numeric=True)
                        for what in ("questions", "reveals", "reveal difference")]
        rows = []
        for r in checks["rates"]:
            cells = []
            for c in r["cells"]:
                reveal = doc.Cell(doc.Bold(c["reveal"]), doc.BAD) if c["reveal_higher"] else c["reveal"]
                cells += [c["questions"], reveal, c["reveal_diff"]]
            rows.append([r["model"], r["dataset"], r["asks_question"], *cells, _flags(r)])
        rate_blocks = [rates, doc.Table(columns + [doc.Column("flags")], rows)]
    else:
        rate_blocks = [rates, doc.Paragraph("One model only: nothing to compare with (its rates are in the "
                                            "per-criterion breakdown and below).", note=False)]
    form_only = doc.Paragraph(
        "Per judge: the summary differences of the items whose reply changed only its form (token-set Jaccard ≥ "
        f"{limits.form_jaccard} against {baseline}'s reply), as a share of the mean lift over all paired items; "
        f"not computed for a lift below {limits.min_lift_to_split}. Target: less than "
        f"{100 * limits.form_only_share:.0f}%.")
    if checks["form_only"]:
        columns = doc.columns(["model", "test set"], [doc.Code(j) for j in judges]) + [doc.Column("flags")]
        rows = [[r["model"], r["dataset"], *[doc.Cell(doc.Bold(c["text"]), doc.BAD) if c["over"] else c["text"]
                                             for c in r["cells"]], _flags(r)] for r in checks["form_only"]]
        form_blocks = [form_only, doc.Table(columns, rows)]
    else:
        form_blocks = [form_only, doc.Paragraph("One model only: no lift to split.", note=False)]
    columns = doc.columns(["model", "test set"], ["n", "asks a question, judge-free [95% CI]",
                                                  "near-duplicate share"])
    columns += doc.columns(["verdict", "most repeated reply"])
    rows = [[r["model"], r["dataset"], str(r["n"]), r["asks_question"], r["share"],
             doc.Flag("collapsed") if r["verdict"] == "collapsed" else r["verdict"], r["most_repeated"]]
            for r in checks["distinctness"]]
    distinct_blocks = [
        doc.Paragraph(doc.prose(
            "Share of test items whose reply is near-identical (token-set Jaccard ≥ {jaccard}, equal texts "
            "included) to the reply to another item of the same test set. Above {collapse:.0%} the model has "
            "**collapsed**.", jaccard=limits.form_jaccard, collapse=limits.collapse_share)),
        doc.Table(columns, rows),
        *[doc.Callout([doc.Bold("Gaming or collapse check:"), f" {f}"]) for f in checks["flags"]]]
    return doc.Section("Gaming and collapse checks", [
        doc.Paragraph(doc.prose(
            "Did the tuned models learn to tutor, or to please a judge, or to say one thing to every student? "
            "Definitions in `socratic.evaluate.behaviour`; every rate is next to {baseline}'s on the same items.",
            baseline=baseline)),
        doc.Section("Question and reveal rates", rate_blocks),
        doc.Section("Share of the lift from form-only changes", form_blocks),
        doc.Section("Distinctness, and questions asked (judge-free) by every model", distinct_blocks),
    ], anchor="checks", short="Gaming and collapse"), checks["flags"]
