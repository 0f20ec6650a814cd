"""Each model's win rate against the real teacher on the test sheets, by the shipped judges and an experiment's
reward (issue 36; measured once, never used to choose: README.md here).

    PYTHONPATH=src python experiments/restating/test_win_rates.py runs/teacher_tries/test-eval-short \
        --judge pairwise --judge pairwise:runs/restating/reward-restating.json -o results-test.json

Reads an evaluation's replies.jsonl (every model's reply and the teacher's, one per item), scores them with each
judge and reports, per model, the share of items where the judge scores the model's reply above the teacher's
(ties half; `socratic.evaluate.teacher.outcomes`) with its bootstrap CI.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from socratic.evaluate.config import TEACHER
from socratic.evaluate.result import EvalReply
from socratic.evaluate.stats import mean_ci
from socratic.evaluate.teacher import outcomes
from socratic.judge import load_judge
from socratic.scores import judgment_summary
from socratic.store.jsonl import read_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evaluation", type=Path)
    parser.add_argument("--judge", action="append", dest="judges", required=True)
    parser.add_argument("-o", "--out", type=Path)
    args = parser.parse_args()
    replies = read_jsonl(args.evaluation / "replies.jsonl", EvalReply)
    by_model: dict[str, dict[str, EvalReply]] = {}
    for reply in replies:
        by_model.setdefault(reply.model, {})[reply.dialogue.id] = reply
    teacher = by_model.pop(TEACHER)
    out: dict = {"evaluation": str(args.evaluation), "items": len(teacher), "judges": {}}
    for spec in args.judges:
        judge = load_judge(spec)
        keys = sorted(teacher)
        score = lambda rows, judge=judge: [judgment_summary(j) for j in
                                           judge.judge_many([(r.dialogue, r.reply) for r in rows], progress=False)]
        anchor = score([teacher[k] for k in keys])
        row = {}
        for model, mine in by_model.items():
            shared = [k for k in keys if k in mine]
            won = outcomes(list(zip(score([mine[k] for k in shared]), [anchor[keys.index(k)] for k in shared],
                                    strict=True)))
            ci = mean_ci(won, seed=0, n_resamples=4000)
            row[model] = {"n": len(won), "win_rate": ci.mean, "ci": [ci.low, ci.high]}
        out["judges"][spec] = row
        print(f"{spec[:45]:45} " + "  ".join(f"{m} {r['win_rate']:.2f} [{r['ci'][0]:.2f}, {r['ci'][1]:.2f}]"
                                            for m, r in row.items()))
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
