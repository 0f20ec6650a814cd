"""Did tuning change what the tutor says, or only how it looks? Pure functions over reply pairs.

A model tuned on a judge's preferences can learn the judge's surface cues (add a question mark,
drop a number) instead of tutoring better. Comparing the base and the tuned reply to the same
conversation shows how often the change was form only:

    reply_change("The answer is 12.", "The answer is 12?")
    -> ReplyChange(kind="form", jaccard=1.0, edit_ratio=0.94, question_added=True)

kind: "identical" (same text), "form" (the same words give or take a few: token-set Jaccard >=
FORM_JACCARD), "content" (different words).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

FORM_JACCARD = 0.8
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

Kind = Literal["identical", "form", "content"]


class ReplyChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Kind
    jaccard: float
    edit_ratio: float
    question_added: bool
    question_removed: bool


@lru_cache(maxsize=65536)
def words(text: str) -> frozenset[str]:
    # Cached: distinctness compares every reply of a test set with every other one.
    return frozenset(_WORD.findall(text.lower()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def same_words(a: str, b: str) -> bool:
    """Near-identical replies: the same words give or take a few (token-set Jaccard >= FORM_JACCARD).
    The one definition behind a "form" change and behind a collapsed model's repeated replies."""
    return jaccard(words(a), words(b)) >= FORM_JACCARD


def reply_change(base: str, tuned: str) -> ReplyChange:
    """How the tuned reply differs from the base reply to the same conversation."""
    similarity = jaccard(words(base), words(tuned))
    ratio = difflib.SequenceMatcher(None, base.strip(), tuned.strip(), autojunk=False).ratio()
    if base.strip() == tuned.strip():
        kind: Kind = "identical"
    elif same_words(base, tuned):
        kind = "form"
    else:
        kind = "content"
    return ReplyChange(kind=kind, jaccard=round(similarity, 4), edit_ratio=round(ratio, 4),
                       question_added="?" not in base and "?" in tuned,
                       question_removed="?" in base and "?" not in tuned)


def summarize_changes(pairs: Iterable[tuple[str, str]]) -> dict:
    """Counts and shares of each kind of change over (base, tuned) reply pairs."""
    changes = [reply_change(base, tuned) for base, tuned in pairs]
    n = len(changes)
    count = {kind: sum(c.kind == kind for c in changes) for kind in ("identical", "form", "content")}
    added = sum(c.question_added for c in changes)
    added_form_only = sum(c.question_added and c.kind == "form" for c in changes)
    return {
        "n": n,
        "counts": count,
        "shares": {kind: (value / n if n else None) for kind, value in count.items()},
        "question_added": added,
        "question_added_form_only": added_form_only,
        "question_removed": sum(c.question_removed for c in changes),
        "mean_jaccard": (sum(c.jaccard for c in changes) / n) if n else None,
        "mean_edit_ratio": (sum(c.edit_ratio for c in changes) / n) if n else None,
        "form_jaccard_threshold": FORM_JACCARD,
    }
