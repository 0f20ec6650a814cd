"""Judge validation: how well does a judge agree with human labels, per criterion and on the summary score?

    socratic agreement --labels data/socratic_llm/mathdial_human_eval_dev.json --judge rubric -o runs/agreement

The statistics are pure functions over plain sequences (`binary_agreement`, `ordinal_agreement`,
`summary_agreement`) or over records (`compare`, `disagreements`), returning JSON-ready dicts: an undefined
statistic (constant labels, one class only, too few items) is `None` with a note saying why, never NaN
and never a crash. `run(config)` is the I/O edge: load labels, judge every reply with every judge, write
`agreement.json` and the figures of `socratic.agreement.plots`.

The published anchor is the paper's GPT-4o judge vs humans: Pearson 0.78 on the summary score of 100
MathDial replies (`ANCHOR`); the shipped dev file holds 50 of those 100.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

from socratic.agreement.config import AgreementConfig
from socratic.agreement.ranking import suite_items
from socratic.agreement.result import Agreement
from socratic.agreement.teacher_check import teacher_block
from socratic.errors import InputError
from socratic.judge.baseline import QMARK
from socratic.records import LabelledReply
from socratic.scores import CRITERIA, Formula, Judgment, Scores, judgment_summary, summary_score
from socratic.store.cache import Cache, NoCache

BINARY = ("questions", "reveal_answer")
MIN_CORRELATION_N = 3
BASELINE = QMARK  # the '?' baseline judge (socratic.judge.baseline): scored next to every judge
ANCHOR = {"judge": "GPT-4o", "pearson": 0.78, "n": 100, "dataset": "MathDial",
          "source": "Fine Tuning a Large Language Model for Socratic Interactions (EURECOM, 2024)",
          "note": "socratic_llm/mathdial_human_eval_dev.json holds 50 of those 100 items"}


# --------------------------------------------------------------------------- pure statistics

def _num(value: Any) -> float | None:
    """A float for JSON, or None where the statistic is undefined (NaN/inf)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    # scipy/sklearn warn on constant input; we report those cases as None + a note instead.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _correlation(name: str, fn: Callable[..., Any], h: np.ndarray, j: np.ndarray,
                 notes: list[str]) -> dict[str, float | None]:
    if len(h) < MIN_CORRELATION_N:
        notes.append(f"{name}: undefined with n={len(h)} < {MIN_CORRELATION_N}")
        return {"estimate": None, "p_value": None}
    if np.ptp(h) == 0 or np.ptp(j) == 0:
        side = "human labels" if np.ptp(h) == 0 else "judge values"
        notes.append(f"{name}: undefined because the {side} are constant")
        return {"estimate": None, "p_value": None}
    result = _quiet(fn, h, j)
    return {"estimate": _num(result.statistic), "p_value": _num(result.pvalue)}


def _kappa(name: str, h: np.ndarray, j: np.ndarray, notes: list[str], **kwargs: Any) -> float | None:
    value = _num(_quiet(cohen_kappa_score, h, j, **kwargs)) if len(h) else None
    if value is None and len(h):
        notes.append(f"{name}: undefined because humans and judge use a single, identical class "
                     f"(chance agreement is already 1)")
    return value


def binary_agreement(human: Sequence[bool], judge: Sequence[bool]) -> dict[str, Any]:
    """Accuracy, Cohen's kappa, precision/recall/F1 of "yes", the confusion matrix and yes-rates."""
    h, j = np.asarray(human, dtype=int), np.asarray(judge, dtype=int)
    n, notes = len(h), []
    if n == 0:
        notes.append("no item has both a human label and a judge value")
    prf = (_quiet(precision_recall_fscore_support, h, j, labels=[1], average=None, zero_division=np.nan)
           if n else ([np.nan], [np.nan], [np.nan], None))
    precision, recall, f1 = (_num(prf[k][0]) for k in range(3))
    if n and precision is None:
        notes.append("precision of 'yes': undefined, the judge never says yes")
    if n and recall is None:
        notes.append("recall of 'yes': undefined, humans never say yes")
    matrix = confusion_matrix(h, j, labels=[0, 1]).tolist() if n else [[0, 0], [0, 0]]
    return {
        "n": n,
        "accuracy": _num(np.mean(h == j)) if n else None,
        "kappa": _kappa("kappa", h, j, notes),
        "precision": precision, "recall": recall, "f1": f1,
        # rows = human (no, yes), columns = judge (no, yes)
        "confusion": {"labels": ["no", "yes"], "rows": "human", "columns": "judge", "matrix": matrix},
        "human_mean": _num(h.mean()) if n else None,
        "judge_mean": _num(j.mean()) if n else None,
        "notes": notes,
    }


def ordinal_agreement(human: Sequence[int], judge: Sequence[int]) -> dict[str, Any]:
    """Pearson, Spearman, quadratic-weighted kappa (labels 1-5), MAE, exact agreement and means."""
    h, j = np.asarray(human, dtype=float), np.asarray(judge, dtype=float)
    n, notes = len(h), []
    if n == 0:
        notes.append("no item has both a human label and a judge value")
    return {
        "n": n,
        "pearson": _correlation("pearson", stats.pearsonr, h, j, notes),
        "spearman": _correlation("spearman", stats.spearmanr, h, j, notes),
        "qwk": _kappa("qwk", h.astype(int), j.astype(int), notes, weights="quadratic", labels=[1, 2, 3, 4, 5]),
        "mae": _num(np.mean(np.abs(h - j))) if n else None,
        "exact": _num(np.mean(h == j)) if n else None,
        "human_mean": _num(h.mean()) if n else None,
        "judge_mean": _num(j.mean()) if n else None,
        "notes": notes,
    }


def _pearson_stat(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return _quiet(stats.pearsonr, x, y, axis=axis).statistic


def _spearman_stat(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return _pearson_stat(stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis), axis=axis)


def _bootstrap_ci(stat: Callable[..., np.ndarray], data: tuple[np.ndarray, ...], n_boot: int, seed: int,
                  name: str, notes: list[str]) -> tuple[float | None, float | None]:
    """Paired percentile bootstrap (items resampled with their human and judge values together)."""
    result = _quiet(stats.bootstrap, data, stat, paired=True, vectorized=True, n_resamples=n_boot,
                    method="percentile", confidence_level=0.95, rng=np.random.default_rng(seed))
    low, high = result.confidence_interval
    if math.isfinite(low) and math.isfinite(high):
        return float(low), float(high)
    # A resample whose human or judge side is constant has no correlation; drop those, say how many.
    dist = np.asarray(result.bootstrap_distribution)
    finite = dist[np.isfinite(dist)]
    notes.append(f"{name} CI: {len(dist) - len(finite)} of {len(dist)} resamples had a constant side "
                 "and were left out")
    if len(finite) < 0.5 * len(dist):
        return None, None
    return float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5))


def summary_agreement(human: Sequence[float], judge: Sequence[float], n_boot: int = 2000,
                      seed: int = 0) -> dict[str, Any]:
    """Pearson and Spearman with 95% paired bootstrap CIs (deterministic for a seed), MAE and means."""
    h, j = np.asarray(human, dtype=float), np.asarray(judge, dtype=float)
    n, notes = len(h), []
    if n == 0:
        notes.append("no item has all four human labels and a judge value")
    out: dict[str, Any] = {"n": n}
    for name, fn, stat in (("pearson", stats.pearsonr, _pearson_stat),
                           ("spearman", stats.spearmanr, _spearman_stat)):
        corr = _correlation(name, fn, h, j, notes)
        corr["ci_low"] = corr["ci_high"] = None
        if corr["estimate"] is not None and n_boot > 0:
            corr["ci_low"], corr["ci_high"] = _bootstrap_ci(stat, (h, j), n_boot, seed, name, notes)
        out[name] = corr
    out.update({
        "mae": _num(np.mean(np.abs(h - j))) if n else None,
        "human_mean": _num(h.mean()) if n else None,
        "judge_mean": _num(j.mean()) if n else None,
        "bootstrap": {"method": "paired percentile", "n_resamples": n_boot, "confidence_level": 0.95,
                      "seed": seed},
        "notes": notes,
    })
    return out


def _accuracy_stat(h: np.ndarray, j: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(j == h, axis=axis)


def _kappa_stat(h: np.ndarray, j: np.ndarray, axis: int = -1) -> np.ndarray:
    """Cohen's kappa of two 0/1 raters, vectorised (NaN when both are constant and agree)."""
    observed = np.mean(h == j, axis=axis)
    ph, pj = np.mean(h, axis=axis), np.mean(j, axis=axis)
    chance = ph * pj + (1 - ph) * (1 - pj)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (observed - chance) / (1 - chance)


def gain(name: str, stat: Callable[..., np.ndarray], human: Sequence[float], judge: Sequence[float],
         baseline: Sequence[float], n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """stat(human, judge) and stat(human, baseline) on the same items, their difference with a paired
    percentile bootstrap 95% CI, and a verdict: "better" / "worse" when the CI excludes 0."""
    h, j, b = (np.asarray(v, dtype=float) for v in (human, judge, baseline))
    notes: list[str] = []
    out: dict[str, Any] = {"n": len(h), "judge": None, "baseline": None, "difference": None, "ci_low": None,
                           "ci_high": None, "verdict": None, "notes": notes}
    if len(h) < MIN_CORRELATION_N:
        notes.append(f"{name}: fewer than {MIN_CORRELATION_N} items")
        return out
    out["judge"], out["baseline"] = _num(stat(h, j)), _num(stat(h, b))
    if out["judge"] is None or out["baseline"] is None:
        notes.append(f"{name}: undefined for the judge or the baseline (a constant side)")
        return out
    out["difference"] = out["judge"] - out["baseline"]

    def difference(h: np.ndarray, j: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return stat(h, j, axis=axis) - stat(h, b, axis=axis)

    if n_boot > 0:
        out["ci_low"], out["ci_high"] = _bootstrap_ci(difference, (h, j, b), n_boot, seed, name, notes)
    if out["ci_low"] is not None:
        out["verdict"] = ("better" if out["ci_low"] > 0 else "worse" if out["ci_high"] < 0
                          else "no clear difference")
    return out


# --------------------------------------------------------------------------- records -> statistics

def human_scores(labels: Any) -> Scores | None:
    """The human labels as complete Scores, or None when any of the four is missing."""
    values = {c: getattr(labels, c) for c in CRITERIA}
    return None if any(v is None for v in values.values()) else Scores(**values)


def paired_values(labelled: Sequence[LabelledReply], judgments: Sequence[Judgment],
                  criterion: str) -> tuple[list[Any], list[Any], dict[str, int]]:
    """(human, judge) values of one criterion where both exist, and why the other items were left out.

    An item with a missing label is counted as `missing_label` even when the judge also failed on it.
    """
    human, judge, left_out = [], [], {"missing_label": 0, "judge_failed": 0}
    for item, judgment in zip(labelled, judgments, strict=True):
        value = getattr(item.labels, criterion)
        if value is None:
            left_out["missing_label"] += 1
        elif judgment.scores is None:
            left_out["judge_failed"] += 1
        else:
            human.append(value)
            judge.append(getattr(judgment.scores, criterion))
    return human, judge, left_out


def item_rows(labelled: Sequence[LabelledReply], judgments: Sequence[Judgment],
              formula: Formula) -> list[dict[str, Any]]:
    """One row per item: human labels, judge scores (or error) and both summaries where defined."""
    rows = []
    for index, (item, judgment) in enumerate(zip(labelled, judgments, strict=True)):
        human = human_scores(item.labels)
        rows.append({
            "index": index, "id": item.dialogue.id,
            "human": item.labels.model_dump(),
            "judge": judgment.scores.model_dump() if judgment.scores else None,
            "error": judgment.error,
            "human_summary": summary_score(human, formula) if human else None,
            "judge_summary": judgment_summary(judgment, formula),
        })
    return rows


def disagreements(labelled: Sequence[LabelledReply], judgments: Sequence[Judgment],
                  formula: Formula = "uniform", top_k: int = 10) -> list[dict[str, Any]]:
    """The `top_k` items with the largest |judge - human| summary, with the criteria that differ."""
    found = []
    for row, item, judgment in zip(item_rows(labelled, judgments, formula), labelled, judgments, strict=True):
        if row["human_summary"] is None or row["judge_summary"] is None:
            continue
        differ = {c: {"human": row["human"][c], "judge": row["judge"][c]}
                  for c in CRITERIA if row["human"][c] != row["judge"][c]}
        found.append({
            "index": row["index"], "id": row["id"],
            "student": item.dialogue.turns[-1].text, "reply": item.reply, "reference": item.dialogue.reference,
            "human_summary": row["human_summary"], "judge_summary": row["judge_summary"],
            "diff": row["judge_summary"] - row["human_summary"], "differ": differ, "judge_meta": judgment.meta,
        })
    found = [d for d in found if d["diff"] != 0 or d["differ"]]
    found.sort(key=lambda d: (-abs(d["diff"]), d["index"]))
    return found[:top_k]


def compare(labelled: Sequence[LabelledReply], judgments: Sequence[Judgment], *, formula: Formula = "uniform",
            n_boot: int = 2000, seed: int = 0, top_k: int = 10) -> dict[str, Any]:
    """Everything for one judge: per-criterion blocks, the summary block, disagreements and item rows."""
    if len(labelled) != len(judgments):
        raise ValueError(f"{len(labelled)} labelled items but {len(judgments)} judgments")
    criteria = {}
    for criterion in CRITERIA:
        human, judge, left_out = paired_values(labelled, judgments, criterion)
        block = binary_agreement(human, judge) if criterion in BINARY else ordinal_agreement(human, judge)
        criteria[criterion] = {**block, "left_out": left_out}
    rows = item_rows(labelled, judgments, formula)
    both = [r for r in rows if r["human_summary"] is not None and r["judge_summary"] is not None]
    summary = summary_agreement([r["human_summary"] for r in both], [r["judge_summary"] for r in both],
                                n_boot, seed)
    summary["left_out"] = {
        "missing_label": sum(r["human_summary"] is None for r in rows),
        "judge_failed": sum(r["human_summary"] is not None and r["judge_summary"] is None for r in rows),
    }
    failures = [j for j in judgments if j.scores is None]
    return {
        "n_items": len(labelled),
        "failures": len(failures),
        "failure_examples": [{"id": j.dialogue.id, "error": j.error} for j in failures[:5]],
        "criteria": criteria,
        "summary": summary,
        "disagreements": disagreements(labelled, judgments, formula, top_k),
        "items": rows,
    }


# What a judge is compared with the baseline on: (key, name, the value in an item row, statistic).
VERSUS = (("summary_pearson", "summary Pearson", "summary", _pearson_stat),
          ("questions_accuracy", "questions accuracy", "questions", _accuracy_stat),
          ("reveal_kappa", "reveal_answer kappa", "reveal_answer", _kappa_stat),
          ("helpful_spearman", "helpful Spearman", "helpful", _spearman_stat))


def versus_baseline(labelled: Sequence[LabelledReply], judgments: Sequence[Judgment],
                    baseline: Sequence[Judgment], *, formula: Formula = "uniform", n_boot: int = 2000,
                    seed: int = 0) -> dict[str, Any]:
    """A judge against the '?' baseline (`BASELINE`) on the items that carry the label and that both
    judged: each statistic of VERSUS with the difference's CI (`gain`); `None` where the labels file has
    fewer than 3 such items (MRBench has no `questions` label, so no summary either)."""
    rows, base = item_rows(labelled, judgments, formula), item_rows(labelled, baseline, formula)
    out: dict[str, Any] = {"baseline": BASELINE}
    for key, name, value, stat in VERSUS:
        triples = [(_value(r, "human", value), _value(r, "judge", value), _value(b, "judge", value))
                   for r, b in zip(rows, base, strict=True)]
        triples = [t for t in triples if None not in t]
        out[key] = (gain(name, stat, *zip(*triples, strict=True), n_boot, seed)
                    if len(triples) >= MIN_CORRELATION_N else None)
    return out


def _value(row: dict[str, Any], side: str, value: str) -> float | None:
    """An item row's human or judge value of a criterion, or its summary; None when missing."""
    if value == "summary":
        return row[f"{side}_summary"]
    scores = row[side]
    return None if scores is None or scores[value] is None else float(scores[value])


def label_counts(labelled: Sequence[LabelledReply], formula: Formula) -> dict[str, Any]:
    """How many items carry each human label, and the human means over all labelled items."""
    counts = {c: sum(getattr(i.labels, c) is not None for i in labelled) for c in CRITERIA}
    means = {}
    for c in CRITERIA:
        values = [float(getattr(i.labels, c)) for i in labelled if getattr(i.labels, c) is not None]
        means[c] = float(np.mean(values)) if values else None
    complete = [s for s in (human_scores(i.labels) for i in labelled) if s is not None]
    means["summary"] = float(np.mean([summary_score(s, formula) for s in complete])) if complete else None
    return {"n_items": len(labelled), "labelled": counts, "complete": len(complete), "human_means": means}


# --------------------------------------------------------------------------- I/O edge

def _load_labelled(path: Path) -> list[LabelledReply]:
    from socratic.data import load_labelled

    return load_labelled(path)


def _load_judge(spec: str, cache: Cache) -> Any:
    from socratic.judge import load_judge

    return load_judge(spec, cache=cache)


def _judge_honestly(judge: Any, labelled: Sequence[LabelledReply], items: list, folds: int,
                    suite: Sequence[Any] = ()) -> tuple[list[Judgment], dict[str, Any], list[Judgment]]:
    """Judgments, how they were obtained, and the judgments of the dodge suite's replies: out-of-fold
    refits for a judge that learned from these labels (a dodge by the refit of its conversation's fold);
    otherwise the judge as it is, with a note when it was calibrated on some of them."""
    from socratic.agreement.cv import learns_from_labels, out_of_fold_judgments, overlap

    seen = overlap(judge, labelled)
    extra = [(case.honest, case.dialogue, case.dodge) for case in suite]
    if learns_from_labels(judge) and (seen["items"] or seen["groups"]):
        found = out_of_fold_judgments(judge, labelled, folds, extra=extra)
        judgments, held, dodges = found[0], found[1], (found[2] if extra else [])  # type: ignore[misc]
        return judgments, {"overlap": seen, "out_of_sample": True, "cross_validation": held,
                           "note": seen["note"] + f"; scored out-of-sample by {folds}-fold CV grouped by "
                           "problem/conversation (each item by a refit that never saw its group)"}, dodges
    in_sample = bool(seen["items"] or seen["groups"])
    note = seen["note"] + ("; these numbers are IN-SAMPLE for those items (see experiments/calibrate_rubric.py for "
                           "cross-validated ones)" if in_sample else "")
    return (judge.judge_many(items), {"overlap": seen, "out_of_sample": not in_sample, "note": note},
            judge.judge_many([(d, r) for _, d, r in extra]) if extra else [])


def ranking_blocks(labelled: Sequence[LabelledReply], judgments: Sequence[Judgment], suite: Sequence[Any],
                   suite_judgments: Sequence[Judgment], formula: Formula, n_boot: int, seed: int) -> dict[str, Any]:
    """The within-conversation pairwise accuracy and the dodge suite of one judge (socratic.agreement.ranking)."""
    from socratic.agreement.ranking import dodge_suite, pairwise_accuracy
    from socratic.judge.labels.human_order import dialogue_key, human_preference

    summaries = [judgment_summary(j, formula) for j in judgments]
    pairwise = pairwise_accuracy([dialogue_key(i.dialogue) for i in labelled],
                                 [human_preference(i.labels) for i in labelled], summaries, n_boot, seed)
    cases = [(case.conversation, case.family, summaries[case.honest], judgment_summary(j, formula))
             for case, j in zip(suite, suite_judgments, strict=True)]
    return {"pairwise": pairwise, "dodge_suite": dodge_suite(cases)}


def _teacher_pairs(limit: int | None) -> list[Any]:
    """The shipped teacher-vs-model pairs, the first `limit` of them (None: all; 0: none)."""
    from socratic.judge.labels.teacher_vs_model import load_teacher_pairs

    return [] if limit == 0 else load_teacher_pairs()[:limit]


def run(config: AgreementConfig) -> dict[str, Any]:
    """Judge every labelled reply with every judge; write agreement.json and the figures; return the JSON."""
    from socratic.agreement.plots import write_figures
    from socratic.judge import files

    files.check(config.judges)  # a missing or broken learned:PATH / pairwise:PATH, before the first judge runs
    if not config.labels.exists():
        raise InputError("labels file not found", path=str(config.labels))
    labelled = _load_labelled(config.labels)
    if not labelled:
        raise InputError("no labelled replies in the file", path=str(config.labels))
    cache = NoCache() if config.no_cache else Cache()
    items = [(item.dialogue, item.reply) for item in labelled]
    result: dict[str, Any] = {
        "config": config.model_dump(mode="json"),
        "labels": label_counts(labelled, config.formula),
        "anchor": ANCHOR,
        "judges": [],
    }
    specs = config.judges + ([] if BASELINE in config.judges else [BASELINE])
    suite = suite_items(labelled)
    pairs = _teacher_pairs(config.teacher_pairs)
    judged = {}
    try:
        for spec in specs:
            judge = _load_judge(spec, cache)
            judged[spec], protocol, dodged = _judge_honestly(judge, labelled, items, config.folds, suite)
            block = compare(labelled, judged[spec], formula=config.formula, n_boot=config.bootstrap,
                            seed=config.seed, top_k=config.top_k)
            block.update(ranking_blocks(labelled, judged[spec], suite, dodged, config.formula, config.bootstrap,
                                        config.seed))
            if pairs:
                block["teacher"] = teacher_block(judge, pairs, config.folds, config.formula, config.bootstrap,
                                                 config.seed)
            result["judges"].append({"spec": getattr(judge, "spec", spec), "protocol": protocol, **block})
    finally:
        cache.close()
    for spec, block in zip(specs, result["judges"], strict=True):
        if spec != BASELINE:
            block["versus_baseline"] = versus_baseline(labelled, judged[spec], judged[BASELINE], formula=config.formula,
                                                       n_boot=config.bootstrap, seed=config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    result["figures"] = [path.name for path in write_figures(result, config.out)]
    return Agreement.write_checked(config.out / "agreement.json", result)
