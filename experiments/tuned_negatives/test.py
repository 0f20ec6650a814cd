"""Once, after cv.py: the chosen (or diagnostic) try and the shipped reward on test items (README.md).

    nice -n 10 python experiments/tuned_negatives/test.py      # writes test.json here
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import cv  # the tries, the pairs
import teacher_judge_cv as harness

from socratic.evaluate.result import EvalReply
from socratic.judge.base import Judgment
from socratic.judge.pairwise import fit as reward
from socratic.rate import analysis
from socratic.rate.ratings import read_all
from socratic.rate.sheet import RatingKey, reply_hash
from socratic.scores import judgment_summary
from socratic.store.jsonl import read_jsonl

RUNS = {"quickstart": ROOT / "runs/quickstart", "demo-len": ROOT / "runs/demo-len", "cpu-whole": ROOT / "runs/cpu-whole"}
DATASET, TUNED_MODEL, MODELS = "mathdial-raw", "tuned-mathdial", ("base", "tuned-mathdial")
SESSION = ROOT / "experiments/teacher_tries/ratings-both-bf16"  # rater-Y, rater-Z; its replies are runs/quickstart's
SOURCE_OF = {"base": "base", "quickstart": "tuned-mathdial", "teacher": "teacher"}  # sheet source -> run's model


def win_rate(scores: dict[tuple[str, str], float], model: str) -> float:
    """The share of items where `model`'s reply scores above the teacher's turn (ties half)."""
    items = sorted({d for d, m in scores if m == "teacher"})
    return float(np.mean([0.5 if scores[(d, model)] == scores[(d, "teacher")] else
                          float(scores[(d, model)] > scores[(d, "teacher")]) for d in items]))


def rated_cells():
    """The raters of ratings-both-bf16 on runs/quickstart's replies: (all their ratings, those of the replies whose
    text runs/quickstart still holds, (item, sheet source) -> (dialogue id, the run's model) of those replies)."""
    key = RatingKey.read(SESSION / "key.json")
    ratings = analysis.unblind(key, read_all(sorted(SESSION.glob("ratings-*.csv")), key))
    replies = {(r.dialogue.id, r.model): r.reply for r in read_jsonl(RUNS["quickstart"] / "eval/replies.jsonl", EvalReply)
               if r.dataset == DATASET}
    cells: dict[tuple[int, str], tuple[str, str]] = {}
    for item in key.items:
        for letter, source in item.letters.items():
            if source in SOURCE_OF:
                reply = replies[(item.dialogue_id, SOURCE_OF[source])]
                if reply_hash(reply) == item.replies[letter]:  # the text the raters saw (runs/quickstart was
                    cells[(item.item, source)] = (item.dialogue_id, SOURCE_OF[source])  # evaluated again since)
    rated = {rater: {c: s for c, s in scores.items() if c in cells} for rater, scores in ratings.items()}
    return ratings, rated, cells


def main() -> None:
    tries = {t["name"]: t for t in json.loads((HERE / "cv.json").read_text())["tries"]}
    chosen = json.loads((HERE / "cv.json").read_text())
    measured = ["0 shipped", chosen["chosen"] or chosen["diagnostic"]]
    setup = harness.Setup(pairs=cv.load_teacher_pairs() + list(cv.TUNED))
    fitted = {}
    for name, config, models in cv.TRIES:
        if name in measured:
            data = harness.try_data(setup, config, models)
            fitted[name] = reward.fit(data, config, np.flatnonzero(harness.fitted_rows(setup, models)), criteria=False)
    result: dict = {"measured": measured, "chosen": chosen["chosen"], "diagnostic": chosen["diagnostic"],
                    "cv": {name: {k: v for k, v in tries[name].items() if k != "detail"} for name in measured},
                    "runs": {}}
    scores_by_run: dict[str, dict[str, dict[tuple[str, str], float]]] = {}
    for run, folder in RUNS.items():
        replies = [r for r in read_jsonl(folder / "eval/replies.jsonl", EvalReply) if r.dataset == DATASET]
        X = harness.cached_features([(r.dialogue, r.reply) for r in replies])
        scores: dict[str, dict[tuple[str, str], float]] = {}
        for name, model in fitted.items():
            values = model.summary(model.utility(X))
            scores[f"try {name}"] = {(r.dialogue.id, r.model): float(v) for r, v in zip(replies, values, strict=True)}
        for judgment in read_jsonl(folder / "eval/judgments.jsonl", Judgment):
            if judgment.meta.get("dataset") == DATASET:
                scores.setdefault(f"eval {judgment.judge}", {})[(judgment.dialogue.id, judgment.meta["model"])] = \
                    judgment_summary(judgment)
        scores_by_run[run] = scores
        result["runs"][run] = {"items": len({r.dialogue.id for r in replies}),
                               "win_rate_vs_teacher": {judge: {m: win_rate(s, m) for m in MODELS}
                                                       for judge, s in scores.items()}}
        for judge, row in result["runs"][run]["win_rate_vs_teacher"].items():
            print(f"{run:11} {judge:28} win rate vs teacher: base {row['base']:.2f}  tuned {row[TUNED_MODEL]:.2f}")
    ratings, rated, cells = rated_cells()
    mean = analysis.mean_ratings(ratings)  # every rated reply: the raters' own win rates
    by_item: dict[int, dict[str, float]] = defaultdict(dict)
    for (item, source), value in mean.items():
        by_item[item][source] = value
    result["raters"] = {"session": SESSION.name, "replies_judged_here": len(cells), "by_source": {
                            source: sum(c[1] == source for c in cells) for source in SOURCE_OF},
                        "win_rate_vs_teacher": {m: float(np.mean([0.5 if v[m] == v["teacher"] else float(v[m] > v["teacher"])
                                                                  for v in by_item.values()]))
                                                for m in ("base", "quickstart")},
                        "agreement": {}}
    for judge, scores in scores_by_run["quickstart"].items():
        row = analysis.judge_agreement(judge, rated, {c: scores[cells[c]] for c in cells})
        result["raters"]["agreement"][judge] = row.model_dump()
        print(f"raters Y/Z  {judge:28} Spearman {row.spearman:+.2f}  same order {row.pair_agreement:.0%} of {row.pairs}")
    print(f"raters' own win rate vs teacher: {result['raters']['win_rate_vs_teacher']}")
    (HERE / "test.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
