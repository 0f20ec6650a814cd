"""The raw Socratic Debugging Benchmark (datasets/socratic_debugging/.../v2_sigcse/{train,testset}).

Each .txt file has tagged sections and a <dialogue> of `User:` (student) / `Assistant:` (tutor)
lines; indented `<alt>` lines are alternative utterances of the turn above; lines that carry on
a turn (inline `<code>` blocks, wrapped text) belong to the utterance above them.
One Dialogue per Assistant turn that follows a User turn: context = problem + buggy code + unit
tests, reference = bug description + fixes, meta["teacher_reply"] = the instructor's main utterance
and meta["human_replies"] = [main utterance, *alts] of that Assistant turn (good human references),
id `debugging-raw-train-<file stem>-t2`.

Run: `socratic data show debugging-raw --split test --limit 2`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from socratic.data.location import Loaded, Skipped, data_file
from socratic.data.turns import debugging_context, debugging_reference, merge_turns, why
from socratic.errors import SocraticError
from socratic.records import Dialogue

FOLDERS = {"train": "train", "test": "testset"}
_SECTION = re.compile(r"<(problem|bug_code|bug_desc|bug_fixes|unit_tests|stu_desc|dialogue)>\s*(.*?)\s*</\1>", re.DOTALL)
_TURN = re.compile(r"^(User|Assistant):\s?(.*)$")
_ALT = re.compile(r"^\s*<alt>\s?(.*)$")


@dataclass
class Utterance:
    role: str
    text: str
    alts: list[str] = field(default_factory=list)


def parse_dialogue(text: str) -> list[Utterance]:
    """The utterances of a <dialogue> section, with their `<alt>` alternatives."""
    utterances: list[Utterance] = []
    in_alt = False
    for line in text.splitlines():
        if match := _TURN.match(line):
            utterances.append(Utterance("student" if match.group(1) == "User" else "tutor", match.group(2)))
            in_alt = False
        elif (match := _ALT.match(line)) and utterances:
            utterances[-1].alts.append(match.group(1))
            in_alt = True
        elif utterances:
            # a continuation line (code, wrapped text) extends whatever was written last
            if in_alt:
                utterances[-1].alts[-1] += "\n" + line
            else:
                utterances[-1].text += "\n" + line
        elif line.strip():
            raise ValueError(f"text before the first turn: {line.strip()[:40]!r}")
    for utterance in utterances:
        utterance.text = utterance.text.strip()
        utterance.alts = [alt.strip() for alt in utterance.alts if alt.strip()]
    return utterances


def parse_file(text: str) -> dict[str, str]:
    return {name: body for name, body in _SECTION.findall(text)}


def dialogues_of(path: Path, split: str) -> list[Dialogue]:
    sections = parse_file(path.read_text("utf-8-sig"))
    if "dialogue" not in sections:
        raise ValueError("no <dialogue> section")
    utterances = parse_dialogue(sections["dialogue"])
    utterances = [u for u in utterances if u.text]
    turns, _, _ = merge_turns([(u.role, u.text, []) for u in utterances])
    # merge_turns joins repeated roles; keep the alts of the utterance that starts each merged turn
    starts = [u for i, u in enumerate(utterances) if i == 0 or utterances[i - 1].role != u.role]
    context = debugging_context(sections.get("problem", ""), sections.get("bug_code", ""),
                                sections.get("unit_tests", ""))
    reference = debugging_reference(sections.get("bug_desc", ""), sections.get("bug_fixes", ""))
    problem_id, bug_id = (path.stem.split("_") + ["", ""])[:2]
    out, tutor_number = [], 0
    for index, turn in enumerate(turns):
        if turn.role != "tutor":
            continue
        tutor_number += 1
        if index == 0:
            continue  # an opening Assistant turn follows no student turn
        meta = {"file": path.name, "problem_id": problem_id, "bug_id": bug_id, "teacher_reply": turn.text,
                "human_replies": [turn.text, *starts[index].alts],
                "student_alternatives": starts[index - 1].alts,
                "student_description": sections.get("stu_desc", "")}
        out.append(Dialogue(id=f"debugging-raw-{split}-{path.stem}-t{tutor_number}", source="debugging-raw",
                            split=split, context=context, turns=turns[:index], reference=reference, meta=meta))
    return out


def load(split: str) -> Loaded:
    if split not in FOLDERS:
        raise SocraticError(f"source 'debugging-raw' has splits train, test, not {split!r}")
    folder = data_file("socratic_debugging", "socratic_debugging_benchmark", "v2_sigcse", FOLDERS[split])
    loaded = Loaded([])
    for path in sorted(folder.glob("*.txt")):
        try:
            loaded.dialogues += dialogues_of(path, split)
        except (ValueError, ValidationError) as error:
            loaded.skipped.append(Skipped(f"debugging-raw-{split}-{path.stem}", why(error)))
    return loaded
