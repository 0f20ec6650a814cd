"""Does a tutor reply point at the student's first wrong step? Judge-free features for MathDial items (issue 36).

Both blind raters of experiments/teacher_tries/ said what separates a good reply: it "found the student's actual
mistake and asked one short question about it"; poor ones "repeated the problem's question or a question the
student already answered" or "asked about a step that was already right". These features measure that from
what every MathDial item holds: GSM8K's worked solution (`dialogue.reference`), the student's wrong solution
(`meta["student_solution"]`, line by line), the problem and the turns so far. No model, no judge.

    features = error_step_features(dialogue, "Why did you add 4 twice?")   # {name: float} in FEATURE_NAMES order

A student's step is **wrong** when it states a number (in digits) that is in neither the worked solution nor the
problem; the **first wrong step** is the first such line of the student's solution, and
the student's latest turn (when it is not the opening one) gives a second, newer one. A step is **right**
when all its numbers are known and its result is one of the worked solution's. The features:

- `wrong_step_words`: share of the wrong step's distinctive content words (those not in the problem's final
  question) that the reply uses; the larger of the two wrong steps.
- `question_on_wrong_step`: the largest share of a reply question's content words that are distinctive words of
  a wrong step (the question is about that step, not about the problem's question).
- `wrong_step_numbers`: 1 when the reply names a wrong number of a wrong step (one in neither the problem nor
  the worked solution: "How did you get 9?" does, "Why did you add 4 twice?" does not).
- `right_step_question`: 1 when the reply's question matches a right step of the student better than any
  wrong step (it asks about what was already right).
- `restates_problem_question`: the largest content-word overlap (Jaccard) of a reply question with the
  problem's final question.
- `problem_question_share`: the largest share of a reply question's content words found in the problem's final
  question (containment: a short question that is a piece of the problem's question scores 1).
- `repeats_tutor_question`: the largest content-word overlap (Jaccard) of a reply question with a question the
  tutor already asked in this conversation.
- `missed_reference_number`: 1 when the reply names a number of the worked solution that the student never
  wrote and that is not the final answer (a pointer at the missing quantity: "only 21 gnomes have red hats").
- `no_wrong_step_found`: 1 when the heuristic finds no wrong step (the other step features are then 0).

Run the tests: `PYTHONPATH=src python -m pytest -q experiments/rated_head/test_error_step.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from socratic.records import Dialogue
from socratic.signals import content_words, final_answer_numbers, genuine_questions, numbers, sentences

FEATURE_NAMES = ("wrong_step_words", "question_on_wrong_step", "wrong_step_numbers", "right_step_question",
                 "restates_problem_question", "problem_question_share", "repeats_tutor_question",
                 "missed_reference_number", "no_wrong_step_found")
# Numbers a reply may say without pointing at anything: counting, "step 1", "2 bottles".
_ORDINARY = frozenset(str(n) for n in range(11))
_SOLUTION_OPENER = re.compile(r"here is my solution:?", re.IGNORECASE)


def problem_text(dialogue: Dialogue) -> str:
    return str(dialogue.meta.get("problem") or re.sub(r"^\s*Problem:\s*", "", dialogue.context))


def problem_question(dialogue: Dialogue) -> str:
    """The problem's final question: its last sentence that asks, else its last sentence."""
    units = sentences(problem_text(dialogue))
    asked = [s for s in units if s.rstrip().endswith("?")]
    return (asked or units or [""])[-1]


def solution_steps(dialogue: Dialogue) -> list[str]:
    """The student's solution, one step a line: `meta["student_solution"]`, else what follows "Here is my
    solution" in the student's opening turn."""
    solution = dialogue.meta.get("student_solution")
    if not solution:
        opening = next((t.text for t in dialogue.turns if t.role == "student"), "")
        parts = _SOLUTION_OPENER.split(opening, maxsplit=1)
        solution = parts[1] if len(parts) == 2 else ""
    return [line.strip() for line in str(solution).splitlines() if line.strip()]


def _digits(text: str) -> list[str]:
    return [n.lstrip("-") for n in numbers(text, with_words=False)]


def known_numbers(dialogue: Dialogue) -> set[str]:
    """The numbers a right step may state: the problem's and the worked solution's."""
    return set(_digits(problem_text(dialogue))) | set(_digits(dialogue.reference or ""))


def is_wrong(step: str, known: set[str]) -> bool:
    return any(n not in known for n in _digits(step))


def wrong_steps(dialogue: Dialogue) -> list[str]:
    """The first wrong line of the student's solution, then the first wrong sentence of the student's latest
    turn when that turn is not the opening one (module docstring); empty when none is found."""
    known = known_numbers(dialogue)
    found = [next((s for s in solution_steps(dialogue) if is_wrong(s, known)), None)]
    students = [t for t in dialogue.turns if t.role == "student"]
    if len(students) >= 2:
        found.append(next((s for s in sentences(students[-1].text) if is_wrong(s, known)), None))
    return [s for s in found if s]


def right_steps(dialogue: Dialogue) -> list[str]:
    """Lines of the student's solution whose numbers are all known and whose last number is a result of the
    worked solution other than a number the problem gives."""
    known = known_numbers(dialogue)
    given = set(_digits(problem_text(dialogue)))
    reference = set(_digits(dialogue.reference or "")) - given
    out = []
    for step in solution_steps(dialogue):
        found = _digits(step)
        if found and not is_wrong(step, known) and found[-1] in reference:
            out.append(step)
    return out


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _asked(reply: str) -> list[str]:
    """The reply's questions (none when it asks nothing: the question features are then 0)."""
    return genuine_questions(reply)


def error_step_features(dialogue: Dialogue, reply: str) -> dict[str, float]:
    """The features of the module docstring, in FEATURE_NAMES order."""
    wrong = wrong_steps(dialogue)
    right = right_steps(dialogue)
    question_words = content_words(problem_question(dialogue))
    reply_words = content_words(reply)
    reply_numbers = set(_digits(reply))
    given = set(_digits(problem_text(dialogue)))
    known = known_numbers(dialogue)

    asked = [content_words(q) for q in _asked(reply)]
    step_words = on_wrong_step = 0.0
    for step in wrong:
        distinctive = content_words(step) - question_words
        if distinctive:
            step_words = max(step_words, len(distinctive & reply_words) / len(distinctive))
        on_wrong_step = max([on_wrong_step, *(len(w & distinctive) / len(w) for w in asked if w)])
    step_numbers = float(any(n in reply_numbers for step in wrong for n in set(_digits(step)) - known))

    right_question = 0.0
    for words in asked:
        best_right = max((len(words & content_words(s)) for s in right), default=0)
        best_wrong = max((len(words & content_words(s)) for s in wrong), default=0)
        if best_right > best_wrong:
            right_question = 1.0

    tutor_questions = [content_words(q) for t in dialogue.turns if t.role == "tutor" for q in genuine_questions(t.text)]
    restates = max((_jaccard(w, question_words) for w in asked), default=0.0)
    question_share = max((len(w & question_words) / len(w) for w in asked if w), default=0.0)
    repeats = max((_jaccard(w, t) for w in asked for t in tutor_questions), default=0.0)

    student_numbers = {n for t in dialogue.turns if t.role == "student" for n in _digits(t.text)}
    student_numbers |= {n for s in solution_steps(dialogue) for n in _digits(s)}
    missed = set(_digits(dialogue.reference or "")) - student_numbers - given - _ORDINARY
    missed -= final_answer_numbers(dialogue.reference or "")
    return {"wrong_step_words": step_words, "question_on_wrong_step": on_wrong_step,
            "wrong_step_numbers": step_numbers, "right_step_question": right_question,
            "restates_problem_question": restates, "problem_question_share": question_share,
            "repeats_tutor_question": repeats, "missed_reference_number": float(bool(missed & reply_numbers)),
            "no_wrong_step_found": float(not wrong)}


def error_step_matrix(items: Sequence[tuple[Dialogue, str]]) -> np.ndarray:
    """One row of FEATURE_NAMES per (dialogue, reply)."""
    return np.asarray([[error_step_features(d, r)[n] for n in FEATURE_NAMES] for d, r in items], dtype=float)
