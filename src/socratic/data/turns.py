"""What the dialogue sources share: merging turns into alternating roles, the MathDial opening
message, the Socratic Debugging context and reference, and the one-line reason for a skipped item.

Used by socratic_llm.py (the reference's prompt sets), mathdial.py and debugging.py (the raw
datasets); pure functions, no files.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from socratic.records import Turn
from socratic.store.jsonl import describe_validation_error

OPENING = "Professor, I have a problem, here is the text: "
SOLUTION_MARK = " Here is my solution "
MOVES = ("generic", "focus", "probing", "telling")


def merge_turns(turns: list[tuple[str, str, list[str]]]) -> tuple[list[Turn], list[list[str]], int]:
    """(turns, tags per turn, number of empty utterances dropped).

    Empty utterances are dropped (the sources have a few, e.g. a bare "Teacher: "), then
    consecutive turns of one role are joined (text by newline, tags concatenated), since chat
    templates expect alternating roles; a message repeated verbatim right after itself is kept once."""
    merged: list[list[Any]] = []
    empty = 0
    for role, text, tags in turns:
        if not text.strip():
            empty += 1
        elif merged and merged[-1][0] == role:
            if text == merged[-1][1]:
                continue  # the same message sent twice in a row (seen in MathDial)
            merged[-1][1] = f"{merged[-1][1]}\n{text}"
            merged[-1][2] = merged[-1][2] + tags
        else:
            merged.append([role, text, list(tags)])
    return [Turn(role=role, text=text) for role, text, _ in merged], [tags for _, _, tags in merged], empty


def debugging_context(problem: str, bug_code: str, unit_tests: str = "") -> str:
    parts = [f"Problem:\n{problem.strip()}"] if problem.strip() else []
    if bug_code.strip():
        parts.append(f"The student's code:\n{bug_code.strip()}")
    if unit_tests.strip():
        parts.append(f"Unit tests:\n{unit_tests.strip()}")
    return "\n\n".join(parts)


def debugging_reference(bug_desc: str, bug_fixes: str) -> str | None:
    parts = [f"Bug: {bug_desc.strip()}"] if bug_desc.strip() else []
    if bug_fixes.strip():
        parts.append(f"Fix: {bug_fixes.strip()}")
    return "\n".join(parts) or None


def why(error: Exception) -> str:
    """A one-line reason for a skipped item."""
    if isinstance(error, ValidationError):
        field, message = describe_validation_error(error)
        return f"{field}: {message}"
    return str(error)
