"""A user's own JSONL file of Dialogues (one per line, the shape in docs/design.md), validated.

Any problem names file:line:field (via `socratic.store.jsonl.read_jsonl`). The file is taken whole:
the `split` asked for does not filter it (each record carries its own `split`).
"""

from __future__ import annotations

from pathlib import Path

from socratic.data.location import Loaded
from socratic.errors import InputError
from socratic.records import Dialogue
from socratic.store.jsonl import read_jsonl


def looks_like_path(source: str) -> bool:
    return source.endswith((".jsonl", ".json")) or "/" in source or Path(source).exists()


def load(path: str | Path) -> Loaded:
    dialogues = read_jsonl(path, Dialogue)
    if not dialogues:
        raise InputError("no dialogues in file", path=str(path))
    seen: dict[str, int] = {}
    for number, dialogue in enumerate(dialogues, start=1):
        if dialogue.id in seen:
            raise InputError(f"duplicate id {dialogue.id!r} (first on record {seen[dialogue.id]})",
                             path=str(path), line=number, field="id")
        seen[dialogue.id] = number
    return Loaded(dialogues)
