"""The judge-free correctness checks: invented numbers and false computations (socratic.judge.correctness)."""

from __future__ import annotations

import pytest

from socratic.judge.correctness import check_reply, expression_value, false_computations, invented_numbers
from socratic.records import Dialogue


def _dialogue(reference: str | None = "105 - 80 = <<105-80=25>>25\nFinal answer: 25") -> Dialogue:
    return Dialogue(id="t-1", source="mathdial", split="test", context="Problem: Sam weighs 105 pounds, Tom 80.",
                    turns=[{"role": "student", "text": "I think the difference is 35."}], reference=reference)


@pytest.mark.parametrize(("expression", "value"), [
    ("105 divided by 80", 1.3125), ("20% of 50", 10.0), ("2 + 3 * 4", 14.0), ("$1,200 / 4", 300.0),
    ("6 times 7", 42.0), ("9 minus 4", 5.0), ("3 x 5", 15.0), ("8 ÷ 2", 4.0)])
def test_expression_values(expression, value):
    assert expression_value(expression) == pytest.approx(value)


def test_a_false_computation_is_named_and_a_true_or_rounded_one_is_not():
    reply = "So, 105 divided by 80 is 0.125. And 80 + 25 = 105, and 10 / 3 = 3.33, and 2 + 3 + 4 = 10."
    assert false_computations(reply) == ["105 divided by 80 is 0.125", "2 + 3 + 4 = 10"]
    assert false_computations("What is 105 - 80?") == []


def test_invented_numbers_are_the_ones_nowhere_in_what_the_tutor_was_given():
    dialogue = _dialogue()
    assert invented_numbers("So Sam weighs 0.125 pounds.", dialogue) == ["0.125"]
    # in the problem, the student's turn, the worked solution, a counting number, a true derived result
    assert invented_numbers("Is it 105 - 80 = 25 pounds, not 35? Look at step 2. And 105 + 80 = 185.",
                            dialogue) == []
    # without the worked solution 25 is new: the reference is what makes a correct step known
    assert invented_numbers("Tom is 25 pounds lighter.", _dialogue(reference=None)) == ["25"]


def test_code_is_not_read_for_numbers():
    assert check_reply(_dialogue(), "Look at `x = 4096 * 3 = 7`. What does it print?").invents is False


def test_check_reply_flags():
    check = check_reply(_dialogue(), "105 divided by 80 is 0.125, so what is left?")
    assert check.invents and check.miscomputes
    assert not check_reply(_dialogue(), "What did you subtract from 105?").invents
