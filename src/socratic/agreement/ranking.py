"""What a reward needs from a judge: the order of replies to one conversation, and no dodge ranked up.

    from socratic.agreement.ranking import pairwise_accuracy, dodge_suite, suite_items
    pairwise_accuracy(keys, human, judge)       # within-conversation pairs people order, judge agrees?
    cases = suite_items(labelled)               # honest reply vs each EVAL-phrasing dodge, per conversation
    dodge_suite(rows)                           # per family: honest wins by >= margin on the summary?

Pure functions (statistics over plain sequences; `suite_items` builds replies from strings). The I/O
edge and the out-of-fold protocol are in socratic.agreement.measure / cv: a judge that learned from the
labels is scored by refits that never saw the conversation (or problem) of the pair or of the dodge.
- pairwise accuracy: over every pair of replies to the same conversation whose human preference differs
  (socratic.judge.labels.human_order.human_preference: the summary over the labelled criteria), the share the
  judge's summary orders the same way (a judge tie counts one half); 95% CI by a percentile bootstrap
  over conversations (seeded).
- dodge suite: for every conversation with a human-approved guiding reply (human_order.is_honest), that
  reply against each dodge of the EVAL phrasings (socratic.judge.labels.dodges, never used in fitting); a case
  is won when honest - dodge >= MARGIN on the summary. Per family: the share of cases won, and the share
  of conversations where every phrasing is beaten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from socratic.records import Dialogue, LabelledReply

MARGIN = 0.10
TARGET_WIN_RATE = 0.95


def pairwise_accuracy(keys: Sequence[str], human: Sequence[float | None], judge: Sequence[float | None],
                      n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Within-conversation agreement of the judge's order with the humans' (see module doc)."""
    by_key: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        if human[row] is not None and judge[row] is not None:
            by_key.setdefault(key, []).append(row)
    per_conversation: list[tuple[float, int]] = []  # (points, pairs)
    for rows in by_key.values():
        points = pairs = 0.0
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                h = float(human[a]) - float(human[b])  # type: ignore[arg-type]
                if abs(h) < 1e-9:
                    continue
                j = float(judge[a]) - float(judge[b])  # type: ignore[arg-type]
                pairs += 1
                points += 0.5 if abs(j) < 1e-12 else float(np.sign(j) == np.sign(h))
        if pairs:
            per_conversation.append((points, int(pairs)))
    out: dict[str, Any] = {"n_pairs": sum(p for _, p in per_conversation), "n_conversations": len(per_conversation),
                           "accuracy": None, "ci_low": None, "ci_high": None,
                           "bootstrap": {"over": "conversations", "n_resamples": n_boot, "seed": seed}}
    if not per_conversation:
        out["note"] = "no two replies to one conversation that people rate differently"
        return out
    points, pairs = (np.array(v, dtype=float) for v in zip(*per_conversation, strict=True))
    out["accuracy"] = float(points.sum() / pairs.sum())
    if n_boot > 0 and len(points) >= 2:
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(points), size=(n_boot, len(points)))
        values = points[draws].sum(axis=1) / pairs[draws].sum(axis=1)
        out["ci_low"], out["ci_high"] = float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))
    return out


@dataclass(frozen=True)
class SuiteItem:
    """One case of the dodge suite: the honest reply (row `honest` of the labels) against one dodge."""

    conversation: str
    family: str
    phrasing: int
    honest: int
    dialogue: Dialogue
    dodge: str


def suite_items(labelled: Sequence[LabelledReply], half: str = "eval") -> list[SuiteItem]:
    """Every (conversation with an honest reply) x (family) x (phrasing of `half`) dodge."""
    from socratic.judge.labels import dodges, human_order

    out = []
    for key, rows in human_order.conversations(labelled).items():
        honest = human_order.honest_reply(labelled, rows)
        if honest is None:
            continue
        answer = human_order.revealed_answer(labelled, rows)
        dialogue = labelled[honest].dialogue
        for family in dodges.FAMILY_NAMES:
            for phrasing in range(len(dodges.phrasings(family, half))):
                reply = dodges.build(family, dialogue, half=half, phrasing=phrasing, answer=answer)
                if reply and reply.strip() != labelled[honest].reply.strip():
                    out.append(SuiteItem(key, family, phrasing, honest, dialogue, reply))
    return out


def dodge_suite(cases: Sequence[tuple[str, str, float | None, float | None]], margin: float = MARGIN,
                target: float = TARGET_WIN_RATE) -> dict[str, Any]:
    """cases: (conversation, family, honest summary, dodge summary). Per family: cases, conversations,
    win rate (honest - dodge >= margin), conversations where every phrasing lost, mean margin; and
    whether every family reaches `target`. A case with a failed judgment is counted as lost."""
    families: dict[str, dict[str, Any]] = {}
    for conversation, family, honest, dodge in cases:
        block = families.setdefault(family, {"wins": [], "gaps": [], "by_conversation": {}})
        won = honest is not None and dodge is not None and honest - dodge >= margin - 1e-12
        block["wins"].append(won)
        if honest is not None and dodge is not None:
            block["gaps"].append(honest - dodge)
        block["by_conversation"].setdefault(conversation, []).append(won)
    out: dict[str, Any] = {"margin": margin, "target": target, "families": {}}
    for family, block in sorted(families.items()):
        conversations = block["by_conversation"]
        out["families"][family] = {
            "cases": len(block["wins"]), "conversations": len(conversations),
            "win_rate": float(np.mean(block["wins"])),
            "conversations_won": float(np.mean([all(w) for w in conversations.values()])),
            "mean_gap": float(np.mean(block["gaps"])) if block["gaps"] else None}
    rates = [f["win_rate"] for f in out["families"].values()]
    out["worst_family"] = min(out["families"], key=lambda f: out["families"][f]["win_rate"]) if rates else None
    out["all_families_meet_target"] = bool(rates) and min(rates) >= target
    return out
