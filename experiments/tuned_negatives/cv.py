"""The tries of README.md, out of fold (the harness of experiments/teacher_judge_cv.py).

    nice -n 10 python experiments/tuned_negatives/cv.py      # writes cv.json here
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import teacher_judge_cv as harness

from socratic.judge.labels.teacher_vs_model import TeacherPair, load_teacher_pairs
from socratic.judge.pairwise import fit as reward
from socratic.store.jsonl import read_jsonl

SHIPPED = reward.RewardConfig()  # the reward of today (teacher_weight 0)
BASE_MODEL = "embedded"
TUNED = read_jsonl(HERE / "tuned_pairs.jsonl", TeacherPair)
TUNED_MODEL = TUNED[0].model
# (name, config, the models whose samples the teacher pairs fit)
TRIES = [("0 shipped", SHIPPED, set()),
         ("1 base-model pairs 10", replace(SHIPPED, teacher_weight=10.0), {BASE_MODEL}),
         ("2 tuned-model pairs 10", replace(SHIPPED, teacher_weight=10.0), {TUNED_MODEL}),
         ("3 tuned-model pairs 3", replace(SHIPPED, teacher_weight=3.0), {TUNED_MODEL}),
         ("4 base- and tuned-model pairs 10", replace(SHIPPED, teacher_weight=10.0), {BASE_MODEL, TUNED_MODEL}),
         ("5 tuned-model pairs 10 + restating", replace(SHIPPED, teacher_weight=10.0, restating=True), {TUNED_MODEL})]
EARLIER_FAMILIES = 12  # the families before `problem_question` (docs/pairwise-judge.md)


def summary(block: dict) -> dict:
    families = block["dodge_suite"]["families"]
    earlier = [f["win_rate"] for name, f in families.items() if name not in reward.RESTATING_FAMILIES]
    assert len(earlier) == EARLIER_FAMILIES, sorted(families)
    return {"pairwise": block["pairwise"]["accuracy"], "dodge_mean_12": sum(earlier) / len(earlier),
            "problem_question": families.get("problem_question", {}).get("win_rate"),
            "teacher_vs_base": block["teacher_by_model"][BASE_MODEL]["accuracy"],
            "teacher_vs_tuned": block["teacher_by_model"][TUNED_MODEL]["accuracy"],
            "teacher_vs_tuned_ci": [block["teacher_by_model"][TUNED_MODEL]["ci_low"],
                                    block["teacher_by_model"][TUNED_MODEL]["ci_high"]],
            "worst_flip": block["perturbations"]["worst_rate"]}


def main() -> None:
    setup = harness.Setup(pairs=load_teacher_pairs() + list(TUNED))
    result: dict = {"rule": "README.md", "n_comparisons": len(setup.rows), "tries": []}
    for name, config, models in TRIES:
        started = time.perf_counter()
        block = harness.out_of_fold(setup, config, teacher_models=models)
        row = {"name": name, "config": asdict(config), "teacher_models": sorted(models), **summary(block),
               "seconds": round(time.perf_counter() - started, 1), "detail": block}
        result["tries"].append(row)
        harness.log(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()
                                               if isinstance(v, float) and k != "seconds"))
    first = result["tries"][0]
    eligible = [t for t in result["tries"][1:] if t["pairwise"] >= first["pairwise"] - 0.01
                and t["dodge_mean_12"] >= first["dodge_mean_12"] - 0.01]
    pool = eligible or result["tries"][1:]
    best = max(pool, key=lambda t: (t["teacher_vs_tuned"], -t["config"]["teacher_weight"]))
    result["chosen"] = best["name"] if eligible else None
    result["diagnostic"] = None if eligible else best["name"]
    harness.log(f"eligible: {[t['name'] for t in eligible]}; "
                + (f"chosen: {best['name']}" if eligible else f"none eligible; diagnostic: {best['name']}"))
    (HERE / "cv.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
