"""The `learned` judge: scores a tutor reply from the heads of a fitted LearnedModel (fitted on human
labels only: socratic.judge.learned.fit; saved and loaded: socratic.judge.learned.store; its training
data: socratic.judge.labels.human).

    socratic judge-train                      # fit from the shipped labels, save under SOCRATIC_HOME/judges
    socratic judge --judge learned ...        # loads it (fits it first when it is missing)
    judge = load_judge("learned:path/to/learned.json")

Scores: questions and reveal_answer are P(yes) >= 0.5; on_topic and helpful are round(E[y]) of the
ordinal heads. Text the labels never show is gated by rules (`apply_gates`: unreadable text is not
helpful, role-play and repetition cost a level). The judgment's summary is the expected summary
(probabilities and expected values in the formula), a smooth reward; `meta.judge_notes` keeps every
probability.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socratic.judge.base import RULE_DETECTORS, Item, Judge, Outcome
from socratic.judge.learned import store
from socratic.judge.learned.features import featurize
from socratic.judge.learned.fit import LEARNED_VERSION, LearnedModel, expected_values
from socratic.judge.learned.store import model_hash
from socratic.records import Dialogue
from socratic.scores import CRITERIA, Scores
from socratic.store.cache import Cache


def judge_notes(proba: dict[str, np.ndarray], row: int) -> dict[str, Any]:
    expected = {c: round(float(v[row]), 4) for c, v in expected_values(proba).items()}
    return {"expected": expected,
            "proba": {c: [round(float(x), 4) for x in np.atleast_1d(proba[c][row])] for c in CRITERIA}}


_UNREADABLE = {"gibberish", "non-English", "empty"}


def apply_gates(notes: dict[str, Any], reply: str, dialogue: Dialogue | None = None) -> dict[str, Any]:
    """Rules for text the human labels never show (so no head can have learned them): unreadable text
    (gibberish, another language, empty) is neither helpful nor on topic; a reply that only asks for
    material the conversation holds ("Can you please provide the code you're working with?") is not
    helpful; role-play as the student and repeated text cost a level of helpfulness; given the dialogue, a
    number found nowhere in the problem, the turns or the worked solution, or a false computation
    (socratic.judge.correctness: made-up arithmetic, issue 36) is not helpful. The raw probabilities stay
    in `proba`."""
    from socratic.judge.correctness import check_reply
    from socratic.signals import asks_only_for_material, quality_flags

    flags = set(quality_flags(reply)) | ({"material request"} if asks_only_for_material(reply) else set())
    if dialogue is not None:
        checked = check_reply(dialogue, reply)
        flags |= {"made-up arithmetic"} if checked.invents or checked.miscomputes else set()
    expected = dict(notes["expected"])
    if flags & _UNREADABLE:
        expected["helpful"], expected["on_topic"] = 1.0, min(expected["on_topic"], 2.0)
    if flags & {"material request", "made-up arithmetic"}:
        expected["helpful"] = 1.0
    for flag in sorted(flags & {"role-play", "repetition"}):
        expected["helpful"] = max(1.0, expected["helpful"] - 1.0)
    gates = sorted(flags & (_UNREADABLE | {"material request", "made-up arithmetic", "role-play", "repetition"}))
    return {**notes, "expected": expected, "gates": gates} if gates else notes


def scores_from_expected(expected: dict[str, float]) -> Scores:
    return Scores(questions=expected["questions"] >= 0.5, reveal_answer=expected["reveal_answer"] >= 0.5,
                  on_topic=int(min(5, max(1, round(expected["on_topic"])))),
                  helpful=int(min(5, max(1, round(expected["helpful"])))))


class LearnedJudge(Judge):
    """Scores from a fitted LearnedModel; the summary is the expected summary (see module doc)."""

    detectors = RULE_DETECTORS | {"learned_heads", "correctness"}

    def __init__(self, *, cache: Cache, model: LearnedModel, name: str = "learned"):
        super().__init__(cache)
        self.model = model
        self.spec = name
        self.version = f"{LEARNED_VERSION}:{model_hash(model)[:16]}"

    @classmethod
    def from_spec(cls, spec: str, argument: str, *, cache: Cache, **_: int) -> LearnedJudge:
        """`learned:PATH`: the saved judge there; `learned`: the default one, fitted on first use."""
        model = store.load(Path(argument).expanduser()) if argument else store.load_or_train()
        return cls(cache=cache, model=model, name=spec)

    def model_extra_files(self) -> list[Path]:
        return [Path(p) for p in self.model.extra_files]

    def _score(self, items: Sequence[Item], done: Callable[[int, Outcome], None]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for start in range(0, len(items), 256):
            part = items[start:start + 256]
            proba = self.model.predict(featurize(part))
            for offset, (dialogue, reply) in enumerate(part):
                notes = apply_gates(judge_notes(proba, offset), reply, dialogue)
                outcome = Outcome(scores=scores_from_expected(notes["expected"]), notes=notes)
                outcomes.append(outcome)
                done(start + offset, outcome)
        return outcomes
