"""The `pairwise` judge: the summary from a fitted pairwise reward model's utility (socratic.judge.pairwise.fit;
saved and loaded: socratic.judge.pairwise.store), the four criteria from its learned-judge heads.

    socratic judge-train --reward              # fit from the shipped labels, save under SOCRATIC_HOME/judges
    socratic judge --judge pairwise ...        # loads it (fits it first when it is missing)
    judge = load_judge("pairwise:path/to/reward.json")

The summary is the utility mapped to [0, 1] by the model's calibration (sigmoid(a u + b)), so it orders
replies as the reward does; the criteria and gates are the learned judge's (socratic.judge.learned.judge),
and `meta.judge_notes["reward"]` keeps the utility (the key kept its first name: run files stay readable).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

from socratic.judge.base import RULE_DETECTORS, Item, Judge, Outcome
from socratic.judge.pairwise import store
from socratic.judge.pairwise.features import reward_features
from socratic.judge.pairwise.fit import N_LEARNED, REWARD_VERSION, RewardModel
from socratic.judge.pairwise.store import model_hash
from socratic.store.cache import Cache


class PairwiseJudge(Judge):
    """Summary from the pairwise utility, criteria from learned heads (see module doc)."""

    detectors = RULE_DETECTORS | {"learned_heads", "dodge_signals", "correctness"}

    def __init__(self, *, cache: Cache, model: RewardModel, name: str = "pairwise"):
        super().__init__(cache)
        self.model = model
        self.spec = name
        self.version = f"{REWARD_VERSION}:{model_hash(model)[:16]}"

    @classmethod
    def from_spec(cls, spec: str, argument: str, *, cache: Cache, **_: int) -> PairwiseJudge:
        """`pairwise:PATH`: the saved judge there; `pairwise`: the default one, fitted on first use."""
        model = store.load(Path(argument).expanduser()) if argument else store.load_or_train()
        return cls(cache=cache, model=model, name=spec)

    def _score(self, items: Sequence[Item], done: Callable[[int, Outcome], None]) -> list[Outcome]:
        from socratic.judge.learned.judge import apply_gates, judge_notes, scores_from_expected

        outcomes: list[Outcome] = []
        for start in range(0, len(items), 256):
            part = items[start:start + 256]
            X = reward_features(part)
            proba = self.model.learned.predict(X[:, :N_LEARNED])
            utility = self.model.utility(X)
            summary = self.model.summary(utility)
            for offset, (dialogue, reply) in enumerate(part):
                notes = apply_gates(judge_notes(proba, offset), reply, dialogue)
                u = float(utility[offset])
                notes["reward"] = {"utility": round(u, 6) if math.isfinite(u) else 0.0,
                                   "summary": round(float(summary[offset]), 6)}
                outcome = Outcome(scores=scores_from_expected(notes["expected"]), notes=notes)
                outcomes.append(outcome)
                done(start + offset, outcome)
        return outcomes
