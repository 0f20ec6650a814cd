"""Do the judges prefer the problem's own question, handed back, to the real teacher's turn? (issue 36)

The tuned tutor's most frequent dodge restates the question of the problem ("How many seconds does Xena have to
get to the cave?") instead of pointing at the student's step; none of the dodge families the judges were tested
against was this one (it is now `problem_question` in socratic.judge.labels.dodges, whose EVAL phrasings these
are). Here each validation conversation (the 67 held-out training
problems of experiments/teacher_tries; never a test item) gets three such replies built from its problem
statement, and each shipped evaluation judge scores them beside the real teacher's next turn and the tuned and
base models' replies of the `teacher-short` try (the default recipe). No fitting, no threshold: a measurement.

    PYTHONPATH=src python experiments/restating/measure.py [runs/teacher_tries/teacher-short/eval] [-o results.json]
    PYTHONPATH=src python experiments/restating/measure.py --judge pairwise:runs/restating/reward-restating.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from socratic.evaluate.result import EvalReply
from socratic.evaluate.tutoring import reply_metrics
from socratic.judge import load_judge
from socratic.judge.labels import dodges
from socratic.records import Dialogue
from socratic.store.jsonl import read_jsonl

JUDGES = ("learned", "rubric", "pairwise")
PHRASINGS = len(dodges.phrasings("problem_question", "eval"))  # the family's EVAL phrasings, never fitted


def restated(dialogue: Dialogue) -> list[str]:
    """The problem's question handed back, in each EVAL phrasing of the `problem_question` dodge family."""
    built = [dodges.build("problem_question", dialogue, half="eval", phrasing=k) for k in range(PHRASINGS)]
    return [] if None in built else built


def preference(a: list[float], b: list[float]) -> float:
    """Share of items where a scores above b, ties half."""
    return float(np.mean([1.0 if x > y else 0.5 if x == y else 0.0 for x, y in zip(a, b, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evaluation", type=Path, nargs="?", default=Path("runs/teacher_tries/teacher-short/eval"))
    parser.add_argument("-o", "--out", type=Path)
    parser.add_argument("--judge", action="append", dest="judges",
                        help=f"a judge spec to measure (repeat; default {', '.join(JUDGES)})")
    args = parser.parse_args()
    replies = read_jsonl(args.evaluation / "replies.jsonl", EvalReply)
    by_source: dict[str, dict[str, EvalReply]] = {}
    for reply in replies:
        source = "tuned" if reply.model.startswith("tuned-") else reply.model
        by_source.setdefault(source, {})[reply.dialogue.id] = reply
    items = [i for i in by_source["teacher"] if restated(by_source["teacher"][i].dialogue)]
    dialogues = {i: by_source["teacher"][i].dialogue for i in items}
    flagged = [reply_metrics(dialogues[i], r).dodge for i in items for r in restated(dialogues[i])]
    out: dict = {"items": len(items), "restated_flagged_dodge": float(np.mean(flagged)), "judges": {}}
    print(f"{len(items)} validation items; the judge-free dodge rule flags {np.mean(flagged):.0%} of the restated replies")
    for spec in args.judges or JUDGES:
        judge = load_judge(spec)
        score = lambda pairs, judge=judge: [j.summary for j in judge.judge_many(pairs, progress=False)]
        teacher = score([(dialogues[i], by_source["teacher"][i].reply) for i in items])
        tuned = score([(dialogues[i], by_source["tuned"][i].reply) for i in items])
        base = score([(dialogues[i], by_source["base"][i].reply) for i in items])
        per_phrasing = [score([(dialogues[i], restated(dialogues[i])[k]) for i in items]) for k in range(PHRASINGS)]
        best = [max(s) for s in zip(*per_phrasing, strict=True)]  # the restatement the judge likes most
        row = {"mean": {"teacher": float(np.mean(teacher)), "tuned": float(np.mean(tuned)),
                        "base": float(np.mean(base)), "restated": float(np.mean(per_phrasing))},
               "restated_over_teacher": [preference(p, teacher) for p in per_phrasing],
               "best_restated_over_teacher": preference(best, teacher),
               "restated_over_base": [preference(p, base) for p in per_phrasing],
               "tuned_over_teacher": preference(tuned, teacher)}
        out["judges"][spec] = row
        print(f"{spec[:40]:9} restated > teacher {', '.join(f'{x:.2f}' for x in row['restated_over_teacher'])} "
              f"(best of 3: {row['best_restated_over_teacher']:.2f}); restated > base "
              f"{', '.join(f'{x:.2f}' for x in row['restated_over_base'])}; tuned > teacher "
              f"{row['tuned_over_teacher']:.2f}; means teacher {row['mean']['teacher']:.2f} tuned "
              f"{row['mean']['tuned']:.2f} base {row['mean']['base']:.2f} restated {row['mean']['restated']:.2f}")
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
