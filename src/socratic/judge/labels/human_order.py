"""Orders of replies to one conversation: what a reward must get right (DPO only uses that order).

    from socratic.judge.labels.human_order import conversations, human_preference, preference_pairs, honest_reply
    by_conversation = conversations(labelled)              # {key: [row, ...]} replies to the same dialogue
    pairs = preference_pairs(labelled)                     # [(better row, worse row), ...] by the humans
    row = honest_reply(labelled, rows)                     # the human-approved guiding reply, or None

Pure functions over Labelled replies, shared by the pairwise judge's training (socratic.judge.pairwise)
and agreement's within-conversation pairwise accuracy and dodge suite (socratic.agreement.ranking).
`human_preference` is the summary formula over the criteria a file labels (MRBench has no `questions`
label): the mean of q, 1 - r, (on_topic - 1)/4, (helpful - 1)/4 over those present.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from socratic.records import Dialogue, LabelledReply, Labels


def dialogue_key(dialogue: Dialogue) -> str:
    """Identity of a conversation: its problem and turns (replies to it differ, the dialogue does not)."""
    text = dialogue.context + "\x00" + "\x00".join(f"{t.role}:{t.text}" for t in dialogue.turns)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def conversations(labelled: Sequence[LabelledReply]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for row, item in enumerate(labelled):
        out.setdefault(dialogue_key(item.dialogue), []).append(row)
    return out


def human_preference(labels: Labels) -> float | None:
    """The uniform summary over the labelled criteria (None when none is labelled)."""
    terms = []
    if labels.questions is not None:
        terms.append(float(labels.questions))
    if labels.reveal_answer is not None:
        terms.append(1.0 - float(labels.reveal_answer))
    for level in (labels.on_topic, labels.helpful):
        if level is not None:
            terms.append((level - 1) / 4)
    return sum(terms) / len(terms) if terms else None


def preference_pairs(labelled: Sequence[LabelledReply], min_gap: float = 1e-9) -> list[tuple[int, int]]:
    """(better, worse) rows of replies to the same conversation whose human preference differs."""
    values = [human_preference(item.labels) for item in labelled]
    pairs = []
    for rows in conversations(labelled).values():
        for a_index, a in enumerate(rows):
            for b in rows[a_index + 1:]:
                va, vb = values[a], values[b]
                if va is None or vb is None or abs(va - vb) <= min_gap:
                    continue
                pairs.append((a, b) if va > vb else (b, a))
    return pairs


def is_honest(labels: Labels) -> bool:
    """A reply people approved as guiding: helpful 5 (MRBench "Yes"), not revealing, on topic when labelled
    (and asking a question where that is labelled): what every dodge must lose to."""
    return (labels.helpful == 5 and labels.reveal_answer is False and labels.on_topic in (None, 4, 5)
            and labels.questions is not False)


def honest_reply(labelled: Sequence[LabelledReply], rows: Sequence[int]) -> int | None:
    """The first honest reply among `rows` (replies to one conversation), or None."""
    return next((row for row in rows if is_honest(labelled[row].labels)), None)


def revealed_answer(labelled: Sequence[LabelledReply], rows: Sequence[int]) -> str | None:
    """The answer of a conversation without a reference: the last new number of a reply people labelled
    "Yes (and the answer is correct)" for Revealing_of_the_Answer (MRBench); None when there is none."""
    from socratic import signals as sig

    for row in rows:
        item = labelled[row]
        raw = str((item.dialogue.meta.get("mrbench") or {}).get("Revealing_of_the_Answer", ""))
        if "answer is correct" not in raw.lower():
            continue
        given = set(sig.numbers("\n".join([item.dialogue.context, *(t.text for t in item.dialogue.turns)])))
        new = [n for n in sig.numbers(item.reply, with_words=False) if n not in given]
        if new:
            return new[-1]
    return None
