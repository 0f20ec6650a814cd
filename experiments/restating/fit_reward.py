"""Fit the pairwise reward with one more dodge family as hard negatives: the problem's own question handed back.

    PYTHONPATH=src python experiments/restating/fit_reward.py runs/restating/reward-restated.json

The shipped families (socratic.judge.labels.dodges) stay as they are; this process adds `problem_question` to
them before the fit, so the saved file is an experiment's reward (`reward_judge: pairwise:PATH`), not the shipped
one. Its train phrasings wrap the question in words measure.py never uses, so measure.py's three phrasings
(the bare question among them) stay held out.
"""

from __future__ import annotations

import sys
from pathlib import Path

from socratic.judge.labels import dodges
from socratic.judge.pairwise import store

sys.path.insert(0, str(Path(__file__).parent))  # the experiment folder is not a package
from measure import PHRASINGS, problem_question

FAMILY = dodges.Family(
    "problem_question", "the problem's own question handed back instead of a pointer to the student's step",
    train=("{problem_question} Think about it.", "What does the problem ask? {problem_question}",
           "Remember, the question is: {problem_question_lower}"),
    eval=tuple(p.replace("{question", "{problem_question") for p in PHRASINGS))


def add_family() -> None:
    """Make `problem_question` one of the dodge families of this process."""
    shipped_slots = dodges.slots

    def slots(dialogue, answer=None):
        values = shipped_slots(dialogue, answer)
        question = problem_question(dialogue)
        values["problem_question"] = question
        values["problem_question_lower"] = question[:1].lower() + question[1:] if question else None
        return values

    dodges.slots = slots
    dodges.FAMILIES = (*dodges.FAMILIES, FAMILY)
    dodges.FAMILY_NAMES = (*dodges.FAMILY_NAMES, FAMILY.name)
    dodges._BY_NAME[FAMILY.name] = FAMILY


def main() -> None:
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    add_family()
    model, path = store.train(out)
    print(f"saved to {path}: {model.n_pairs}")


if __name__ == "__main__":
    main()
