"""Features of a (dialogue, reply) for the learned judge: text signals, MiniLM similarities, the embedding.

    from socratic.judge.learned.features import featurize, SIGNAL_NAMES
    X = featurize(items)              # float32 [n, len(SIGNAL_NAMES) + 384]; a row depends on its item only

Two blocks, both deterministic:
- `signals(dialogue, reply)` (pure, no model): the rubric's text signals (questions by kind, answer
  leaks against the reference, verdicts, hints, quality flags), counts and lengths;
- the frozen all-MiniLM-L6-v2 embedding of the reply plus cosine similarities of the reply to the last
  student turn, the problem, the reference solution and the previous tutor turn (the same embedded
  model and batching as the rubric: `socratic.judge.rubric.embedding.embed`).
A change here changes what a saved learned judge means: bump FEATURES_VERSION.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from socratic import signals as sig
from socratic.records import Dialogue

FEATURES_VERSION = "features_v4"  # v4: both v3s of issues 26 and 30 together (each was v3 on its own branch)
# v3 (issue 30): MiniLM in float32, one text per call (independent of batching)
# v3 (issue 26): leak signals see results hidden inside questions (rubric_v5)
# v2: a request for material ("Can you provide the code?") counts as generic
EMBEDDING_DIM = 384
_PRAISE = re.compile(r"^\W*(?:great|good|nice|excellent|well done|that's (?:right|correct)|correct|exactly|"
                     r"perfect|awesome|you're (?:right|correct))\b", re.IGNORECASE)
_SECOND_PERSON = re.compile(r"\byou(?:r|'re|'ve)?\b", re.IGNORECASE)
_IMPERATIVE = re.compile(r"^\W*(?:let's|try|think|look|check|consider|remember|notice|calculate|find|start|"
                         r"multiply|divide|add|subtract|re-?read|go back)\b", re.IGNORECASE | re.MULTILINE)
_LEAK_KINDS = ("final answer", "intermediate result", "states an answer", "new result", "verdict", "bare answer",
               "the fix")
_FLAGS = ("gibberish", "non-English", "repetition", "role-play", "lecture", "empty")

SIGNAL_NAMES: tuple[str, ...] = (
    "qmark_count", "has_qmark", "genuine_questions", "q_specific", "q_probing", "q_generic", "ends_with_question",
    *(f"leak_{k.replace(' ', '_')}" for k in _LEAK_KINDS), "leak_any",
    "hint", "verdict_only", "praise_opening", "imperative", "second_person",
    *(f"flag_{f}" for f in _FLAGS),
    "log_words", "sentences", "numbers", "new_numbers", "overlap_last", "overlap_problem", "has_reference",
    "cos_last", "cos_problem", "cos_reference", "cos_prev_tutor",
)
# The signals that say whether (and how) the reply asks the student something, chosen by meaning: the
# only columns a `questions` head restricted to them sees (FitConfig.questions_head). Each one counts
# questions, so more of it should never make "the reply contains questions" less likely.
QUESTION_SIGNALS: tuple[str, ...] = ("qmark_count", "has_qmark", "genuine_questions", "q_specific", "q_probing",
                                     "q_generic", "ends_with_question")


def _texts(dialogue: Dialogue) -> dict[str, str]:
    from socratic.judge.rubric.judge import dialogue_texts

    texts = dict(dialogue_texts(dialogue))
    tutor = [t.text for t in dialogue.turns if t.role == "tutor"]
    texts["prev_tutor"] = tutor[-1] if tutor else ""
    return texts


def signals(dialogue: Dialogue, reply: str) -> list[float]:
    """The text-signal block (everything in SIGNAL_NAMES before the cosines), pure."""
    texts = _texts(dialogue)
    questions = sig.find_questions(reply, texts["all"])
    kinds = [q.kind for q in questions]
    leaks = sig.find_leaks(reply, reference=dialogue.reference, given_text=texts["all"],
                           student_text=texts["student"], student_final=texts["final"] or None)
    flags = set(sig.quality_flags(reply))
    tokens = sig.words(reply)
    found = sig.numbers(reply)
    given = set(sig.numbers(texts["all"]))
    reply_words = sig.content_words(reply)
    genuine = sig.genuine_questions(reply)
    return [
        min(reply.count("?"), 5), float("?" in reply), min(len(genuine), 5), kinds.count("specific"),
        kinds.count("probing"), kinds.count("generic"), float(reply.rstrip(" \"')*").endswith("?")),
        *(float(any(k in leak for leak in leaks)) for k in _LEAK_KINDS), float(bool(leaks)),
        float(sig.is_hint(reply)), float(sig.is_verdict_only(reply)), float(bool(_PRAISE.search(reply))),
        float(bool(_IMPERATIVE.search(reply))), float(bool(_SECOND_PERSON.search(reply))),
        *(float(f in flags) for f in _FLAGS),
        math.log1p(len(tokens)), min(len(sig.sentences(reply)), 20), min(len(found), 10),
        min(sum(n not in given for n in found), 10),
        len(reply_words & sig.content_words(texts["last"])) / (len(reply_words) or 1),
        len(reply_words & sig.content_words(texts["problem"])) / (len(reply_words) or 1),
        float(bool(dialogue.reference)),
    ]


def featurize(items: Sequence[tuple[Dialogue, str]]) -> np.ndarray:
    """[n, len(SIGNAL_NAMES) + EMBEDDING_DIM] float32: signals, cosines, then the reply's unit embedding."""
    from socratic.judge.rubric.embedding import CONTEXT_TOKENS, embed

    if not items:
        return np.zeros((0, len(SIGNAL_NAMES) + EMBEDDING_DIM), dtype=np.float32)
    texts = [_texts(d) for d, _ in items]
    replies = embed([r for _, r in items])
    contexts = embed([t[k] for t in texts for k in ("last", "problem", "prev_tutor")]
                     + [d.reference or "" for d, _ in items], CONTEXT_TOKENS)

    def vector(text: str, table: dict[str, np.ndarray]) -> np.ndarray:
        return table[text.strip() or "(empty)"]

    rows = []
    for (dialogue, reply), t in zip(items, texts, strict=True):
        r = vector(reply, replies)
        cosines = [float(r @ vector(t["last"], contexts)), float(r @ vector(t["problem"], contexts)),
                   float(r @ vector(dialogue.reference, contexts)) if dialogue.reference else 0.0,
                   float(r @ vector(t["prev_tutor"], contexts)) if t["prev_tutor"] else 0.0]
        rows.append(np.concatenate([np.asarray(signals(dialogue, reply) + cosines, dtype=np.float32), r]))
    return np.stack(rows).astype(np.float32)
