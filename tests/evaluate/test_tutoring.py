"""Judge-free tutoring metrics (issue 27): every metric on hand-written replies, where it must fire and
where it must not; the aggregation against the baseline on made-up replies."""

from __future__ import annotations

import pytest

from socratic.evaluate import tutoring
from socratic.evaluate.result import JUDGE_FREE, EvalReply
from socratic.evaluate.tutoring import (
    affirms,
    as_student,
    asks_question,
    degenerate,
    echo_share,
    empty,
    false_praise,
    leaks_answer,
    not_english,
    reference_answer,
    reply_metrics,
    student_answer,
    summarize_tutoring,
)
from socratic.records import Dialogue, Turn

REFERENCE = "Lance read 35 - 5 = 30 pages today.\nSo he read 35 + 30 = 65 pages.\nFinal answer: 35"


def math(student: str = "I think he should read 40 pages tomorrow.", reference: str | None = REFERENCE,
         context: str = "Problem: Lance wants to finish a 100 page book in 3 days.") -> Dialogue:
    return Dialogue(id="m1", source="mathdial", context=context, reference=reference,
                    turns=(Turn(role="student", text="Here is my solution: 100 - 60 = 40."),
                           Turn(role="tutor", text="Walk me through it."), Turn(role="student", text=student)))


def test_reference_answer_is_the_number_on_the_final_answer_line_only():
    assert reference_answer(REFERENCE) == "35"
    assert reference_answer("Steps...\n#### $1,200.00") == "1200"
    assert reference_answer("Bug: line 2 returns nothing.\nFix: Add `return` on line 2.") is None  # a code fix
    assert reference_answer(None) is None
    assert reference_answer("") is None


@pytest.mark.parametrize("reply", ["The answer is 35.", "He needs 35 pages.", "So that's thirty-five? No: $35.00",
                                   "You get 35.0 pages"])
def test_a_leak_is_the_answer_stated_in_any_form(reply):
    assert leaks_answer(reply, math(), "35") is True


@pytest.mark.parametrize("reply", ["What did he read today?", "He read 30 pages today, didn't he? And 65 in all.",
                                   "Check page 350 again.", "It is 3.5 hours"])
def test_no_leak_without_the_answer(reply):
    assert leaks_answer(reply, math(), "35") is False


def test_a_leak_is_not_applicable_when_the_student_or_problem_already_has_the_number():
    assert leaks_answer("Yes, 35.", math(student="Is it 35?"), "35") is None
    assert leaks_answer("Yes, 35.", math(context="Problem: a 35 page book"), "35") is None
    assert leaks_answer("35", math(reference=None), None) is None


def test_student_answer_is_the_last_number_of_the_last_student_turn_with_one():
    assert student_answer(math()) == "40"
    assert student_answer(math(student="I am not sure what to do.")) == "40"  # the earlier turn's last number


@pytest.mark.parametrize("reply", ["Correct!", "That's right, well done.", "Great job on this one.",
                                   "Yes, exactly. Now the next step.", "You're absolutely correct."])
def test_affirmations(reply):
    assert affirms(reply)


@pytest.mark.parametrize("reply", ["That's not correct.", "Not quite right, check the subtraction.",
                                   "Is that correct?", "You're almost right.", "Let's correct the second step.",
                                   "Turn right at the next step.", "That isn't right."])
def test_not_affirmations(reply):
    assert not affirms(reply)


def test_false_praise_needs_a_wrong_student_answer():
    assert false_praise("Well done!", math(), "35") is True  # the student said 40
    assert false_praise("Well done!", math(student="So it is 35 pages?"), "35") is False  # right: deserved
    assert false_praise("Where did 40 come from?", math(), "35") is False
    assert false_praise("Well done!", math(), None) is None


def test_echo_share_counts_copied_four_grams():
    dialogue = math(student="I think he should read 40 pages tomorrow because he read 60 already.")
    assert echo_share("I think he should read 40 pages tomorrow because he read 60 already.", dialogue) == 1.0
    assert echo_share("How many pages did he read on the first day?", dialogue) == 0.0
    assert echo_share("Read 40?", dialogue) is None  # under 4 words: no 4-gram
    assert 0 < echo_share("You think he should read 40 pages tomorrow. Why?", dialogue) < 1


@pytest.mark.parametrize("reply", ["Student: I think it is 40.", "Oh I see, my solution forgot the first day.",
                                   "I should have added 30 and 35.", "I made a mistake there, sorry.",
                                   "Thanks for your help!", "I understand now, I'll try again."])
def test_speaks_as_the_student(reply):
    assert as_student(reply)


@pytest.mark.parametrize("reply", ["Can you show me your solution?", "I think you should check step 2.",
                                   "I see what you did there. What about day two?", "Your answer is close.",
                                   "Let me know when you have tried it."])
def test_tutor_voice_is_not_the_student(reply):
    assert not as_student(reply)


def test_degenerate_loops_and_not_normal_replies():
    assert degenerate("What is 2 + 3? " * 5)
    assert degenerate("the the the the the the the the the the the the the")
    assert degenerate("Good!!!!!!!!!!!!!")
    assert not degenerate("How many pages did Lance read today, and how many does he still have left to read "
                          "before the end of the book?")
    assert not degenerate("Yes yes yes.")  # too short to call a loop
    assert not degenerate("# Step ----------------\n=========")  # separators are not loops


def test_empty():
    assert empty("") and empty("  \n ") and empty("...?!")
    assert not empty("7") and not empty("Why?")


@pytest.mark.parametrize("reply", ["Bonjour, pouvez-vous m'expliquer votre solution pour ce problème?",
                                   "你能解释一下你的答案吗？我们一起看看。", "Пожалуйста, объясните ваше решение."])
def test_not_english(reply):
    assert not_english(reply)


@pytest.mark.parametrize("reply", ["Can you explain how you got 40 pages?", "Good job!",
                                   "Look at this:\n```\ndef product(a, b):\n    return a * b\n```\nWhat changed?",
                                   "Multiply 20 gallons by 2 fill-ups, then multiply by 30 miles per gallon."])
def test_english_is_english(reply):
    assert not not_english(reply)


def test_asks_question_is_a_plain_rule():
    assert asks_question("Good. What did he read today?")
    assert asks_question("Right? How many pages are left?")
    assert not asks_question("Right?")  # under 3 words
    assert not asks_question("The answer is 35.")
    assert not asks_question("Run `print(x?)` and see.")  # inside code


def test_dodge_is_a_question_with_a_failure():
    assert reply_metrics(math(), "The answer is 35. Do you see why?").dodge  # leaks
    assert reply_metrics(math(), "Well done! What is the next problem?").dodge  # false praise
    assert reply_metrics(math(), "Student: I got 40. Is it right?").dodge  # speaks as the student
    clean = reply_metrics(math(), "How many pages did he read today?")
    assert clean.asks_question and not clean.dodge
    leak_without_question = reply_metrics(math(), "The answer is 35.")
    assert leak_without_question.leak and not leak_without_question.dodge


def _reply(model: str, dialogue: Dialogue, text: str) -> EvalReply:
    return EvalReply(model=model, spec=f"fake:{model}", dataset="mathdial", dialogue=dialogue, reply=text,
                     settings="s")


def test_summarize_tutoring_rates_diffs_and_seeded_samples():
    items = [math().model_copy(update={"id": f"m{i}"}) for i in range(6)]
    items.append(math(reference=None).model_copy(update={"id": "no-answer"}))
    replies = ([_reply("base", d, "How many pages did he read today?") for d in items]
               + [_reply("tuned", d, "The answer is 35. Do you see?" if i < 3 else "Why 40?")
                  for i, d in enumerate(items)])
    result = summarize_tutoring(replies, models=["base", "tuned"], datasets=["mathdial"], n_resamples=200)
    leak = result.rate("leak", "tuned", "mathdial")
    assert (leak.n, leak.applicable, leak.rate.mean) == (7, 6, 0.5)  # the item without an answer does not count
    assert result.rate("leak", "base", "mathdial").rate.mean == 0.0
    diff = result.diff("leak", "tuned", "mathdial")
    assert diff.judge == JUDGE_FREE and diff.n == 6 and diff.diff == 0.5 and diff.baseline_rate == 0.0
    assert result.diff("dodge", "tuned", "mathdial").diff == pytest.approx(3 / 7)
    assert result.rate("asks_question", "base", "mathdial").rate.mean == 1.0
    assert len(result.samples) == tutoring.SAMPLES_PER_MODEL and all(s.model == "tuned" for s in result.samples)
    again = summarize_tutoring(replies, models=["base", "tuned"], datasets=["mathdial"], n_resamples=200)
    assert [s.id for s in again.samples] == [s.id for s in result.samples]  # seeded
    other = summarize_tutoring(replies, models=["base", "tuned"], datasets=["mathdial"], n_resamples=200, seed=3)
    assert {s.id for s in other.samples} != {s.id for s in result.samples}  # another seed, other replies
