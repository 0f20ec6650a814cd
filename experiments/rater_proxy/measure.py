"""The judge-free rater proxy of README.md against the blind raters of every teacher-referenced rating session,
beside the evaluation judges.

    python experiments/rater_proxy/measure.py -o experiments/rater_proxy/results.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from socratic.evaluate.result import EvalReply
from socratic.evaluate.tutoring import reply_metrics
from socratic.rate import analysis
from socratic.rate.importing import judge_summaries
from socratic.rate.ratings import read_all
from socratic.rate.sheet import RatingKey
from socratic.store.jsonl import read_jsonl

TRIES = Path(__file__).resolve().parents[1] / "teacher_tries"
RUNS = Path(__file__).resolve().parents[2] / "runs" / "teacher_tries"
# session folder -> (the evaluation folder its replies and judgments are in, which items)
SESSIONS = {"ratings-diag": ("validation-diag", "validation"),
            "ratings-one-question": ("validation-one-question", "validation"),
            "ratings-short": ("test-eval-short", "test"),
            "ratings-test-restating": ("test-merged-restating", "test")}
HARMFUL_FLAGS = ("invents_number", "miscomputes", "false_praise", "leak", "as_student", "degenerate", "empty",
                 "not_english")


def proxy(metrics) -> int:
    """1 harmful, 2 a dodge, 3 otherwise (README.md)."""
    if any(getattr(metrics, flag) for flag in HARMFUL_FLAGS):
        return 1
    return 2 if metrics.dodge else 3


def session(name: str, evaluation: Path) -> dict:
    folder = TRIES / name
    key = RatingKey.read(folder / "key.json")
    ratings = analysis.unblind(key, read_all(sorted(folder.glob("ratings-*.csv")), key))
    replies = {(r.dialogue.id, r.model): r for r in read_jsonl(evaluation / "replies.jsonl", EvalReply)}
    scores = {}
    for item in key.items:
        for source in item.letters.values():
            reply = replies[(item.dialogue_id, source)]
            scores[(item.item, source)] = float(proxy(reply_metrics(reply.dialogue, reply.reply)))
    judgments = evaluation / "judgments.jsonl"  # one-question's cut replies were never judged
    judged = judge_summaries(judgments, key, "uniform")[0] if judgments.exists() else {}
    rows = [analysis.judge_agreement("proxy", ratings, scores)]
    rows += [analysis.judge_agreement(judge, ratings, summaries) for judge, summaries in sorted(judged.items())]
    mean = analysis.mean_ratings(ratings)
    harmful = {cell for cell, score in mean.items() if score < 1.5}  # both raters (or their mean) say 1
    flagged = {cell for cell, score in scores.items() if score == 1}
    dodged = {cell for cell, score in scores.items() if score == 2}
    return {"agreement": {row.judge: row.model_dump() for row in rows},
            "harm": {"rated_harmful": len(harmful), "flagged": len(flagged), "both": len(harmful & flagged),
                     "recall": len(harmful & flagged) / max(1, len(harmful)),
                     "precision": len(harmful & flagged) / max(1, len(flagged))},
            "by_proxy": {level: {"replies": len(cells), "mean_rating": sum(mean[c] for c in cells) / max(1, len(cells))}
                         for level, cells in (("1", flagged), ("2", dodged),
                                              ("3", set(scores) - flagged - dodged))}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path)
    args = parser.parse_args()
    out = {}
    for name, (evaluation, items) in SESSIONS.items():
        out[name] = {"items": items, **session(name, RUNS / evaluation)}
        harm = out[name]["harm"]
        print(f"{name:24} {items:10} rated harmful {harm['rated_harmful']}, flagged 1 by the proxy {harm['flagged']}: "
              f"recall {harm['recall']:.0%}, precision {harm['precision']:.0%}; mean rating by proxy level "
              + ", ".join(f"{level}: {row['mean_rating']:.2f} ({row['replies']})" for level, row in out[name]["by_proxy"].items()))
        for judge, row in out[name]["agreement"].items():
            print(f"{name:24} {items:10} {judge:9} replies {row['replies']:3}  Spearman {row['spearman']:+.2f}  "
                  f"same order {row['pair_agreement']:.0%} of {row['pairs']}")
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
