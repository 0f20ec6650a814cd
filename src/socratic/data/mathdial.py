"""Raw MathDial (datasets/mathdial/test.jsonl; train.jsonl too when a user adds it: see data/location.py).

One Dialogue per teacher turn that follows a student turn: the conversation up to that student
turn, id `mathdial-raw-test-<qid>-<n>-t<k>` (n = occurrence of the qid in the file, since one
problem has several dialogues; k = 1-based number of the teacher turn). The raw conversation
opens with the teacher; we put the reference's opening student message first ("Professor, I have
a problem, here is the text: <question> Here is my solution <incorrect solution>"), so raw and
socratic_llm MathDial dialogues have the same shape. `reference` = ground-truth solution and final
answer. meta: qid, scenario, the real teacher's next utterance (`teacher_reply`; `human_reply` is the
same text under its older name) and its moves (`human_moves`), and the per-turn moves of the history.

Run: `socratic data show mathdial-raw --split test --limit 2`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from socratic.data.gsm8k import problem_key, solutions_by_problem
from socratic.data.location import Loaded, Skipped, data_file, find_data_file, search_path
from socratic.data.turns import MOVES, OPENING, SOLUTION_MARK, merge_turns, why
from socratic.errors import InputError, SocraticError
from socratic.records import Dialogue
from socratic.store.jsonl import iter_json_lines

_SPEAKER = re.compile(r"^\s*([^\s:]{1,30}):\s?")
_MOVE_TAG = re.compile(r"^\s*\((" + "|".join(MOVES) + r")\)\s*")
FIELDS = ("qid", "question", "ground_truth", "student_incorrect_solution", "conversation")


def format_ground_truth(ground_truth: str) -> str:
    """MathDial ends a solution with "\\n <answer>"; spell the final answer out."""
    body, sep, last = ground_truth.strip().rpartition("\n")
    if sep and last.strip() and len(last.split()) == 1:
        return f"{body.strip()}\nFinal answer: {last.strip()}"
    return ground_truth.strip()


def opening_message(question: str, solution: str) -> str:
    """The student's first message, exactly as the reference's prompt sets build it."""
    return f"{OPENING}{question}{SOLUTION_MARK}{solution}".strip()


def parse_utterances(conversation: str) -> list[tuple[str, str, list[str]]]:
    """(role, text, move tags) per `|EOM|`-separated utterance; students may be named by first name."""
    turns = []
    for utterance in conversation.split("|EOM|"):
        match = _SPEAKER.match(utterance)
        speaker, body = (match.group(1), utterance[match.end():]) if match else ("Student", utterance)
        tags = []
        if speaker == "Teacher":
            while tag := _MOVE_TAG.match(body):
                tags.append(tag.group(1))
                body = body[tag.end():]
        turns.append(("tutor" if speaker == "Teacher" else "student", body.strip(), tags))
    return turns


def split_path(split: str):
    if split not in ("train", "test"):
        raise SocraticError(f"source 'mathdial-raw' has splits train, test, not {split!r}")
    return data_file("mathdial", f"{split}.jsonl")


def available_splits() -> list[str]:
    return [split for split in ("train", "test") if find_data_file("mathdial", f"{split}.jsonl")]


def read_rows(split: str) -> list[tuple[int, dict[str, Any]]]:
    path = split_path(split)
    rows = []
    for number, row in iter_json_lines(path):
        for field in FIELDS:
            if not isinstance(row, dict) or not isinstance(row.get(field), (str, int)):
                raise InputError("missing or not a string", path=str(path), line=number, field=field)
        rows.append((number, row))
    return rows


def dialogues_of(row: dict[str, Any], split: str, occurrence: int) -> list[Dialogue]:
    opening = ("student", opening_message(row["question"], row["student_incorrect_solution"]), [])
    turns, moves, _ = merge_turns([opening, *parse_utterances(row["conversation"])])
    reference = format_ground_truth(row["ground_truth"])
    context = f"Problem: {row['question'].strip()}"
    out = []
    tutor_number = 0
    for index, turn in enumerate(turns):
        if turn.role != "tutor":
            continue
        tutor_number += 1
        meta = {"qid": row["qid"], "scenario": row.get("scenario"), "teacher_reply": turn.text,
                "human_reply": turn.text,
                "human_moves": moves[index], "moves": moves[:index],
                "problem": row["question"].strip(), "student_solution": row["student_incorrect_solution"].strip()}
        out.append(Dialogue(id=f"mathdial-raw-{split}-{row['qid']}-{occurrence}-t{tutor_number}",
                            source="mathdial-raw", split=split, context=context, turns=turns[:index],
                            reference=reference, meta=meta))
    return out


def load(split: str) -> Loaded:
    loaded = Loaded([])
    seen: dict[Any, int] = {}
    for number, row in read_rows(split):
        occurrence = seen.get(row["qid"], 0)
        seen[row["qid"]] = occurrence + 1
        try:
            loaded.dialogues += dialogues_of(row, split, occurrence)
        except (ValueError, ValidationError) as error:
            loaded.skipped.append(Skipped(f"mathdial-raw-{split}-{row['qid']}-{occurrence} (line {number})",
                                          why(error)))
    return loaded


@lru_cache(maxsize=4)
def _references(folder: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for split in ("test", "train"):
        path = find_data_file("mathdial", f"{split}.jsonl")
        if path is not None:
            for _, row in iter_json_lines(path):
                question, truth = str(row.get("question", "")), str(row.get("ground_truth", ""))
                out.setdefault(problem_key(question), format_ground_truth(truth))
    return out


def references_by_problem() -> dict[str, str]:
    """problem_key(problem text) -> formatted worked solution and final answer: raw MathDial's own
    ground truth where a raw split has the problem, else GSM8K's worked solution (they agree where both do)."""
    return solutions_by_problem() | _references(str(search_path()))
