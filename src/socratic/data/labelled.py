"""Labelled replies (input of judge validation): our JSONL, or the reference's human-eval JSON.

`load_labelled(path)` reads either
- Labelled-reply JSONL (`{"dialogue": {...}, "reply": "...", "labels": {...}}` per line), or
- the reference's `mathdial_human_eval_dev.json`: a JSON list of `{prompt, output, evaluation}`
  where `prompt` is a socratic_llm MathDial conversation string. The prompt is matched to the
  MathDial test item it came from (same id and reference as `load_dialogues("mathdial", "test")`),
  else parsed on its own (id `<file stem>-0007`). Labels "yes"/"no" -> bool, 4.0 -> 4; a null or
  missing label stays None.
- an MRBench / BEA 2025 JSON file (`socratic.data.mrbench`, with its mapping to the four criteria).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from socratic.data import socratic_llm
from socratic.data.mathdial import references_by_problem
from socratic.data.turns import why
from socratic.errors import InputError, SocraticError
from socratic.records import Dialogue, LabelledReply, Labels
from socratic.store.jsonl import decode_utf8, describe_validation_error, read_jsonl

BOOLEAN = {"yes": True, "true": True, "no": False, "false": False}


def convert_label(name: str, value: Any) -> bool | int | None:
    """A human label as Labels wants it; ValueError for anything unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if name in ("questions", "reveal_answer"):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in BOOLEAN:
            return BOOLEAN[value.strip().lower()]
        raise ValueError(f"expected yes/no, got {value!r}")
    number = float(value)
    if number != int(number):
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(number)


def _known_prompts() -> dict[str, Dialogue]:
    """Reference prompt string -> the MathDial test Dialogue made from it (same id and reference)."""
    try:
        by_id = {dialogue.id: dialogue for dialogue in socratic_llm.load("mathdial", "test").dialogues}
        texts = socratic_llm.read_items("mathdial", "test")
    except SocraticError:  # no shared data here: each prompt is parsed on its own
        return {}
    ids = [f"mathdial-test-{index:04d}" for index in range(len(texts))]
    return {text: by_id[id_] for text, id_ in zip(texts, ids, strict=True) if id_ in by_id}


def _references_or_none() -> dict[str, str] | None:
    try:
        return references_by_problem()
    except SocraticError:
        return None


def _reference_items(path: Path, items: list[Any]) -> list[LabelledReply]:
    known = _known_prompts()
    out = []
    for index, item in enumerate(items):
        where = {"path": str(path), "line": None}
        if not isinstance(item, dict):
            raise InputError(f"item {index} is not an object", **where)
        for key in ("prompt", "output"):
            if not isinstance(item.get(key), str):
                raise InputError(f"item {index}: missing or not a string", field=key, **where)
        dialogue = known.get(item["prompt"])
        if dialogue is None:
            try:
                dialogue = socratic_llm.build("mathdial", "test", index, item["prompt"], _references_or_none())
            except (ValueError, ValidationError) as error:
                raise InputError(f"item {index}: {why(error)}", field="prompt", **where) from None
            dialogue = dialogue.model_copy(update={"id": f"{path.stem}-{index:04d}"})
        evaluation = item.get("evaluation") or {}
        labels = {}
        for name in Labels.model_fields:
            try:
                labels[name] = convert_label(name, evaluation.get(name))
            except (TypeError, ValueError) as error:
                raise InputError(f"item {index}: {error}", field=f"evaluation.{name}", **where) from None
        try:
            out.append(LabelledReply(dialogue=dialogue, reply=item["output"].strip(), labels=Labels(**labels)))
        except ValidationError as error:
            field, message = describe_validation_error(error)
            raise InputError(f"item {index}: {message}", field=field, **where) from None
    return out


def load_labelled(path: str | Path) -> list[LabelledReply]:
    """Labelled replies from our JSONL or from the reference's human-eval JSON list."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=str(path))
    text = decode_utf8(path.read_bytes(), path)
    if text.lstrip()[:1] == "[":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"invalid JSON ({error.msg})", path=str(path), line=error.lineno) from None
        from socratic.data import mrbench

        if mrbench.is_mrbench(items):
            return mrbench.convert(items, path)
        return _reference_items(path, items)
    return read_jsonl(path, LabelledReply)
