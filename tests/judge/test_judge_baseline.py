"""The '?' baseline judge (`qmark`): its scores, its spec, and that it goes through the Judge machinery."""

from __future__ import annotations

import pytest

from socratic.errors import SocraticError
from socratic.judge import judge_version, load_judge
from socratic.judge.baseline import QMARK_VERSION, qmark_scores
from socratic.records import Dialogue, Turn
from socratic.scores import Scores
from socratic.store.cache import NoCache


def test_a_question_mark_is_a_question_and_helpful():
    assert qmark_scores("What do you get if you add them?") == Scores(questions=True, on_topic=5, helpful=5,
                                                                      reveal_answer=False)
    assert qmark_scores("The answer is 12.") == Scores(questions=False, on_topic=5, helpful=1, reveal_answer=False)


def test_load_judge_qmark_judges_in_order_with_summaries():
    judge = load_judge("qmark", cache=NoCache())
    dialogue = Dialogue(id="d", source="test", turns=(Turn(role="student", text="Is it 12?"),), reference="12")
    first, second = judge.judge_many([(dialogue, "Why 12?"), (dialogue, "Yes, 12.")], progress=False)
    assert (first.judge, first.scores.questions, first.summary) == ("qmark", True, 1.0)
    assert (second.scores.questions, second.summary) == (False, 0.5)
    assert judge_version("qmark") == QMARK_VERSION == judge.version


def test_qmark_takes_no_argument():
    with pytest.raises(SocraticError, match="unknown judge spec"):
        load_judge("qmark:x", cache=NoCache())
