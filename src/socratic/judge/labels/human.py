"""The human-labelled replies the fitted judges (`learned`, `pairwise`) learn from, and the identities that
keep their measurement honest: which labelled replies are the same one (`item_key`), and which must fall
in the same cross-validation fold (`group_key`).

    items = training_items()                  # the shipped labels, deduplicated (+ Labelled-reply JSONL)
    groups = [group_key(i) for i in items]    # socratic.agreement.cv and socratic.evaluate.clean use these

Training data: the socratic_llm human-eval dev file, MRBench V2 and BEA 2025 dev (deduplicated, mapping
in `socratic.data.mrbench`), plus any Labelled-reply JSONL given. A criterion a source does not label is
NaN in `targets` (masked: rows without the label do not enter that criterion's head).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from socratic.records import LabelledReply
from socratic.scores import CRITERIA


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def group_key(item: LabelledReply) -> str:
    """The cross-validation group: the problem (MathDial problems recur across sources), else the
    conversation. Every reply to one problem falls in the same fold."""
    problem = normalise(item.dialogue.context)[:200]
    if len(problem) >= 20:
        return "problem:" + hashlib.sha1(problem.encode()).hexdigest()[:16]
    return str(item.dialogue.meta.get("group") or item.dialogue.id)


def item_key(item: LabelledReply) -> str:
    """Identity of a labelled reply across files: the reply and the student turn it answers."""
    text = normalise(item.reply) + "\x00" + normalise(item.dialogue.turns[-1].text)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def source_of(item: LabelledReply) -> str:
    return "mrbench" if item.dialogue.source == "mrbench" else "socratic_llm"


def shipped_label_files() -> list[Path]:
    """The human-labelled files the judges learn from, found through socratic.data.location."""
    from socratic.data.location import data_file

    return [data_file("socratic_llm", "mathdial_human_eval_dev.json"),
            data_file("mrbench", "MRBench_V2_dev.json"), data_file("mrbench", "bea2025_dev.json")]


def training_items(extra: Sequence[Path] = ()) -> list[LabelledReply]:
    """The shipped labels (deduplicated) plus the user's Labelled-reply JSONL files."""
    from socratic.data import load_labelled
    from socratic.data.mrbench import load_mrbench_files

    dev, v2, bea = shipped_label_files()
    items = load_labelled(dev) + load_mrbench_files([v2, bea])
    for path in extra:
        items += load_labelled(path)
    seen, out = set(), []
    for item in items:
        key = item_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def targets(items: Sequence[LabelledReply]) -> dict[str, np.ndarray]:
    """Per criterion, the label as float with NaN where the source does not label it (masked)."""
    out = {}
    for criterion in CRITERIA:
        values = [getattr(item.labels, criterion) for item in items]
        out[criterion] = np.array([np.nan if v is None else float(v) for v in values])
    return out
