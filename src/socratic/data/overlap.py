"""Exact duplicates within a split and train/test overlap, by content (context + turns), and the
problem a dialogue is about (`problem_of`), for overlap at the level of problems.

Ids differ between copies, so the content key ignores id, split and meta.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from socratic.records import Dialogue


def content_key(dialogue: Dialogue) -> str:
    payload = [dialogue.context, [[turn.role, turn.text] for turn in dialogue.turns]]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def normalise(text: str) -> str:
    """Lower case, letters and digits only, single spaces: what two copies of a text share."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def problem_of(dialogue: Dialogue) -> str:
    """The problem a dialogue is about, normalised (case, punctuation, spacing) so sources compare.

    MathDial (both adapters): the problem text (meta["problem"]); Socratic Debugging (both): the
    exercise's statement, without the student's code (one exercise has several bugs and dialogues);
    otherwise the context (TutorChat's textbook passage), else the first student turn."""
    if dialogue.meta.get("problem"):
        return normalise(dialogue.meta["problem"])
    if dialogue.context:
        return normalise(dialogue.context.partition("\n\nThe student's code:")[0])
    return normalise(dialogue.turns[0].text)


@dataclass(frozen=True)
class Dropped:
    id: str
    reason: str  # "duplicate of <id>" or "also in test as <id>"


def duplicates(dialogues: list[Dialogue]) -> list[Dropped]:
    """Every later copy of an earlier dialogue in the same list."""
    first: dict[str, str] = {}
    out = []
    for dialogue in dialogues:
        key = content_key(dialogue)
        if key in first:
            out.append(Dropped(dialogue.id, f"duplicate of {first[key]}"))
        else:
            first[key] = dialogue.id
    return out


def overlap(train: list[Dialogue], test: list[Dialogue]) -> list[Dropped]:
    """Train dialogues whose content also appears in test (every copy counts)."""
    in_test = {}
    for dialogue in test:
        in_test.setdefault(content_key(dialogue), dialogue.id)
    return [Dropped(d.id, f"also in test as {in_test[content_key(d)]}") for d in train
            if content_key(d) in in_test]


def overlap_count(train: list[Dialogue], test: list[Dialogue]) -> int:
    """Distinct train contents also in test (the reference's debugging set: 30)."""
    in_test = {content_key(d) for d in test}
    return len({content_key(d) for d in train} & in_test)


def dedupe(dialogues: list[Dialogue], test: list[Dialogue] | None = None) -> tuple[list[Dialogue], list[Dropped]]:
    """Drop in-split duplicates and, when `test` is given, items also in test; say what went."""
    dropped = overlap(dialogues, test) if test is not None else []
    gone = {d.id for d in dropped}
    dropped += [d for d in duplicates([x for x in dialogues if x.id not in gone])]
    gone = {d.id for d in dropped}
    return [d for d in dialogues if d.id not in gone], dropped
