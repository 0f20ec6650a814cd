"""The reference's prompt sets (datasets/socratic_llm/{mathdial,debugging,tutorchat}_{train,test}.json).

Each item is one flattened conversation string; `parse_conversation(kind, text)` turns it into
(context, turns, meta) and is pure. `load(kind, split)` reads a file and builds Dialogues
(ids `mathdial-test-0007` = index in the file).

What the tutor sees, per source:
- mathdial: the string opens with the student's message "Professor, I have a problem, here is the
  text: <problem> Here is my solution <solution>". That message stays the first student turn,
  verbatim (it is what the reference's tutor saw); the problem statement is also put in `context`,
  so the tutor still has it when older turns are cut for length. The student's solution is not
  repeated in `context`: it is the student's claim, not material the tutor should treat as given;
  it is kept in meta["student_solution"]. Move tags `(focus)` etc. leave the teacher's text and go
  to meta["moves"] (one list of tags per turn; [] for student turns). Student turns prefixed with a
  first name ("Mariana: ...") lose the prefix (meta["student_name"]). Consecutive turns of one role
  are merged (chat templates expect alternating roles). `reference` is filled by the loader by
  joining on the problem text (whitespace collapsed) with raw MathDial's ground truth and, for the
  problems raw MathDial's shipped split lacks, GSM8K's worked solution (`socratic.data.gsm8k`): every
  shipped item has one; a problem that matches neither is logged and counted.
- debugging: <problem>, <bug_code>, <unit_tests> -> context; <bug_desc> + <bug_fixes> -> reference
  (returned as meta["reference"]: the answer the tutor must not hand over; the reference put it in
  the tutor prompt); `User:`/`Assistant:` turns; the trailing empty `Assistant: ` is dropped.
- tutorchat: a `str(list)` of "\\nassistant: ..." / "\\nuser: ..." turns; a leading textbook
  passage becomes `context`. Backslash sequences left after unquoting are LaTeX (`\\nu`), kept.

Run: `socratic data show mathdial --split test --limit 2`.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from typing import Any

from pydantic import ValidationError

from socratic.data.gsm8k import problem_key
from socratic.data.location import Loaded, Skipped, data_file
from socratic.data.mathdial import references_by_problem
from socratic.data.turns import (
    OPENING,
    SOLUTION_MARK,
    debugging_context,
    debugging_reference,
    merge_turns,
    why,
)
from socratic.errors import InputError, SocraticError
from socratic.records import Dialogue, Turn

log = logging.getLogger("socratic.data")
KINDS = ("mathdial", "debugging", "tutorchat")
SPLITS = ("train", "test")
_MOVE_TAG = re.compile(r"^\s*\((generic|focus|probing|telling)\)\s*")
_SPEAKER = re.compile(r"^\s*([A-Z][\w'.-]{0,30}):\s?")
_SECTION = re.compile(r"<(problem|bug_code|bug_desc|bug_fixes|unit_tests|stu_desc)>\s*(.*?)\s*</\1>", re.DOTALL)
# A debugging turn starts at "User:"/"Assistant:" after whitespace (newline, tab, or the spaces
# left where the reference dropped `<alt>` lines) or right after a closing section tag.
_DEBUG_TURN = re.compile(r"(?:^|(?<=[\s>]))(User|Assistant):[ \t]?")
_CHAT_TURN = re.compile(r"^\s*(assistant|user):\s?", re.IGNORECASE)


def _unquote_list(text: str) -> list[str]:
    """The body of a Python `str(list)`; a few items open with '[' and lack the closing ']'."""
    attempts = ["[" + text + "]"] + ([text + "]", text] if text.lstrip().startswith("[") else [])
    for attempt in attempts:
        try:
            value = ast.literal_eval(attempt)
        except (SyntaxError, ValueError):
            continue
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
    raise ValueError("not a quoted list of strings")


def split_opening(message: str) -> tuple[str, str] | None:
    """(problem, student's solution) from the MathDial opening message, or None if it has another form."""
    if not message.startswith(OPENING):
        return None
    problem, _, solution = message[len(OPENING):].partition(SOLUTION_MARK)
    return problem.strip(), solution.strip()


def parse_mathdial(text: str) -> tuple[str, list[Turn], dict[str, Any]]:
    if not text.startswith("Student: "):
        raise ValueError("a MathDial item starts with 'Student: '")
    pieces = _unquote_list(text[len("Student: "):])
    opening, sep, first_teacher = pieces[0].partition("Teacher:")
    raw: list[tuple[str, str, list[str]]] = [("student", opening.strip(), [])]
    rest = ([f"Teacher:{first_teacher}"] if sep else []) + pieces[1:]
    names = set()
    for piece in rest:
        piece = piece.replace("\\n", "\n")
        match = _SPEAKER.match(piece)
        speaker, body = (match.group(1), piece[match.end():]) if match else ("Student", piece)
        if speaker == "Teacher":
            tags = []
            while tag := _MOVE_TAG.match(body):
                tags.append(tag.group(1))
                body = body[tag.end():]
            raw.append(("tutor", body.strip(), tags))
        else:
            if speaker != "Student":
                names.add(speaker)
            raw.append(("student", body.strip(), []))
    turns, moves, empty = merge_turns(raw)
    meta: dict[str, Any] = {"moves": moves}
    if empty:
        meta["empty_turns_dropped"] = empty
    parts = split_opening(opening.strip())
    context = ""
    if parts:
        context = f"Problem: {parts[0]}"
        meta["problem"], meta["student_solution"] = parts
    if names:
        meta["student_name"] = min(names)
    return context, turns, meta


def restore_code_lines(text: str) -> str:
    """Put back the newlines the reference removed from inline `<code>` blocks.

    "<code>1. def f(a):2.\treturn a</code>" -> "<code>\n1. def f(a):\n2.\treturn a\n</code>": the
    lines are numbered, so each next number ("2.", "3.", ... not followed by a digit) starts a line."""
    def fix(match: re.Match[str]) -> str:
        code = match.group(1)
        if "\n" in code.strip() or not re.match(r"\s*1\.", code):
            return match.group(0)
        lines, rest, number = [], code.strip(), 2
        # "return 16." at line 5 is "return 1" then "6.": the expected number decides, so no
        # look-behind for digits; "2.5" is not a line start (a digit follows the dot)
        while found := re.search(rf"{number}\.(?!\d)", rest[2:]):
            cut = found.start() + 2
            lines.append(rest[:cut].rstrip())
            rest, number = rest[cut:], number + 1
        lines.append(rest.rstrip())
        return "<code>\n" + "\n".join(lines) + "\n</code>"

    return re.sub(r"<code>(.*?)</code>", fix, text, flags=re.DOTALL)


def parse_debugging(text: str) -> tuple[str, list[Turn], dict[str, Any]]:
    sections = {name: body for name, body in _SECTION.findall(text)}
    ends = [match.end() for match in _SECTION.finditer(text)]
    dialogue = text[max(ends, default=0):]
    pieces = _DEBUG_TURN.split(dialogue)
    if pieces[0].strip():
        raise ValueError(f"text before the first turn: {pieces[0].strip()[:40]!r}")
    raw = [("student" if speaker == "User" else "tutor", restore_code_lines(body.strip()), [])
           for speaker, body in zip(pieces[1::2], pieces[2::2], strict=True)]
    if raw and raw[-1][0] == "tutor" and not raw[-1][1]:
        raw.pop()  # the reference's prompt ends with an empty "Assistant: " for the model to fill
    turns, _, empty = merge_turns(raw)
    context = debugging_context(sections.get("problem", ""), sections.get("bug_code", ""),
                                sections.get("unit_tests", ""))
    meta: dict[str, Any] = {"reference": debugging_reference(sections.get("bug_desc", ""),
                                                             sections.get("bug_fixes", ""))}
    if empty:
        meta["empty_turns_dropped"] = empty
    return context, turns, meta


def parse_tutorchat(text: str) -> tuple[str, list[Turn], dict[str, Any]]:
    context, raw = "", []
    for index, piece in enumerate(_unquote_list(text)):
        match = _CHAT_TURN.match(piece)
        if match is None:
            if index:
                raise ValueError(f"item {index} has no 'user:'/'assistant:' prefix")
            context = piece.strip()  # the textbook passage the conversation is about
            continue
        role = "student" if match.group(1).lower() == "user" else "tutor"
        raw.append((role, piece[match.end():].strip(), []))
    turns, _, empty = merge_turns(raw)
    return context, turns, ({"empty_turns_dropped": empty} if empty else {})


def parse_conversation(kind: str, text: str) -> tuple[str, list[Turn], dict[str, Any]]:
    """(context, turns, meta) of one flattened reference string; raises ValueError when malformed.

    For debugging, meta["reference"] carries bug description + fixes (the loader moves it)."""
    parsers = {"mathdial": parse_mathdial, "debugging": parse_debugging, "tutorchat": parse_tutorchat}
    if kind not in parsers:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return parsers[kind](text)


def read_items(kind: str, split: str) -> list[str]:
    path = data_file("socratic_llm", f"{kind}_{split}.json")
    items = json.loads(path.read_text("utf-8"))
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InputError("expected a JSON list of strings", path=str(path))
    return items


def build(kind: str, split: str, index: int, text: str,
          references: dict[str, str] | None = None) -> Dialogue:
    """One Dialogue from item `index` of a file; ValueError (pydantic's included) if it cannot be valid."""
    context, turns, meta = parse_conversation(kind, text)
    reference = meta.pop("reference", None)
    if kind == "mathdial" and references is not None:
        reference = references.get(problem_key(meta.get("problem", "")))
    return Dialogue(id=f"{kind}-{split}-{index:04d}", source=kind, split=split, context=context,
                    turns=tuple(turns), reference=reference, meta=meta)


def load(kind: str, split: str) -> Loaded:
    if split not in SPLITS:
        raise SocraticError(f"source {kind!r} has splits {', '.join(SPLITS)}, not {split!r}")
    references = None
    if kind == "mathdial":
        references = references_by_problem()
    loaded = Loaded([])
    for index, text in enumerate(read_items(kind, split)):
        try:
            loaded.dialogues.append(build(kind, split, index, text, references))
        except (ValueError, ValidationError) as error:
            loaded.skipped.append(Skipped(f"{kind}-{split}-{index:04d}", why(error)))
    if kind == "mathdial":
        unmatched = [d.id for d in loaded.dialogues if d.reference is None]
        if unmatched:
            log.warning("mathdial %s: %d of %d dialogues match no MathDial or GSM8K problem, so have no reference "
                        "(first: %s)", split, len(unmatched), len(loaded.dialogues), ", ".join(unmatched[:3]))
    return loaded
