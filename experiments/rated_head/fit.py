"""Fit a ridge head on blind ratings of validation replies; measure it once on the test sheets (README.md)."""

from __future__ import annotations

import csv
import json
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
from socratic.judge.reward.features import reward_features
from socratic.store.jsonl import read_jsonl

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
RUNS = ROOT / "runs" / "teacher_tries"
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


def columns(X: np.ndarray, candidate: str) -> np.ndarray:
    if candidate == "A":
        return X
    keep = np.ones(X.shape[1], dtype=bool)
    keep[EMBEDDING] = False
    return X[:, keep]


def head(alpha: float):
    return make_pipeline(StandardScaler(), Ridge(alpha=alpha))


def main() -> None:
    val_dir = RUNS / "validation-merged"
    val = rated_replies(HERE / "validation-key.json", sorted(HERE.glob("validation-ratings-*.csv")), val_dir)
    X = reward_features([(d, r) for d, r, *_ in val])
    y = np.asarray([row[4] for row in val])
    groups = np.asarray([problem_of(row[0]) for row in val])
    items = np.asarray([row[3] for row in val])
    folds = list(GroupKFold(n_splits=5).split(X, y, groups))
    cv = {}
    for candidate in ("A", "B"):
        Xc = columns(X, candidate)
        for alpha in ALPHAS:
            rho = [spearmanr(head(alpha).fit(Xc[tr], y[tr]).predict(Xc[te]), y[te]).statistic for tr, te in folds]
            cv[f"{candidate}/alpha={alpha:g}"] = round(float(np.mean(rho)), 3)
    best = max(cv, key=cv.get)
    candidate, alpha = best.split("/alpha=")[0], float(best.split("=")[1])
    baseline = judge_scores(val_dir, val)
    validation = {"replies": len(val), "items": len(set(items)), "cv_spearman": cv, "chosen": best,
                  "judges_spearman": {j: round(float(spearmanr(v, y).statistic), 3) for j, v in baseline.items()},
                  "judges_pair_accuracy": {j: round(pair_accuracy(items, y, v), 3) for j, v in baseline.items()}}
    final = head(alpha).fit(columns(X, candidate), y)

    tests = {}
    for sheet, evaluation in (("ratings", "test-eval"), ("ratings-short", "test-eval-short")):
        folder = HERE.parent / "teacher_tries" / sheet
        rows = rated_replies(folder / "key.json", sorted(folder.glob("ratings-rater-*.csv")), RUNS / evaluation)
        Xt = reward_features([(d, r) for d, r, *_ in rows])
        yt = np.asarray([row[4] for row in rows])
        it = np.asarray([row[3] for row in rows])
        sources = [row[2] for row in rows]
        scored = {"rated head": final.predict(columns(Xt, candidate)), **judge_scores(RUNS / evaluation, rows)}
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
