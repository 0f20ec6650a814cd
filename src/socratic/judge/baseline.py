"""The one-character baseline judge, `qmark`: a reply asks a question when it contains '?' (issue 17).

    judge = load_judge("qmark")

questions = the reply contains '?'; helpful 5 if so, else 1; on_topic 5; reveal_answer never. On the
socratic_llm dev 50 its summary correlates 0.76 with people's (0.81 on 42 of them): a judge is worth its
cost only where it beats this. `socratic agreement` scores it next to every judge; as an evaluation judge it shows how much
of a lift a question mark alone would explain. Rules only, no model; cached like any judge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from socratic.judge.base import Item, Judge, Outcome
from socratic.scores import Scores

QMARK_VERSION = "qmark_v1"
QMARK = "qmark"  # its spec


def qmark_scores(reply: str) -> Scores:
    asks = "?" in reply
    return Scores(questions=asks, reveal_answer=False, on_topic=5, helpful=5 if asks else 1)


class QuestionMarkJudge(Judge):
    spec = QMARK
    detectors = frozenset({"qmark"})
    version = QMARK_VERSION

    def _score(self, items: Sequence[Item], done: Callable[[int, Outcome], None]) -> list[Outcome]:
        outcomes = []
        for position, (_, reply) in enumerate(items):
            outcomes.append(Outcome(scores=qmark_scores(reply)))
            done(position, outcomes[-1])
        return outcomes
