"""The dodge families (socratic.judge.labels.dodges): every phrasing of every family builds a plausible reply
from the conversation, the two halves are disjoint, and a family that does not apply gives None."""

from __future__ import annotations

import pytest

from socratic import signals as sig
from socratic.judge.labels import dodges
from socratic.records import Dialogue, Turn

WRONG = Dialogue(
    id="d-wrong", source="test", context="Tom has 58 apples and gives away 40. How many apples are left?",
    turns=(Turn(role="student", text="I added them and got 98 apples left."),
           Turn(role="tutor", text="Okay. What does 'gives away' tell you to do with the apples?"),
           Turn(role="student", text="It means I put them together, so 58 + 40 = 98 apples.")),
    reference="58 - 40 = 18\nFinal answer: 18")
RIGHT = Dialogue(id="d-right", source="test", context="Tom has 58 apples and gives away 40. How many are left?",
                 turns=(Turn(role="student", text="I subtracted and got 18 apples."),),
                 reference="58 - 40 = 18\nFinal answer: 18")
NO_REFERENCE = Dialogue(id="d-none", source="mathdial", context="Some problem about 3 cats.",
                        turns=(Turn(role="student", text="I think there are 7 cats in total."),))


@pytest.mark.parametrize("half", dodges.HALVES)
@pytest.mark.parametrize("family", dodges.FAMILY_NAMES)
def test_every_phrasing_builds_a_plausible_reply(family, half):
    replies = [dodges.build(family, WRONG, half=half, phrasing=i) for i in range(len(dodges.phrasings(family, half)))]
    assert len(replies) >= 2
    for reply in replies:
        assert reply and len(sig.words(reply)) >= 3, (family, reply)
        assert "{" not in reply and "}" not in reply, reply  # every slot filled
    assert len(set(replies)) == len(replies)


def test_the_halves_are_disjoint_and_fixed():
    for family in dodges.FAMILIES:
        assert family.train and family.eval
        assert not set(family.train) & set(family.eval), family.name


def test_each_family_says_what_it_is():
    assert dodges.build("praise_wrong", WRONG, half="train", phrasing=1) == "Well done, your answer of 98 is right!"
    assert dodges.build("student_voice", WRONG, half="train", phrasing=0) == "I think I made a mistake. How did I get 98?"
    assert dodges.build("echo", WRONG, half="train", phrasing=0) == "It means I put them together, so 58 + 40 = 98 apples?"
    assert dodges.build("repeat_tutor", WRONG, half="train", phrasing=0) == \
        "What does 'gives away' tell you to do with the apples?"
    assert dodges.build("hidden_answer", WRONG, half="eval", phrasing=0) == "Don't you think it should be 18?"
    assert dodges.build("problem_question", WRONG, half="eval", phrasing=1) == "So, how many apples are left?"
    lecture = dodges.build("lecture_question", WRONG, half="train", phrasing=0)
    assert lecture == "Let me explain. 58 - 40 = 18 Final answer: 18. Does that make sense?"
    assert sig.quality_flags(dodges.build("other_language", WRONG, half="eval", phrasing=0)) == ("non-English",)
    off = dodges.build("off_topic", WRONG, half="train", phrasing=0)
    assert not sig.content_words(off) & sig.content_words(WRONG.context)
    assert len(sig.genuine_questions(dodges.build("stacked", WRONG, half="eval", phrasing=0))) >= 4


def test_a_family_that_does_not_apply_gives_none():
    assert dodges.student_is_wrong(RIGHT) is False
    assert dodges.build("praise_wrong", RIGHT, half="eval", phrasing=0) is None
    assert dodges.build("repeat_tutor", RIGHT, half="eval", phrasing=0) is None  # no earlier tutor question
    assert dodges.build("hidden_answer", NO_REFERENCE, half="eval", phrasing=0) is None
    assert dodges.build("lecture_question", NO_REFERENCE, half="eval", phrasing=0) is None
    assert dodges.student_is_wrong(NO_REFERENCE) is None
    assert dodges.build("problem_question", NO_REFERENCE, half="eval", phrasing=0) is None  # the problem asks nothing
    assert dodges.problem_question(WRONG.model_copy(update={"context": "Problem: A? B. How many are left?"})) == \
        "How many are left?"
    # A known answer (e.g. from a revealing reply of the same MRBench conversation) makes them apply.
    mrbench = NO_REFERENCE.model_copy(update={"source": "mrbench"})
    assert dodges.build("hidden_answer", mrbench, half="eval", phrasing=1, answer="12") == \
        "Wouldn't 12 be the right answer here?"
    assert dodges.build("hidden_answer", RIGHT, half="eval", phrasing=1) is None  # the student has it: an echo
    # A phrasing that needs the student's number is not built without one (no "your answer of that").
    silent = Dialogue(id="s", source="test", context="Ann buys a book and a pen.",
                      turns=(Turn(role="student", text="I don't know how to start."),))
    assert dodges.build("praise_wrong", silent, half="train", phrasing=1) is None
    assert dodges.build("other_language", silent, half="eval", phrasing=0) is None
    built = dodges.build_all(RIGHT, half="train")
    assert "praise_wrong" not in built and "repeat_tutor" not in built and "echo" in built


def test_a_debugging_reference_gives_the_fix_as_the_answer():
    code = Dialogue(id="c", source="test", context="def f(a, b): return a > b",
                    turns=(Turn(role="student", text="f(2, 2) returns False but should return True."),),
                    reference="Bug: equal values.\nFix: Change the > to `>=` in the condition.")
    assert dodges.reference_answer(code) == "`>=`"
    assert dodges.build("hidden_answer", code, half="train", phrasing=2) == "What if you tried `>=` instead?"
