"""Calibrate and check the rubric judge against the human labels of the MathDial dev file.

    .venv/bin/python bench/calibrate_rubric.py [--search] [--show]

Prints per-criterion agreement with the 50 human labels and the Pearson correlation of the summary
scores. --search grid-searches the on_topic similarity thresholds (maximising exact agreement, ties
broken by mean absolute error); --show prints every item with its signals. The thresholds found are
written by hand into ON_TOPIC_THRESHOLDS in socratic/judge/rubric.py. Calibrating and measuring on the
same 50 items is optimistic; the other 50 human labels of the reference are kept apart for that.
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np
from scipy.stats import pearsonr, spearmanr

from socratic.data import load_labelled
from socratic.data.location import data_file
from socratic.judge import rubric
from socratic.scores import Scores, summary_score

DEV = data_file("socratic_llm", "mathdial_human_eval_dev.json")


def agreement(items, outcomes) -> dict[str, float]:
    out = {}
    for name in ("questions", "on_topic", "helpful", "reveal_answer"):
        pairs = [(getattr(x.labels, name), getattr(o.scores, name)) for x, o in zip(items, outcomes, strict=True)
                 if getattr(x.labels, name) is not None]
        out[name] = float(np.mean([a == b for a, b in pairs]))
        if name in ("on_topic", "helpful"):
            out[name + " within 1"] = float(np.mean([abs(a - b) <= 1 for a, b in pairs]))
            out[name + " spearman"] = float(spearmanr([a for a, _ in pairs], [b for _, b in pairs])[0])
    human = [summary_score(Scores(**x.labels.model_dump())) for x in items]
    ours = [summary_score(o.scores) for o in outcomes]
    out["summary pearson"] = float(pearsonr(human, ours)[0])
    out["summary mean (human, rubric)"] = (float(np.mean(human)), float(np.mean(ours)))
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--search", action="store_true")
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--file", default=str(DEV))
    args = parser.parse_args(argv)
    items = load_labelled(args.file)
    sims = rubric.similarities([(x.dialogue, x.reply) for x in items])
    if args.search:
        grid = np.arange(0.05, 0.80, 0.025)
        human = np.array([x.labels.on_topic for x in items])
        best = None
        for t in itertools.combinations(grid, 4):
            # Humans give 4-5 to most replies; without a spacing constraint the search collapses the
            # lower levels into a sliver and learns nothing about off-topic text. Keep levels >= 0.1 apart.
            if t[0] < 0.1 or min(b - a for a, b in itertools.pairwise(t)) < 0.1:
                continue
            levels = np.array([rubric.on_topic_level(s, t) for s in sims])
            key = (np.mean(levels == human), -np.mean(np.abs(levels - human)))
            if best is None or key > best[0]:
                best = (key, tuple(round(float(v), 3) for v in t))
        print("best on_topic thresholds", best[1], "exact", best[0][0], "MAE", -best[0][1])
    outcomes = [rubric.score_reply(x.dialogue, x.reply, s) for x, s in zip(items, sims, strict=True)]
    if args.show:
        for i, (x, o, s) in enumerate(zip(items, outcomes, sims, strict=True)):
            h, r = x.labels, o.scores
            print(f"{i:2d} sim={s:.2f} human q={h.questions:d} t={h.on_topic} h={h.helpful} r={h.reveal_answer:d} | "
                  f"rubric q={r.questions:d} t={r.on_topic} h={r.helpful} r={r.reveal_answer:d} "
                  f"ref={x.dialogue.reference is not None:d} | {x.reply[:70]!r} {o.notes['leaks']} {o.notes['flags']}"
                  f" {[k for k, _ in o.notes['questions']]}")
    for name, value in agreement(items, outcomes).items():
        print(f"{name:28s} {value}")


if __name__ == "__main__":
    main(sys.argv[1:])
