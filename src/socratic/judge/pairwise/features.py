"""Features of (conversation, reply) jointly for the pairwise judge: the learned judge's features plus
signals of the dodges a small policy learns (issue 26).

    from socratic.judge.pairwise.features import reward_features, DODGE_SIGNAL_NAMES
    X = reward_features(items)     # float32 [n, learned features + len(DODGE_SIGNAL_NAMES)]

`dodge_signals(dialogue, reply)` is pure (no model): how much of the reply is the dialogue's own text
(echo of the student, an earlier tutor question again), the student's voice, praise while the student
is wrong, questions that fit any conversation, a pile of questions, a "check it" with nothing named,
the answer inside the reply, a long statement before a question, no word of the problem, text that is
not English. They are written from the meaning of each dodge family (socratic.judge.labels.dodges), not
fitted to its phrasings; the weights come from the pairwise fit. A change here: bump REWARD_FEATURES.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from socratic import signals as sig
from socratic.records import Dialogue

REWARD_FEATURES = "reward_features_v3"  # v3: the restating signals; v2: the correctness signals (issue 36)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself)\b", re.IGNORECASE)
_STUDENT_VOICE = re.compile(
    r"\b(?:i (?:think |guess |must |might )?(?:have |'ve )?(?:made|make|got|get|messed|mixed|did|was|am|"
    r"forgot|confused|calculated|added|multiplied)|did i|do i|have i|(?:how|where|why) (?:did|do|have) i|"
    r"my (?:answer|work|mistake|steps?|solution|calculation)|let me (?:try|check|redo|re-?do|think))\b",
    re.IGNORECASE)
_POSITIVE = re.compile(r"\b(?:correct|right|well done|good job|great job|nice work|excellent|perfect|exactly|"
                       r"nailed|spot on|you got it|that's it|great thinking|brilliant|awesome|keep it up)\b",
                       re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|isn't|aren't|wasn't|almost|close|but|however|careful|mistake|wrong|"
                       r"incorrect|check)\b", re.IGNORECASE)
_CHECK = re.compile(r"\b(?:double[- ]?check|re-?check|check|verify|review|look again|another look|go over|"
                    r"one more time|are you sure)\b", re.IGNORECASE)

DODGE_SIGNAL_NAMES: tuple[str, ...] = (
    "echo_last", "echo_student", "echo_tutor", "longest_echo", "first_person", "student_voice",
    "positive", "positive_unqualified", "student_wrong", "praise_when_wrong", "generic_only", "stacked",
    "questions_per_sentence", "check_no_pointer", "answer_in_reply", "answer_in_question", "words_before_question",
    "dialogue_overlap", "nothing_shared", "non_ascii", "english_ratio", "reply_to_student_length",
)
# What the reply says about numbers, checked against the problem, the turns and the worked solution
# (socratic.judge.correctness): a number found nowhere in them, a stated computation that is false.
CORRECTNESS_SIGNAL_NAMES: tuple[str, ...] = ("invents_number", "invented_numbers", "false_computation")
# How much the reply's questions are the problem's own question handed back (experiments/restating): the
# largest share of a question's content words found in the problem's question (containment: a piece of it
# scores 1), and the largest Jaccard overlap with it. 0 for a reply that asks nothing or a problem that asks
# nothing.
RESTATING_SIGNAL_NAMES: tuple[str, ...] = ("problem_question_share", "restates_problem_question")


def _trigrams(tokens: Sequence[str]) -> set[tuple[str, ...]]:
    return set(zip(tokens, tokens[1:], tokens[2:], strict=False))


def _share(reply: set, other: set) -> float:
    return len(reply & other) / len(reply) if reply else 0.0


def _longest_common_run(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest run of words `a` and `b` share (dynamic programming, short texts)."""
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def _contains(text: str, answer: str) -> bool:
    """A number as a number ("8" is not in "18"), a code fix as text."""
    if answer.startswith("`"):
        return answer.strip("`").replace(" ", "") in text.replace(" ", "")
    return answer in sig.numbers(text, with_words=False)


def dodge_signals(dialogue: Dialogue, reply: str) -> list[float]:
    """The DODGE_SIGNAL_NAMES block, pure."""
    from socratic.judge.labels.dodges import reference_answer, student_is_wrong

    student = [t.text for t in dialogue.turns if t.role == "student"]
    tutor = [t.text for t in dialogue.turns if t.role == "tutor"]
    tokens = sig.words(reply)[:200]
    n = len(tokens) or 1
    reply_grams = _trigrams(tokens)
    last_tokens = sig.words(student[-1])[:300]
    units = sig.sentences(reply)
    asked = sig.genuine_questions(reply)
    dialogue_text = "\n".join([dialogue.context, *(t.text for t in dialogue.turns)])
    questions = sig.find_questions(reply, dialogue_text)
    kinds = [q.kind for q in questions]
    positive = bool(_POSITIVE.search(reply))
    unqualified = positive and not _NEGATION.search(reply)
    wrong = student_is_wrong(dialogue)
    answer = reference_answer(dialogue)
    student_text = "\n".join(student)
    answer_in = bool(answer) and _contains(reply, answer) and not _contains(student_text, answer)
    answer_in_question = answer_in and any(_contains(q, answer) for q in asked)
    reply_words = sig.content_words(reply)
    shared_words = reply_words & sig.content_words(dialogue_text)
    shared_numbers = set(sig.numbers(reply)) & set(sig.numbers(dialogue_text))
    before = reply[: reply.rfind("?")] if asked and "?" in reply else ""
    letters = [ch for ch in reply if ch.isalpha()]
    english = sum(t in sig._ENGLISH for t in tokens) / n
    return [
        _share(reply_grams, _trigrams(last_tokens)),
        _share(reply_grams, _trigrams(sig.words(student_text)[:2000])),
        _share(reply_grams, _trigrams(sig.words("\n".join(tutor))[:2000])),
        min(_longest_common_run(tokens[:80], last_tokens[:120]), 30) / 30,
        min(len(_FIRST_PERSON.findall(reply)), 10) / 10,
        float(bool(_STUDENT_VOICE.search(reply))),
        float(positive), float(unqualified),
        {True: 1.0, False: -1.0, None: 0.0}[wrong],
        float(unqualified and wrong is True),
        float(bool(asked) and not set(kinds) & {"specific", "probing"}),
        float(len(asked) >= 3),
        len(asked) / (len(units) or 1),
        float(bool(_CHECK.search(reply)) and not shared_numbers and len(shared_words) < 2),
        float(answer_in), float(answer_in_question),
        math.log1p(len(sig.words(before))),
        len(shared_words) / (len(reply_words) or 1),
        float(not shared_words and not shared_numbers),
        sum(not ch.isascii() for ch in letters) / (len(letters) or 1),
        english,
        math.log((len(tokens) + 1) / (len(last_tokens) + 1)),
    ]


def correctness_signals(dialogue: Dialogue, reply: str) -> list[float]:
    """The CORRECTNESS_SIGNAL_NAMES block, pure."""
    from socratic.judge.correctness import check_reply

    check = check_reply(dialogue, reply)
    return [float(check.invents), math.log1p(len(check.invented_numbers)), float(check.miscomputes)]


def restating_signals(dialogue: Dialogue, reply: str) -> list[float]:
    """The RESTATING_SIGNAL_NAMES block, pure."""
    from socratic.judge.labels.dodges import problem_question

    question = problem_question(dialogue)
    target = sig.content_words(question) if question else frozenset()
    asked = [words for q in sig.genuine_questions(reply) if (words := sig.content_words(q))]
    if not target or not asked:
        return [0.0, 0.0]
    return [max(len(words & target) / len(words) for words in asked),
            max(len(words & target) / len(words | target) for words in asked)]


def reward_features(items: Sequence[tuple[Dialogue, str]]) -> np.ndarray:
    """[n, learned features + dodge, correctness and restating signals] float32:
    `socratic.judge.learned.features.featurize`, then dodge_signals, correctness_signals, restating_signals."""
    from socratic.judge.learned.features import featurize

    base = featurize(items)
    extra = np.asarray([dodge_signals(d, r) + correctness_signals(d, r) + restating_signals(d, r) for d, r in items],
                       dtype=np.float32).reshape(len(items), -1)
    return np.hstack([base, extra]).astype(np.float32)
