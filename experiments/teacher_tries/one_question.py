"""The `one-question` try (README.md, its rule): a tuned model's greedy replies cut after their first question.

    python experiments/teacher_tries/one_question.py runs/teacher_tries/teacher-short/eval tuned-mathdial \
        runs/teacher_tries/validation-one-question
    socratic rate export runs/teacher_tries/validation-one-question -o SHEET --seed 31

OUT/replies.jsonl gets, for every item, base's reply, the teacher's turn, the model's reply as it was ("uncut") and
the same reply cut ("cut"). Greedy decoding stopped at that question would give exactly the cut text.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from socratic.evaluate.result import EvalReply
from socratic.store.jsonl import read_jsonl

# The first "?" that ends a sentence: followed (after any closing quotes or brackets) by white space or the end.
FIRST_QUESTION = re.compile(r"\?[\"'\u201d\u2019)\]]*(?=\s|$)")


def cut_after_first_question(reply: str) -> str:
    """The reply up to and with its first question; a reply without one as it is."""
    found = FIRST_QUESTION.search(reply)
    return reply[:found.end()] if found else reply


def main() -> None:
    evaluation, model, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    merged: list[EvalReply] = []
    for reply in read_jsonl(evaluation / "replies.jsonl", EvalReply):
        if reply.model != model:
            merged.append(reply)
            continue
        merged.append(reply.model_copy(update={"model": "uncut", "spec": "uncut"}))
        merged.append(reply.model_copy(update={"model": "cut", "spec": "cut",
                                               "reply": cut_after_first_question(reply.reply)}))
    out.mkdir(parents=True, exist_ok=True)
    (out / "replies.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in merged))
    print(f"{len(merged)} replies to {out / 'replies.jsonl'}")


if __name__ == "__main__":
    main()
