"""Exact parsing and validation cases of the LLM judge's answers (socratic.judge.llm.parse)."""

from __future__ import annotations

import pytest

from socratic.judge.llm.parse import JudgmentParseError, parse_judgment
from socratic.scores import Scores

GOOD = Scores(questions=True, on_topic=4, helpful=3, reveal_answer=False)


@pytest.mark.parametrize("text", [
    '{"questions": true, "on_topic": 4, "helpful": 3, "reveal_answer": false}',
    '```json\n{"questions": true, "on_topic": 4, "helpful": 3, "reveal_answer": false}\n```',
    '```\n{"questions": "yes", "on_topic": "4", "helpful": 3.0, "reveal_answer": "no"}\n```',
    'Here is my evaluation:\n{"questions": "Yes", "on_topic": 4.0, "helpful": "3.0", "reveal_answer": "No"}\nHope it helps.',
    '{"Questions": true, "On-topic": "4/5", "helpful": 3, "reveal answer": false, "explanation": "fine"}',
    "{'questions': True, 'on_topic': 4, 'helpful': 3, 'reveal_answer': False}",
    "questions: yes\non_topic: 4\nhelpful: 3\nreveal_answer: no",
    'The reply {is fine}. {"questions": 1, "on_topic": 4, "helpful": 3, "reveal_answer": 0}',
])
def test_lenient_forms_parse_to_the_same_scores(text):
    assert parse_judgment(text) == GOOD


@pytest.mark.parametrize(("text", "message"), [
    ('{"questions": true, "on_topic": 7, "helpful": 3, "reveal_answer": false}',
     "on_topic: 7 is out of range; expected a whole number from 1 to 5"),
    ('{"questions": true, "on_topic": 0, "helpful": 3, "reveal_answer": false}', "on_topic: 0 is out of range"),
    ('{"questions": true, "on_topic": 3.5, "helpful": 3, "reveal_answer": false}',
     "on_topic: expected a whole number from 1 to 5, got 3.5"),
    ('{"questions": true, "on_topic": 4, "reveal_answer": false}', "helpful: missing"),
    ('{"questions": "maybe", "on_topic": 4, "helpful": 3, "reveal_answer": false}',
     "questions: expected true or false, got 'maybe'"),
    ('{"questions": true, "on_topic": true, "helpful": 3, "reveal_answer": false}', "on_topic: expected a whole"),
    ("I think the reply is quite good.", "no JSON object found"),
    ("", "empty answer"),
])
def test_invalid_answers_raise_with_a_precise_message(text, message):
    with pytest.raises(JudgmentParseError) as info:
        parse_judgment(text)
    assert message in str(info.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(JudgmentParseError) as info:
        parse_judgment('{"questions": "perhaps", "on_topic": 9}')
    assert str(info.value) == ("questions: expected true or false, got 'perhaps'; on_topic: 9 is out of range; "
                               "expected a whole number from 1 to 5; helpful: missing; reveal_answer: missing")
