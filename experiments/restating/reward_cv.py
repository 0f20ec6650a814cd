"""Restating signals in the pairwise reward, out of fold (issue 36; the rule: README.md here, written first).

    nice -n 10 python experiments/restating/reward_cv.py [--out experiments/restating/reward_cv.json]

The harness of experiments/teacher_judge_cv.py (5 folds grouped by problem: the human labels, their dodges, the
shipped teacher-vs-model pairs; every measure out of fold), with two tries: the shipped reward, and the same
with `restating: true` (the two restating signals, and the `problem_question` family's TRAIN phrasings as hard
negatives). The dodge suite now holds that family's EVAL phrasings for both.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))  # the experiments folder is not a package
import teacher_judge_cv as harness

from socratic.judge.pairwise.features import REWARD_FEATURES
from socratic.judge.pairwise.fit import DEFAULT_REWARD, RESTATING_FAMILIES

TRIES = [("the shipped reward", DEFAULT_REWARD), ("restating", replace(DEFAULT_REWARD, restating=True))]


def shipped_families_mean(block: dict) -> float:
    return float(np.mean([f["win_rate"] for name, f in block["dodge_suite"]["families"].items()
                          if name not in RESTATING_FAMILIES]))


def passes(try0: dict, try1: dict) -> dict[str, bool]:
    """The five conditions of the rule (README.md), try 1 against try 0."""
    family = RESTATING_FAMILIES[0]
    return {
        "1 pairwise accuracy": try1["pairwise"]["accuracy"] >= try0["pairwise"]["accuracy"] - 0.01,
        "2 dodge suite (12 families)": shipped_families_mean(try1) >= shipped_families_mean(try0) - 0.01,
        "3 teacher vs model": try1["teacher"]["accuracy"] >= try0["teacher"]["accuracy"] - 0.01,
        "4 perturbation flips": try1["perturbations"]["worst_rate"] <= max(0.05, try0["perturbations"]["worst_rate"]),
        "5 problem_question family": try1["dodge_suite"]["families"][family]["win_rate"]
                                     >= try0["dodge_suite"]["families"][family]["win_rate"] + 0.10,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="experiments/restating/reward_cv.json")
    args = parser.parse_args()
    harness.FEATURE_CACHE = Path(f"runs/restating/features-{REWARD_FEATURES}.npz")
    setup = harness.Setup()
    result: dict = {"protocol": __doc__, "n_items": len(setup.items), "n_teacher_pairs": len(setup.pairs),
                    "n_suite": len(setup.suite), "tries": []}
    for name, config in TRIES:
        t0 = time.perf_counter()
        block = harness.out_of_fold(setup, config)
        block.update({"name": name, "config": asdict(config), "seconds": round(time.perf_counter() - t0, 1),
                      "dodge_mean_12_families": shipped_families_mean(block)})
        result["tries"].append(block)
        harness.log(harness.line(name, block) + f", 12-family dodge mean {block['dodge_mean_12_families']:.3f}, "
                    f"problem_question {block['dodge_suite']['families'][RESTATING_FAMILIES[0]]['win_rate']:.3f}")
    result["conditions"] = passes(*result["tries"])
    result["passes"] = all(result["conditions"].values())
    harness.log(f"conditions: {result['conditions']}; passes: {result['passes']}")
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    harness.log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
