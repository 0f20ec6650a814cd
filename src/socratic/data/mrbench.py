"""MRBench / BEA 2025 human-labelled tutor replies as Labelled replies (judge training and validation).

    from socratic.data.mrbench import load_mrbench, is_mrbench
    items = load_mrbench(data_file("mrbench", "MRBench_V2_dev.json"))

Files (see data/mrbench/SOURCE.md; CC BY-SA 4.0): `MRBench_V2_dev.json` (replies under
`anno_llm_responses`, 8 labels) and `bea2025_dev.json` (replies under `tutor_responses`, 4 labels).
Mapping of their 3-level labels ("Yes" / "To some extent" / "No") to the four Socratic criteria:

| criterion     | MRBench label             | value                                                  |
|---------------|---------------------------|--------------------------------------------------------|
| reveal_answer | Revealing_of_the_Answer   | either "Yes (...)" form -> True, "No" -> False         |
| helpful       | Providing_Guidance        | Yes -> 5, To some extent -> 3, No -> 1                 |
| on_topic      | Coherence                 | Yes -> 5, To some extent -> 3, No -> 1                 |
| questions     | (none)                    | masked (None): MRBench has no "asks a question" label  |

A criterion a file does not label stays None (masked, never guessed). The raw labels are kept in
`dialogue.meta["mrbench"]` (Providing_Guidance's three levels are what the BEA shared task scores), and
`dialogue.meta["group"]` is the conversation id: every reply to one conversation falls in the same
cross-validation fold (BEA's "<id>_1", "<id>_2" are MRBench's "<id>": one group). The two files
overlap; `load_mrbench_files` deduplicates by (conversation, last student turn, reply text), keeping
the V2 labels (a superset) where both exist. One conversation that does not end on a student turn is
skipped with a logged warning (8 replies in each file).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from socratic.errors import InputError
from socratic.records import Dialogue, LabelledReply, Labels, Turn

log = logging.getLogger("socratic.data")
LEVEL = {"yes": 5, "to some extent": 3, "no": 1}
REPLY_KEYS = ("anno_llm_responses", "tutor_responses")
_SPEAKER = re.compile(r"(?:^|\n)[\s\u00a0]*(Tutor|Student)\s*:", re.IGNORECASE)
_QUESTION = re.compile(r"The question is:\s*(.+?)(?:\n|$)", re.DOTALL)


def is_mrbench(items: Any) -> bool:
    """True for a parsed JSON list in the MRBench / BEA layout."""
    return (isinstance(items, list) and bool(items) and isinstance(items[0], dict)
            and "conversation_id" in items[0] and any(k in items[0] for k in REPLY_KEYS))


def parse_history(history: str) -> tuple[str, list[Turn]]:
    """("the problem", turns) from "Tutor: ... Student: ..." text; the problem is the quoted question."""
    text = history.replace("\u00a0", " ")
    marks = list(_SPEAKER.finditer(text))
    turns = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        body = text[mark.end(): following.start() if following else len(text)].strip()
        if body:
            turns.append(Turn(role="tutor" if mark.group(1).lower() == "tutor" else "student", text=body))
    problem = _QUESTION.search(text)
    return (problem.group(1).strip() if problem else ""), turns


def _level(name: str, value: Any, where: dict[str, Any]) -> int | None:
    if value is None:
        return None
    key = str(value).strip().lower()
    if key not in LEVEL:
        raise InputError(f"unknown label value {value!r}", field=name, **where)
    return LEVEL[key]


def _reveal(value: Any, where: dict[str, Any]) -> bool | None:
    if value is None:
        return None
    key = str(value).strip().lower()
    if key.startswith("yes"):
        return True
    if key == "no":
        return False
    raise InputError(f"unknown label value {value!r}", field="Revealing_of_the_Answer", **where)


def convert(items: list[Any], path: Path, *, references: dict[str, str] | None = None) -> list[LabelledReply]:
    """Labelled replies from a parsed MRBench / BEA list (one per reply that ends a valid dialogue)."""
    out = []
    for index, item in enumerate(items):
        where: dict[str, Any] = {"path": str(path), "line": None}
        if not isinstance(item, dict) or not isinstance(item.get("conversation_id"), str | int):
            raise InputError(f"item {index}: not an object with a conversation_id", **where)
        # BEA splits an MRBench conversation into "<id>_1", "<id>_2" (same history, other replies): one group.
        conversation = re.sub(r"_\d+$", "", str(item["conversation_id"]))
        history = item.get("conversation_history")
        if not isinstance(history, str):
            raise InputError(f"item {index}: missing or not a string", field="conversation_history", **where)
        replies = next((item[k] for k in REPLY_KEYS if isinstance(item.get(k), dict)), None)
        if replies is None:
            raise InputError(f"item {index}: no replies", field=" or ".join(REPLY_KEYS), **where)
        problem, turns = parse_history(history)
        if not turns or turns[-1].role != "student":
            # Not a situation our judges score (they judge the reply to a student turn): counted, logged.
            log.warning("%s item %d (%s): skipped, the conversation does not end on a student turn",
                        path, index, conversation)
            continue
        reference = item.get("Ground_Truth_Solution") or (references or {}).get(conversation)
        for system, reply in sorted(replies.items()):
            if not isinstance(reply, dict) or not isinstance(reply.get("response"), str):
                raise InputError(f"item {index}: reply {system!r} has no response text", field="response", **where)
            annotation = reply.get("annotation") or {}
            where_label = {**where, "path": f"{path} (item {index}, {system})"}
            labels = Labels(helpful=_level("Providing_Guidance", annotation.get("Providing_Guidance"), where_label),
                            on_topic=_level("Coherence", annotation.get("Coherence"), where_label),
                            reveal_answer=_reveal(annotation.get("Revealing_of_the_Answer"), where_label))
            try:
                dialogue = Dialogue(id=f"mrbench-{conversation}-{system}", source="mrbench",
                                    split=str(item.get("Split") or "dev"), context=problem, turns=tuple(turns),
                                    reference=reference or None,
                                    meta={"group": f"mrbench:{conversation}", "system": system,
                                          "data": item.get("Data"), "mrbench": dict(annotation)})
                out.append(LabelledReply(dialogue=dialogue, reply=reply["response"].strip(), labels=labels))
            except ValidationError as error:
                raise InputError(f"item {index}: {error.errors()[0]['msg']}", **where) from None
    return out


def read(path: Path) -> list[Any]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON ({error.msg})", path=str(path), line=error.lineno) from None
    if not is_mrbench(items):
        raise InputError("not an MRBench/BEA file (a JSON list of conversations with replies)", path=str(path))
    return items


def load_mrbench(path: str | Path) -> list[LabelledReply]:
    path = Path(path)
    return convert(read(path), path)


def load_mrbench_files(paths: Iterable[str | Path]) -> list[LabelledReply]:
    """Several MRBench/BEA files as one deduplicated list: one item per (conversation, reply text).

    Files earlier in `paths` win on a duplicate (pass the V2 file first: it has more labels); references
    of the V2 file are lent to the same conversations in later files.
    """
    seen: dict[tuple[str, str], int] = {}
    out: list[LabelledReply] = []
    references: dict[str, str] = {}
    for path in map(Path, paths):
        items = read(path)
        for item in items:
            if item.get("Ground_Truth_Solution"):
                references.setdefault(str(item["conversation_id"]), item["Ground_Truth_Solution"])
        for labelled in convert(items, path, references=references):
            key = (labelled.dialogue.meta["group"], " ".join(labelled.dialogue.turns[-1].text.split()),
                   " ".join(labelled.reply.split()))
            if key in seen:
                continue
            seen[key] = len(out)
            out.append(labelled)
    return out
