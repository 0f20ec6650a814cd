"""Exact-expectation unit tests of the pure dataset parsers, on small hand-written strings."""

from __future__ import annotations

import pytest

from socratic.data.debugging import parse_dialogue
from socratic.data.labelled import convert_label
from socratic.data.mathdial import format_ground_truth, parse_utterances
from socratic.data.socratic_llm import parse_conversation, restore_code_lines
from socratic.data.turns import merge_turns
from socratic.records import Turn


def roles_texts(turns):
    return [(turn.role, turn.text) for turn in turns]


def test_mathdial_string_becomes_context_turns_and_moves():
    text = ('Student: "Professor, I have a problem, here is the text: What is 2+3? Here is my solution 2+3=6\\n 6'
            'Teacher: (generic)Hi Sam, walk me through it?\\n", \'Student: I added.\', '
            '"Teacher: (focus)(probing)What is 2+2?", \'Mariana: It is 4.\'')
    context, turns, meta = parse_conversation("mathdial", text)
    assert context == "Problem: What is 2+3?"
    assert roles_texts(turns) == [
        ("student", "Professor, I have a problem, here is the text: What is 2+3? Here is my solution 2+3=6\n 6"),
        ("tutor", "Hi Sam, walk me through it?"),
        ("student", "I added."),
        ("tutor", "What is 2+2?"),
        ("student", "It is 4."),
    ]
    assert meta == {"moves": [[], ["generic"], [], ["focus", "probing"], []], "problem": "What is 2+3?",
                    "student_solution": "2+3=6\n 6", "student_name": "Mariana"}


def test_mathdial_merges_repeated_roles_and_drops_empty_turns():
    text = ("Student: 'Professor, I have a problem, here is the text: P? Here is my solution S"
            "Teacher: (focus)One.', 'Teacher: (probing)Two?', 'Student: A', 'Teacher: ', 'Student: B'")
    _, turns, meta = parse_conversation("mathdial", text)
    assert roles_texts(turns)[1:] == [("tutor", "One.\nTwo?"), ("student", "A\nB")]
    assert meta["moves"] == [[], ["focus", "probing"], []]
    assert meta["empty_turns_dropped"] == 1


def test_mathdial_rejects_other_shapes():
    with pytest.raises(ValueError, match="starts with 'Student: '"):
        parse_conversation("mathdial", "Teacher: hi")


def test_debugging_string_splits_sections_and_turns():
    text = ("<problem>\nWrite `f()`.\n</problem>\n<bug_code>\n1. def f():\n2.\tpass\n</bug_code>\n"
            "<bug_desc>\nIt returns None.\n</bug_desc>\n<bug_fixes>\nReturn 1.\n</bug_fixes>"
            "User: Help!\nAssistant: What does it return?\tUser: None<code>1. def f():2.\tpass</code>\n"
            "Assistant: ")
    context, turns, meta = parse_conversation("debugging", text)
    assert context == "Problem:\nWrite `f()`.\n\nThe student's code:\n1. def f():\n2.\tpass"
    assert roles_texts(turns) == [("student", "Help!"), ("tutor", "What does it return?"),
                                  ("student", "None<code>\n1. def f():\n2.\tpass\n</code>")]
    assert meta == {"reference": "Bug: It returns None.\nFix: Return 1."}


def test_debugging_turns_after_spaces_left_by_dropped_alts():
    text = "<bug_fixes>x</bug_fixes>User: a\nAssistant: b?    User: c\nAssistant: "
    _, turns, _ = parse_conversation("debugging", text)
    assert roles_texts(turns) == [("student", "a"), ("tutor", "b?"), ("student", "c")]


def test_tutorchat_with_and_without_textbook():
    plain = ' "\\nassistant: Today: cells. Ready?", \'\\nuser: Yes!\''
    assert parse_conversation("tutorchat", plain) == (
        "", [Turn(role="tutor", text="Today: cells. Ready?"), Turn(role="student", text="Yes!")], {})
    # a leading textbook passage opens the list and the closing ']' is missing; LaTeX stays
    with_book = "['Learning Objectives\\n• $\\\\nu$', \"\\nuser: Why?\""
    context, turns, _ = parse_conversation("tutorchat", with_book)
    assert context == "Learning Objectives\n• $\\nu$"
    assert roles_texts(turns) == [("student", "Why?")]


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        parse_conversation("nope", "x")


def test_restore_code_lines():
    multi_line = "ok<code>\n1. x = 2.5\n2. y = 3\n</code>"
    assert restore_code_lines(multi_line) == multi_line
    assert restore_code_lines("<code>1. a = 010.    b = 1</code>") == "<code>\n1. a = 010.    b = 1\n</code>"
    assert (restore_code_lines("<code>1. if n:2.    return 13.  x = 2.5</code>")
            == "<code>\n1. if n:\n2.    return 1\n3.  x = 2.5\n</code>")


def test_merge_turns_keeps_a_repeated_message_once():
    turns, tags, empty = merge_turns([("student", "a", []), ("tutor", "q?", ["focus"]), ("tutor", "q?", ["focus"]),
                                      ("student", "b", [])])
    assert roles_texts(turns) == [("student", "a"), ("tutor", "q?"), ("student", "b")]
    assert tags == [[], ["focus"], []] and empty == 0


def test_raw_mathdial_utterances():
    assert parse_utterances("Teacher: (generic)Hi|EOM|Mariana: I got 4|EOM|Student: ok") == [
        ("tutor", "Hi", ["generic"]), ("student", "I got 4", []), ("student", "ok", [])]
    assert format_ground_truth("3+3=6\n 6") == "3+3=6\nFinal answer: 6"
    assert format_ground_truth("It is six.") == "It is six."


def test_raw_debugging_dialogue_with_alts_and_code():
    text = ("User: Hi\n\t<alt>Hello\nAssistant: What fails?\n\t<alt>Which test?\n    <alt>Why?\n"
            "User: Fixed it\n<code>\n1. return 1\n</code>\nAssistant: Good.")
    utterances = parse_dialogue(text)
    assert [(u.role, u.text, u.alts) for u in utterances] == [
        ("student", "Hi", ["Hello"]), ("tutor", "What fails?", ["Which test?", "Why?"]),
        ("student", "Fixed it\n<code>\n1. return 1\n</code>", []), ("tutor", "Good.", [])]


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("questions", "yes", True), ("reveal_answer", "No", False), ("questions", None, None),
    ("on_topic", 4.0, 4), ("helpful", "2", 2), ("helpful", "", None)])
def test_convert_label(name, value, expected):
    assert convert_label(name, value) == expected


@pytest.mark.parametrize(("name", "value"), [("questions", "maybe"), ("on_topic", 2.5)])
def test_convert_label_rejects(name, value):
    with pytest.raises(ValueError):
        convert_label(name, value)
