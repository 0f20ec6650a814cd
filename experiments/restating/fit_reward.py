"""Fit the pairwise reward with `restating: true` and save it as an experiment's reward, never the shipped one.

    PYTHONPATH=src python experiments/restating/fit_reward.py runs/restating/reward-restating.json

`restating` turns on the two restating signals and the `problem_question` dodge family's TRAIN phrasings as hard
negatives (socratic.judge.pairwise.fit.RewardConfig). Use the file as `reward_judge: pairwise:PATH`.
(The first reward of this folder, `reward-restated.json`, had the family alone and no signal: it was fitted by
this script as of commit 7575b69, which added the family to the process by hand.)
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from socratic.judge.pairwise import store
from socratic.judge.pairwise.fit import DEFAULT_REWARD


def main() -> None:
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    model, path = store.train(out, replace(DEFAULT_REWARD, restating=True))
    print(f"saved to {path}: {model.n_pairs}")


if __name__ == "__main__":
    main()
