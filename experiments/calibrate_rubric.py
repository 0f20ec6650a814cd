"""Calibrate and check the rubric judge against the human labels of the MathDial dev file, honestly.

    .venv/bin/python experiments/calibrate_rubric.py [--search] [--show] [--folds 5]

Prints per-criterion agreement with the 50 human labels and the Pearson correlation of the summary
scores for the shipped thresholds (IN-SAMPLE: they were chosen on these 50 items). --search
grid-searches the on_topic similarity thresholds (maximising exact agreement, ties broken by mean
absolute error) *cross-validated*: for each of --folds folds grouped by problem
(`socratic.agreement.cv.fold_of`), the thresholds are searched on the other folds and applied to
the held fold; the out-of-fold agreement is printed next to the in-sample one, and the thresholds
searched on all 50 are printed for reference (written by hand into ON_TOPIC_THRESHOLDS in
socratic/judge/rubric/judge.py). --show prints every item with its signals.
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np
from scipy.stats import pearsonr, spearmanr

from socratic.agreement.cv import fold_of
from socratic.data import load_labelled
from socratic.data.location import data_file
from socratic.judge.labels.human import group_key
from socratic.judge.rubric import judge as rubric
from socratic.scores import Scores, summary_score


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


def search_thresholds(sims: list[float], human: np.ndarray) -> tuple[float, ...]:
    grid = np.arange(0.05, 0.80, 0.025)
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
    assert best is not None
    return best[1]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--search", action="store_true")
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--file", default=None)
    args = parser.parse_args(argv)
    items = load_labelled(args.file or data_file("socratic_llm", "mathdial_human_eval_dev.json"))
    sims = rubric.similarities([(x.dialogue, x.reply) for x in items])
    outcomes = [rubric.score_reply(x.dialogue, x.reply, s) for x, s in zip(items, sims, strict=True)]
    if args.search:
        human = np.array([x.labels.on_topic for x in items])
        print("on_topic thresholds searched on all items (in-sample):", search_thresholds(sims, human))
        folds = np.array([fold_of(group_key(x), args.folds) for x in items])
        out_of_fold = list(outcomes)
        for fold in range(args.folds):
            test, train = np.flatnonzero(folds == fold), np.flatnonzero(folds != fold)
            if not len(test):
                continue
            found = search_thresholds([sims[i] for i in train], human[train])
            print(f"fold {fold}: thresholds {found} from {len(train)} items, applied to {len(test)}")
            for i in test:
                out_of_fold[i] = rubric.score_reply(items[i].dialogue, items[i].reply, sims[i], found)
        print("--- out-of-fold (thresholds never chosen on the items they score) ---")
        for name, value in agreement(items, out_of_fold).items():
            print(f"{name:28s} {value}")
        print("--- shipped thresholds (IN-SAMPLE on these items) ---")
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
