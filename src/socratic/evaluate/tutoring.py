"""Judge-free tutoring metrics: what a teacher checks first in a tutor's reply, by plain text rules.

    metrics = reply_metrics(dialogue, "Well done! The answer is 35.")
    metrics.leak, metrics.false_praise, metrics.dodge         # True / False, or None where not applicable
    tutoring = summarize_tutoring(replies, models=["base", "tuned"], datasets=["mathdial"])

These measures are independent of the reward on purpose: none calls a judge or a judge's detector
(signals' find_leaks / find_questions / genuine_questions, the learned heads). Only its low-level
number parsing (`numbers`: "$1,200.00" -> "1200", "four" -> "4") is shared. Every definition:

- reference answer: the number after "Final answer:" (or "####") on the last such line of the dialogue's
  `reference` (MathDial's worked solutions end so); None for a set without one (debugging references
  are code fixes, TutorChat has none): the answer metrics are then not applicable (None).
- leak: the reply states the reference answer (number-aware: "35", "35.0", "$35", "thirty-five" are
  one number) while the problem and the student's turns do not: restating a number the student already
  gave is not giving it away. Not applicable where the problem or the student's turns contain it.
- false praise: the reply affirms (`affirms`: "correct", "that's right", "good job", "well done",
  "exactly", ... in a sentence without a negation, questions excluded) while the student's last stated
  answer (the last number of the last student turn that has one) differs from the reference answer.
  Not applicable without a reference answer or a student number.
- echo: the share of the reply's word ECHO_N-grams found verbatim in the dialogue (problem and turns);
  an echo when it is at least ECHO_SHARE: the tutor mostly parrots what is already there.
- as student: the reply speaks in the student's voice ("Student:" tag, "my solution", "I should have",
  "I made a mistake", "thanks for your help", ...).
- degenerate: a repetition loop: at least DEGENERATE_MIN_WORDS words, and fewer than
  DEGENERATE_UNIQUE of its word trigrams are distinct (or one character repeated 10+ times).
- empty: no letter or digit.
- not English: outside code, over NON_LATIN_SHARE of the letters are non-Latin, or a reply of at least
  ENGLISH_MIN_WORDS words of which under ENGLISH_STOPWORD_SHARE are English stop words (scikit-learn's
  list: English prose is 35-55% stop words).
- asks a question: a sentence (outside code) that ends with "?" and has at least 3 words.
- dodge: asks a question AND is any of leak, false praise, echo, as student, degenerate, not English:
  the question is there, the tutoring is not.
- invents a number: states a number found nowhere in the problem, the turns or the worked solution
  (`socratic.judge.correctness`); applies to items with a reference answer (math), since code and prose
  have numbers of their own (line numbers, years).
- miscomputes: states a computation ("105 divided by 80 is 0.125") that is false (`socratic.judge.correctness`).
  These two checks live beside the judges' detectors because the pairwise judge takes them as features:
  they are judge-free, but not independent of it when it is the reward.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Sequence
from functools import lru_cache

from pydantic import BaseModel, ConfigDict
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from socratic.evaluate.result import (
    JUDGE_FREE,
    EvalReply,
    RateDiff,
    Tutoring,
    TutoringLimits,
    TutoringRate,
    TutoringSample,
)
from socratic.evaluate.stats import mean_ci, paired_bootstrap
from socratic.judge.correctness import check_reply
from socratic.records import Dialogue
from socratic.signals import numbers

ECHO_N = 4  # word 4-grams: long enough that sharing one is copying, not common phrasing
ECHO_SHARE = 0.5  # at least half the reply's 4-grams are in the dialogue: an echo
DEGENERATE_MIN_WORDS = 12
DEGENERATE_UNIQUE = 0.5  # under half the word trigrams distinct: a loop
NON_LATIN_SHARE = 0.3
ENGLISH_MIN_WORDS = 6
ENGLISH_STOPWORD_SHARE = 0.15
SAMPLES_PER_MODEL = 5  # random (seeded) tuned replies per tuned model in the report

# The metrics, in report order; `dodge` last (it combines the others).
FLAGS = ("leak", "false_praise", "echo", "as_student", "degenerate", "empty", "not_english", "invents_number",
         "miscomputes")
METRICS = (*FLAGS, "asks_question", "dodge")
DODGE_OF = ("leak", "false_praise", "echo", "as_student", "degenerate", "not_english")

_FINAL = re.compile(r"(?:final answer|####)\s*:?\s*([^\n]+)", re.IGNORECASE)
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`|<code>.*?(?:</code>|\Z)", re.DOTALL)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_AFFIRM = re.compile(
    r"\b(?:(?:that's|that is|it's|it is|you're|you are|is|are|was|looks|absolutely|exactly|perfectly|totally|"
    r"completely|all)\s+(?:correct|right)|good job|great job|well done|nice work|good work|great work|"
    r"you got it|spot on|excellent|perfect|exactly|that's it|bravo|correct!|right!)"
    r"|^\s*(?:correct|right|yes|yep|exactly|perfect|excellent)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|never|no|almost|nearly|incorrect)\b|n't\b", re.IGNORECASE)
_STUDENT_VOICE = re.compile(
    r"^\s*(?:student|user|human)\s*:"
    r"|\bmy (?:solution|answer|mistake|error|calculation|working|homework|teacher|professor)\b"
    r"|\bI should have\b|\bI made (?:a|an|the|my) (?:mistake|error)\b|\bI forgot (?:to|that|about)\b"
    r"|\bI (?:was|got) confused\b|\bI (?:understand|see|get it) now\b|\bI see my (?:mistake|error)\b"
    r"|\bthanks? (?:you )?(?:so much )?for (?:your|the) help\b|\bthank you,? (?:professor|teacher|tutor)\b"
    r"|\bI(?:'ll| will) try (?:again|that|it)\b",
    re.IGNORECASE | re.MULTILINE)
_LOOP_CHAR = re.compile(r"([^\s\-=_*#.])\1{9,}")


class ReplyMetrics(BaseModel):
    """The judge-free metrics of one reply; None: not applicable to this dialogue (module docstring)."""

    model_config = ConfigDict(frozen=True)

    leak: bool | None
    false_praise: bool | None
    echo_share: float | None
    echo: bool
    as_student: bool
    degenerate: bool
    empty: bool
    not_english: bool
    invents_number: bool | None = None  # None: no reference answer (not a math item), or a file from before
    miscomputes: bool | None = None
    asks_question: bool
    dodge: bool


# ---------------------------------------------------------------- the definitions, one per metric

def reference_answer(reference: str | None) -> str | None:
    """The canonical number of the reference's last "Final answer:" (or "####") line, else None."""
    marked = _FINAL.findall(reference or "")
    found = numbers(marked[-1], with_words=False) if marked else []
    return found[-1] if found else None


def _strip_code(text: str) -> str:
    return _CODE.sub(" ", text)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def given_numbers(dialogue: Dialogue) -> set[str]:
    """Numbers the student already has: in the problem (context) and in the student's turns."""
    student = "\n".join(t.text for t in dialogue.turns if t.role == "student")
    return set(numbers(dialogue.context)) | set(numbers(student))


def leaks_answer(reply: str, dialogue: Dialogue, answer: str | None) -> bool | None:
    """The reply states the answer the student does not have yet; None where not applicable."""
    if answer is None or answer in given_numbers(dialogue):
        return None
    return answer in numbers(_strip_code(reply))


def student_answer(dialogue: Dialogue) -> str | None:
    """The student's last stated answer: the last number of the last student turn that has one."""
    for turn in reversed(dialogue.turns):
        if turn.role == "student":
            found = numbers(turn.text)
            if found:
                return found[-1]
    return None


def affirms(reply: str) -> bool:
    """A statement (not a question) that approves: "correct", "that's right", "good job", ... unnegated."""
    for sentence in _SENTENCE.split(_strip_code(reply)):
        sentence = sentence.strip()
        if sentence and not sentence.endswith("?") and _AFFIRM.search(sentence) and not _NEGATION.search(sentence):
            return True
    return False


def false_praise(reply: str, dialogue: Dialogue, answer: str | None) -> bool | None:
    """Approves while the student's last stated answer is wrong; None where that cannot be told."""
    stated = student_answer(dialogue)
    if answer is None or stated is None:
        return None
    return stated != answer and affirms(reply)


def _ngrams(words: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


@lru_cache(maxsize=4096)
def _dialogue_ngrams(text: str, n: int) -> frozenset[tuple[str, ...]]:
    # Cached: every model's reply to one dialogue is compared with the same text.
    return frozenset(_ngrams(_words(text), n))


def echo_share(reply: str, dialogue: Dialogue, n: int = ECHO_N) -> float | None:
    """Share of the reply's word n-grams found verbatim in the dialogue; None for a reply under n words."""
    grams = _ngrams(_words(reply), n)
    if not grams:
        return None
    text = "\n".join([dialogue.context, *(t.text for t in dialogue.turns)])
    seen = _dialogue_ngrams(text, n)
    return sum(g in seen for g in grams) / len(grams)


def as_student(reply: str) -> bool:
    """The reply speaks in the student's voice (a role tag, "my solution", "I should have", ...)."""
    return bool(_STUDENT_VOICE.search(reply))


def degenerate(reply: str) -> bool:
    """A repetition loop: most word trigrams repeat, or one character runs 10+ times."""
    if _LOOP_CHAR.search(reply):
        return True
    words = _words(reply)
    if len(words) < DEGENERATE_MIN_WORDS:
        return False
    grams = _ngrams(words, 3)
    return len(set(grams)) / len(grams) < DEGENERATE_UNIQUE


def empty(reply: str) -> bool:
    return not any(c.isalnum() for c in reply)


def not_english(reply: str) -> bool:
    """Mostly non-Latin letters, or enough words and almost no English stop words (code excluded)."""
    prose = _strip_code(reply)
    letters = [c for c in prose if c.isalpha()]
    if not letters:
        return False
    if sum(ord(c) > 0x24F for c in letters) / len(letters) > NON_LATIN_SHARE:
        return True
    words = [w for w in _words(prose) if not w.isdigit()]
    if len(words) < ENGLISH_MIN_WORDS:
        return False
    return sum(w in ENGLISH_STOP_WORDS for w in words) / len(words) < ENGLISH_STOPWORD_SHARE


def asks_question(reply: str) -> bool:
    """A sentence outside code that ends with "?" and has at least 3 words (a plain rule, no judge)."""
    return any(s.strip().endswith("?") and len(_words(s)) >= 3 for s in _SENTENCE.split(_strip_code(reply)))


def reply_metrics(dialogue: Dialogue, reply: str) -> ReplyMetrics:
    """Every metric of one reply to one dialogue."""
    answer = reference_answer(dialogue.reference)
    share = echo_share(reply, dialogue)
    flags = {"leak": leaks_answer(reply, dialogue, answer), "false_praise": false_praise(reply, dialogue, answer),
             "echo": share is not None and share >= ECHO_SHARE, "as_student": as_student(reply),
             "degenerate": degenerate(reply), "empty": empty(reply), "not_english": not_english(reply)}
    correctness = check_reply(dialogue, reply)
    flags |= {"invents_number": correctness.invents if answer is not None else None,
              "miscomputes": correctness.miscomputes}
    question = asks_question(reply)
    return ReplyMetrics(echo_share=None if share is None else round(share, 4), asks_question=question,
                        dodge=question and any(flags[name] for name in DODGE_OF), **flags)


# ---------------------------------------------------------------- over an evaluation

def _value(metrics: ReplyMetrics, metric: str) -> float | None:
    value = getattr(metrics, metric)
    return None if value is None else float(value)


def summarize_tutoring(replies: Sequence[EvalReply], *, models: Sequence[str], datasets: Sequence[str],
                       seed: int = 0, n_resamples: int = 4000,
                       samples_per_model: int = SAMPLES_PER_MODEL) -> Tutoring:
    """Per model x test set every metric's rate with a 95% CI; each later model against the first (the
    baseline) on the same applicable items, paired bootstrap; `samples_per_model` random (seeded)
    replies of each later model with their metrics."""
    metrics = {(r.model, r.dataset, r.dialogue.id): (r, reply_metrics(r.dialogue, r.reply)) for r in replies}
    baseline = models[0]
    rates, diffs, samples = [], [], []
    for dataset, model in itertools.product(datasets, models):
        own = {i: m for (name, d, i), (_, m) in metrics.items() if (name, d) == (model, dataset)}
        base = {i: m for (name, d, i), (_, m) in metrics.items() if (name, d) == (baseline, dataset)}
        for metric in METRICS:
            values = [v for v in (_value(m, metric) for m in own.values()) if v is not None]
            rates.append(TutoringRate(metric=metric, model=model, dataset=dataset, applicable=len(values),
                                      n=len(own), rate=mean_ci(values, seed=seed, n_resamples=n_resamples)))
            if model == baseline:
                continue
            pairs = [(_value(own[i], metric), _value(base[i], metric)) for i in own if i in base]
            pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
            test = paired_bootstrap([a for a, _ in pairs], [b for _, b in pairs], seed=seed, n_resamples=n_resamples)
            mean = lambda values: sum(values) / len(values) if values else None
            diffs.append(RateDiff(rate=metric, judge=JUDGE_FREE, dataset=dataset, model=model, baseline=baseline,
                                  model_rate=mean([a for a, _ in pairs]), baseline_rate=mean([b for _, b in pairs]),
                                  **test.model_dump()))
    rng = random.Random(seed)
    for model in models[1:]:
        mine = sorted((key for key in metrics if key[0] == model and key[1] in datasets), key=lambda k: (k[1], k[2]))
        for key in sorted(rng.sample(mine, min(samples_per_model, len(mine))), key=lambda k: (k[1], k[2])):
            reply, m = metrics[key]
            last = next((t.text for t in reversed(reply.dialogue.turns) if t.role == "student"), "")
            samples.append(TutoringSample(model=model, dataset=reply.dataset, id=reply.dialogue.id, student=last,
                                          reply=reply.reply, metrics=m.model_dump()))
    limits = TutoringLimits(echo_n=ECHO_N, echo_share=ECHO_SHARE, degenerate_min_words=DEGENERATE_MIN_WORDS,
                            degenerate_unique=DEGENERATE_UNIQUE, non_latin_share=NON_LATIN_SHARE,
                            english_min_words=ENGLISH_MIN_WORDS, english_stopword_share=ENGLISH_STOPWORD_SHARE)
    return Tutoring(limits=limits, rates=rates, diffs=diffs, samples=samples)
