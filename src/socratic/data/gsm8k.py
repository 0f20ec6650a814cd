"""GSM8K's worked solutions (datasets/gsm8k/{train,test}.jsonl), the answer key of every MathDial problem.

MathDial's problems are GSM8K problems, so joining on the problem text gives every MathDial dialogue
its reference: the worked solution without the calculator annotations (`<<48/2=24>>`) and with
"#### 72" spelled "Final answer: 72", the shape `socratic.data.mathdial.format_ground_truth` gives
MathDial's own ground truth (the two agree on all 599 rows of MathDial's test split).

    from socratic.data.gsm8k import solution_for
    solution_for("Natalia sold clips to 48 of her friends in April, ...")  # "Natalia sold 48/2 = 24 ...\nFinal answer: 72"

Run: `socratic data show mathdial --split train --limit 1` (its reference comes from here).
"""

from __future__ import annotations

import re
from functools import lru_cache

from socratic.data.location import data_file, search_path
from socratic.errors import InputError
from socratic.store.jsonl import iter_json_lines

SPLITS = ("train", "test")
_ANNOTATION = re.compile(r"<<[^<>]*>>")
_FINAL = "####"


def problem_key(text: str) -> str:
    """How a problem is matched across datasets: its text with whitespace runs collapsed."""
    return " ".join(text.split())


def format_solution(answer: str) -> str:
    """GSM8K's answer field as a reference: annotations removed, the final answer spelled out."""
    body, sep, final = _ANNOTATION.sub("", answer).rpartition(_FINAL)
    if not sep:
        raise ValueError(f"no {_FINAL!r} before the final answer")
    return f"{body.strip()}\nFinal answer: {final.strip()}"


@lru_cache(maxsize=4)
def _solutions(folder: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for split in SPLITS:
        path = data_file("gsm8k", f"{split}.jsonl")
        for number, row in iter_json_lines(path):
            for field in ("question", "answer"):
                if not isinstance(row, dict) or not isinstance(row.get(field), str):
                    raise InputError("missing or not a string", path=str(path), line=number, field=field)
            try:
                solution = format_solution(row["answer"])
            except ValueError as error:
                raise InputError(str(error), path=str(path), line=number, field="answer") from None
            out.setdefault(problem_key(row["question"]), solution)  # train first, as the sources do
    return out


def solutions_by_problem() -> dict[str, str]:
    """problem_key(question) -> formatted worked solution, for all 8,792 GSM8K problems."""
    return _solutions(str(search_path()))


def solution_for(problem: str) -> str | None:
    return solutions_by_problem().get(problem_key(problem))
