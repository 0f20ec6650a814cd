"""Fit a ridge head on blind ratings of validation replies; measure it once on the test sheets (README.md).

Candidates A (reward features), B (without the MiniLM vector) and C (B + the error-step features of
error_step.py) compete in one grouped cross-validation on validation; the winner, the best of A/B, C, and the
error-step columns alone (a diagnostic) are then measured on the test sheets.

Run: `TEACHER_TRIES=/path/to/runs/teacher_tries PYTHONPATH=src python experiments/rated_head/fit.py`
(TEACHER_TRIES defaults to runs/teacher_tries of this repository).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from socratic.data.overlap import problem_of
from socratic.evaluate.result import EvalReply
from socratic.judge.learned.features import EMBEDDING_DIM, SIGNAL_NAMES
from socratic.judge.pairwise.features import reward_features
from socratic.store.jsonl import read_jsonl

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # the experiment folder is not a package
from error_step import error_step_matrix

ROOT = HERE.parent.parent
RUNS = Path(os.environ.get("TEACHER_TRIES") or ROOT / "runs" / "teacher_tries")
CANDIDATES = ("A", "B", "C")
DIAGNOSTIC = "error step only"  # the error-step columns alone: reported, never chosen
ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
EMBEDDING = slice(len(SIGNAL_NAMES), len(SIGNAL_NAMES) + EMBEDDING_DIM)  # the MiniLM columns of reward_features


def rated_replies(key_path: Path, csv_paths: list[Path], evaluation: Path):
    """[(dialogue, reply, source, item, mean score)], one per rated reply of a sheet."""
    key = json.loads(key_path.read_text())
    letters = {(it["item"], letter): (it["dialogue_id"], source) for it in key["items"]
               for letter, source in it["letters"].items()}
    scores = defaultdict(list)
    for path in csv_paths:
        for row in csv.DictReader(path.open()):
            scores[(int(row["item"]), row["letter"])].append(float(row["score"]))
    replies = {(r.dialogue.id, r.model): r for r in read_jsonl(evaluation / "replies.jsonl", EvalReply)}
    out = []
    for (item, letter), (dialogue_id, source) in sorted(letters.items()):
        reply = replies[(dialogue_id, source)]
        out.append((reply.dialogue, reply.reply, source, item, float(np.mean(scores[(item, letter)]))))
    return out


def judge_scores(evaluation: Path, rows) -> dict[str, np.ndarray]:
    """Each product judge's uniform summary of each rated reply, from the evaluation's judgments."""
    from socratic.scores import Judgment, judgment_summary

    table = {(j.judge, j.meta["model"], j.dialogue.id): j for j in read_jsonl(evaluation / "judgments.jsonl", Judgment)}
    return {judge: np.asarray([judgment_summary(table[(judge, source, dialogue.id)]) for dialogue, _, source, *_ in rows],
                              dtype=float)
            for judge in ("learned", "rubric", "reward")}


def pair_accuracy(items: np.ndarray, truth: np.ndarray, predicted: np.ndarray) -> float:
    """Of the pairs of replies to one item that the raters rank apart, the share the prediction orders alike
    (a tie in the prediction counts half)."""
    right = total = 0.0
    for item in np.unique(items):
        idx = np.flatnonzero(items == item)
        for a in idx:
            for b in idx:
                if a < b and truth[a] != truth[b]:
                    total += 1
                    d = np.sign(predicted[a] - predicted[b]) * np.sign(truth[a] - truth[b])
                    right += 1.0 if d > 0 else 0.5 if d == 0 else 0.0
    return right / total


def win_rates(sources: list[str], items: np.ndarray, values: np.ndarray) -> dict[str, float]:
    """Per model: the share of items where its reply scores above the teacher's (ties half)."""
    by = {(s, i): v for s, i, v in zip(sources, items, values)}
    out = {}
    for source in sorted(set(sources) - {"teacher"}):
        wins = [1.0 if by[(source, i)] > by[("teacher", i)] else 0.5 if by[(source, i)] == by[("teacher", i)] else 0.0
                for i in sorted(set(items)) if (source, i) in by and ("teacher", i) in by]
        out[source] = round(float(np.mean(wins)), 3)
    return out


def features(items) -> tuple[np.ndarray, np.ndarray]:
    """(reward_features, error-step features) of [(dialogue, reply)]."""
    return reward_features(items), error_step_matrix(items)


def columns(X: np.ndarray, candidate: str, E: np.ndarray | None = None) -> np.ndarray:
    """A: every reward feature; B: without the MiniLM vector; C: B and the error-step columns E; the
    diagnostic: E alone."""
    if candidate == "A":
        return X
    if candidate == DIAGNOSTIC:
        return E
    keep = np.ones(X.shape[1], dtype=bool)
    keep[EMBEDDING] = False
    return X[:, keep] if candidate == "B" else np.hstack([X[:, keep], E])


def best_of(cv: dict[str, float], candidates) -> tuple[str, float]:
    """The candidate and alpha with the highest CV Spearman among `candidates`."""
    key = max((k for k in cv if k.split("/alpha=")[0] in candidates), key=cv.get)
    return key.split("/alpha=")[0], float(key.split("=")[1])


def head(alpha: float):
    return make_pipeline(StandardScaler(), Ridge(alpha=alpha))


def main() -> None:
    val_dir = RUNS / "validation-merged"
    val = rated_replies(HERE / "validation-key.json", sorted(HERE.glob("validation-ratings-*.csv")), val_dir)
    X, E = features([(d, r) for d, r, *_ in val])
    y = np.asarray([row[4] for row in val])
    groups = np.asarray([problem_of(row[0]) for row in val])
    items = np.asarray([row[3] for row in val])
    folds = list(GroupKFold(n_splits=5).split(X, y, groups))
    cv = {}
    for candidate in (*CANDIDATES, DIAGNOSTIC):
        Xc = columns(X, candidate, E)
        for alpha in ALPHAS:
            rho = [spearmanr(head(alpha).fit(Xc[tr], y[tr]).predict(Xc[te]), y[te]).statistic for tr, te in folds]
            cv[f"{candidate}/alpha={alpha:g}"] = round(float(np.mean(rho)), 3)
    heads = {"rated head": best_of(cv, CANDIDATES), "best A/B head": best_of(cv, ("A", "B")),
             "C head": best_of(cv, ("C",)), DIAGNOSTIC: best_of(cv, (DIAGNOSTIC,))}
    baseline = judge_scores(val_dir, val)
    validation = {"replies": len(val), "items": len(set(items)), "cv_spearman": cv,
                  "chosen": "{}/alpha={:g}".format(*heads["rated head"]),
                  "heads": {n: "{}/alpha={:g}".format(*h) for n, h in heads.items()},
                  "judges_spearman": {j: round(float(spearmanr(v, y).statistic), 3) for j, v in baseline.items()},
                  "judges_pair_accuracy": {j: round(pair_accuracy(items, y, v), 3) for j, v in baseline.items()}}
    fitted = {n: (c, head(alpha).fit(columns(X, c, E), y)) for n, (c, alpha) in heads.items()}

    tests = {}
    for sheet, evaluation in (("ratings", "test-eval"), ("ratings-short", "test-eval-short")):
        folder = HERE.parent / "teacher_tries" / sheet
        rows = rated_replies(folder / "key.json", sorted(folder.glob("ratings-rater-*.csv")), RUNS / evaluation)
        Xt, Et = features([(d, r) for d, r, *_ in rows])
        yt = np.asarray([row[4] for row in rows])
        it = np.asarray([row[3] for row in rows])
        sources = [row[2] for row in rows]
        scored = {**{n: model.predict(columns(Xt, c, Et)) for n, (c, model) in fitted.items()},
                  **judge_scores(RUNS / evaluation, rows)}
        tests[sheet] = {
            "replies": len(rows),
            "spearman": {n: round(float(spearmanr(v, yt).statistic), 3) for n, v in scored.items()},
            "pair_accuracy": {n: round(pair_accuracy(it, yt, v), 3) for n, v in scored.items()},
            "win_rate_vs_teacher": {"raters": win_rates(sources, it, yt),
                                    **{n: win_rates(sources, it, v) for n, v in scored.items()}},
        }
    result = {"validation": validation, "test": tests}
    (HERE / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
