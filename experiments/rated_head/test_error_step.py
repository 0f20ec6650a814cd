"""Tests of error_step.py on hand-made MathDial-like dialogues.

Run: `PYTHONPATH=src python -m pytest -q experiments/rated_head/test_error_step.py`
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from error_step import (  # the experiment folder is not a package
    FEATURE_NAMES,
    error_step_features,
    error_step_matrix,
    problem_question,
    right_steps,
    solution_steps,
    wrong_steps,
)

from socratic.records import Dialogue, Turn

PROBLEM = ("James is deciding between two trails. The first trail is 20 miles and he can hike it at 5 miles per "
           "hour. The second trail is 12 miles, he can hike it at 3 miles per hour, and he must take a 1 hour "
           "break halfway. How many hours faster is the fastest hike?")
REFERENCE = ("First find how long the first trail takes to hike: 20 miles / 5 miles/hour = 4 hours\n"
             "Then find how long James spends hiking the second trail: 12 miles / 3 miles/hour = 4 hours\n"
             "Then add the 1 hour break: 4 hours + 1 hour = 5 hours\n"
             "Then subtract to find the difference: 5 hours - 4 hours = 1 hour\nFinal answer: 1")
SOLUTION = ("On the first trail, James will take 20/5 = 4 hours to cover the distance.\n"
            "On the second trail, he will take 12/3 = 4 hours for the first half and then a 1 hour break, so it "
            "will take him a total of 4 + 1 + 4 = 9 hours.\n"
            "The first trail is 9 - 4 = 5 hours faster than the second trail.\n 5")


def dialogue(*turns: tuple[str, str], solution: str | None = SOLUTION) -> Dialogue:
    meta = {"problem": PROBLEM} | ({"student_solution": solution} if solution is not None else {})
    opening = f"Professor, here is the text: {PROBLEM} Here is my solution {SOLUTION}"
    return Dialogue(id="t-1", source="mathdial", context=f"Problem: {PROBLEM}", reference=REFERENCE, meta=meta,
                    turns=(Turn(role="student", text=opening), *(Turn(role=r, text=t) for r, t in turns)))


def test_the_first_wrong_step_is_the_first_line_with_a_number_outside_the_problem_and_the_solution():
    d = dialogue()
    assert wrong_steps(d) == [SOLUTION.splitlines()[1]]  # 9 is in neither; line 1 (20/5 = 4) is right
    assert right_steps(d) == [SOLUTION.splitlines()[0]]
    assert problem_question(d) == "How many hours faster is the fastest hike?"


def test_the_latest_student_turn_gives_a_second_wrong_step():
    d = dialogue(("tutor", "How long is the second hike?"), ("student", "It is 4 hours. Then 4 + 1 + 4 = 9 hours."))
    assert wrong_steps(d)[1] == "Then 4 + 1 + 4 = 9 hours."


def test_the_solution_falls_back_to_the_opening_turn():
    d = dialogue(solution=None)
    assert solution_steps(d)[0].startswith("On the first trail")
    assert wrong_steps(d) and "9 hours" in wrong_steps(d)[0]


def test_a_question_about_the_wrong_step_scores_on_it_and_not_on_restating():
    d = dialogue()
    pointed = error_step_features(d, "Why did you add 4 twice for the second trail's total?")
    restated = error_step_features(d, "How many hours faster is the fastest hike?")
    assert pointed["question_on_wrong_step"] > restated["question_on_wrong_step"]
    assert pointed["wrong_step_words"] > restated["wrong_step_words"]
    assert restated["restates_problem_question"] == 1.0
    assert restated["problem_question_share"] == 1.0
    assert pointed["restates_problem_question"] < 0.2


def test_naming_the_students_wrong_number_counts_but_a_given_number_does_not():
    d = dialogue()
    assert error_step_features(d, "How did you get 9 hours?")["wrong_step_numbers"] == 1.0
    assert error_step_features(d, "The second trail is 12 miles. What next?")["wrong_step_numbers"] == 0.0


def test_asking_about_a_right_step_is_flagged():
    d = dialogue()
    assert error_step_features(d, "How long does the first trail take to cover the distance?")["right_step_question"] == 1.0
    assert error_step_features(d, "What is the total for the second trail with its break?")["right_step_question"] == 0.0


def test_repeating_the_tutors_earlier_question_is_measured():
    d = dialogue(("tutor", "How long does the second trail take?"), ("student", "9 hours."))
    assert error_step_features(d, "How long does the second trail take?")["repeats_tutor_question"] == 1.0
    assert error_step_features(d, "Did you count the 4 hours twice?")["repeats_tutor_question"] < 0.5


def test_a_reference_number_the_student_never_wrote_is_a_pointer_but_the_final_answer_is_not():
    problem = "A yard has 28 gnomes. Three-fourths have red hats. How many red-hat gnomes have small noses?"
    d = Dialogue(id="g", source="mathdial", context=problem, reference="28 * 3 / 4 = 21\n21 - 8 = 13\nFinal answer: 13",
                 meta={"problem": problem, "student_solution": "28 - 8 = 20"},
                 turns=(Turn(role="student", text="I got 20."),))
    assert error_step_features(d, "Remember only 21 gnomes have red hats.")["missed_reference_number"] == 1.0
    assert error_step_features(d, "Is it 13?")["missed_reference_number"] == 0.0


def test_no_wrong_step_is_said_and_zeroes_the_step_features():
    d = dialogue(solution="20/5 = 4 hours\n12/3 = 4 hours")
    features = error_step_features(d, "How did you get 4 hours?")
    assert features["no_wrong_step_found"] == 1.0
    assert features["wrong_step_words"] == features["wrong_step_numbers"] == 0.0


@pytest.mark.parametrize("reply", ["", "Hmm.", "Great job!"])
def test_the_matrix_has_one_finite_row_per_reply_in_feature_order(reply):
    matrix = error_step_matrix([(dialogue(), reply), (dialogue(), "How did you get 9?")])
    assert matrix.shape == (2, len(FEATURE_NAMES))
    assert np.isfinite(matrix).all()
    assert matrix[1, FEATURE_NAMES.index("wrong_step_numbers")] == 1.0


def test_a_reply_that_asks_nothing_has_no_question_features():
    features = error_step_features(dialogue(), "The question is how many hours faster is the fastest hike.")
    assert features["restates_problem_question"] == features["problem_question_share"] == 0.0
    assert features["question_on_wrong_step"] == features["right_step_question"] == 0.0
