"""The aggregation of an evaluation, pure: judgments in, the numbers of evaluation.json out.

`summarize` gives per model x test set x judge the mean summary (both formulas) with a 95% bootstrap CI,
the four criteria and the failures, and paired bootstrap tests between models on the same items;
`reply_changes` the form-vs-content change of each model's replies against the baseline's;
`judge_warnings` the warning when the training judge also judges the evaluation.
evaluation.py (the I/O edge) writes them; result.py is the file's schema.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from socratic.evaluate.changes import summarize_changes
from socratic.evaluate.result import EvalReply
from socratic.evaluate.stats import mean_ci, paired_bootstrap
from socratic.scores import CRITERIA, Formula, Judgment, judgment_summary

# Published numbers (reference formula, GPT-4o judge) to read ours against; see docs/design.md.
PAPER_ANCHORS = {
    "model": "Phi-3-mini-4k-instruct", "judge": "GPT-4o", "formula": "reference",
    "base": {"mathdial": 0.82, "debugging": 0.48, "tutorchat": 0.74},
    "tuned": {"mathdial": 0.99, "debugging": 0.99, "tutorchat": 1.00},
}


def _criteria(judgments: Sequence[Judgment], seed: int, n_resamples: int) -> dict[str, Any]:
    ok = [j.scores for j in judgments if j.scores is not None]
    return {name: mean_ci([float(getattr(s, name)) for s in ok], seed=seed, n_resamples=n_resamples).model_dump()
            for name in CRITERIA}


def judgments_by_cell(judgments: Sequence[Judgment]) -> dict[tuple[str, str, str], dict[str, Judgment]]:
    """(judge, model, dataset) -> {dialogue id: judgment}."""
    cells: dict[tuple[str, str, str], dict[str, Judgment]] = {}
    for j in judgments:
        cells.setdefault((j.judge, j.meta["model"], j.meta["dataset"]), {})[j.dialogue.id] = j
    return cells


def scored_pairs(baseline: dict[str, Judgment], model: dict[str, Judgment]) -> list[tuple[Judgment, Judgment]]:
    """(baseline, model) judgments of the items both have scores for: the items of every paired test."""
    return [(baseline[i], model[i]) for i in baseline if i in model and baseline[i].scores and model[i].scores]


def summarize(judgments: Sequence[Judgment], *, models: Sequence[str], datasets: Sequence[str],
              judges: Sequence[str], formula: Formula = "uniform", seed: int = 0,
              n_resamples: int = 4000) -> dict[str, Any]:
    """Per-cell estimates and paired tests from the judgments (meta must name model and dataset)."""
    cells = judgments_by_cell(judgments)
    results, paired = [], []
    for judge, dataset in itertools.product(judges, datasets):
        for model in models:
            cell = list(cells.get((judge, model, dataset), {}).values())
            ok = [j for j in cell if j.scores is not None]
            entry = {"model": model, "dataset": dataset, "judge": judge, "n": len(cell), "judged": len(ok),
                     "failed": len(cell) - len(ok), "empty_replies": sum(not j.reply.strip() for j in cell),
                     "errors": sorted({(j.error or "")[:120] for j in cell if j.scores is None})[:5]}
            for name in ("uniform", "reference"):
                entry[f"summary_{name}"] = mean_ci([judgment_summary(j, name) for j in ok], seed=seed,
                                                   n_resamples=n_resamples).model_dump()
            entry["summary"] = entry[f"summary_{formula}"]
            entry["criteria"] = _criteria(ok, seed, n_resamples)
            results.append(entry)
        for a, b in itertools.combinations(models, 2):
            shared = scored_pairs(cells.get((judge, a, dataset), {}), cells.get((judge, b, dataset), {}))
            for name in ("uniform", "reference"):
                test = paired_bootstrap([judgment_summary(right, name) for _, right in shared],
                                        [judgment_summary(left, name) for left, _ in shared],
                                        seed=seed, n_resamples=n_resamples)
                paired.append({"judge": judge, "dataset": dataset, "model": b, "baseline": a,
                               "formula": name, **test.model_dump()})
    return {"results": results, "paired": paired}


def reply_changes(replies: Sequence[EvalReply], models: Sequence[str]) -> list[dict[str, Any]]:
    """Form-vs-content change of each model's replies against the first model's, per dataset."""
    by = {(r.model, r.dataset, r.dialogue.id): r.reply for r in replies}
    datasets = list(dict.fromkeys(r.dataset for r in replies))
    out = []
    for model, dataset in itertools.product(models[1:], datasets):
        pairs = [(by[(models[0], dataset, i)], reply) for (m, d, i), reply in by.items()
                 if m == model and d == dataset and (models[0], dataset, i) in by]
        out.append({"baseline": models[0], "model": model, "dataset": dataset, **summarize_changes(pairs)})
    return out


def judge_warnings(judges: Sequence[str], training_judge: str | None) -> list[str]:
    """The warning when the judge that ranked the training pairs also judges the evaluation. Where another
    evaluation judge did not rank them, the lift is to be read by that one too (the report flags a lift
    only the reward judge sees); where none did, the advice is to add one."""
    if not training_judge or training_judge not in judges:
        return []
    independent = [judge for judge in dict.fromkeys(judges) if judge != training_judge]
    risk = (f"The judge that ranked the training pairs ({training_judge}) also judged this evaluation: part of a "
            "lift it sees may be the tuned model gaming its reward rather than tutoring better.")
    if independent:
        return [(f"{risk} Read the lift by {' and '.join(independent)}, which did not rank the pairs, side by side "
                 f"with it (a lift only {training_judge} sees is flagged), and check the form-vs-content changes.")]
    return [f"{risk} Check the form-vs-content changes and evaluate with a second, independent judge."]


def cell(evaluation: dict[str, Any], model: str, dataset: str, judge: str | None = None) -> dict | None:
    """The result entry of one model x dataset (x judge; default the first judge)."""
    judge = judge or evaluation["judges"][0]
    return next((r for r in evaluation["results"]
                 if (r["model"], r["dataset"], r["judge"]) == (model, dataset, judge)), None)
