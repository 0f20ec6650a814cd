"""One rating sheet's replies from several tries' evaluations of the same items (issue 37).

    python experiments/teacher_tries/merge_replies.py OUT short=runs/teacher_tries/teacher-short/eval \
        restating=runs/teacher_tries/teacher-restating-signals/eval
    socratic rate export OUT -o SHEET --seed 12

OUT/replies.jsonl gets, for every item, the base model's reply and the teacher's turn (from the first
evaluation) and each try's tuned reply under the given name. The items and the base and teacher replies must be
the same in every evaluation (they are: same validation items, same base model, greedy decoding); a mismatch
stops the merge. `NAME=FOLDER#MODEL` takes one tuned model of an evaluation that compared several (e.g.
`short=runs/teacher_tries/test-eval-short#short`). The names never reach the raters (`socratic rate export` letters
the replies in a seeded order).
"""

from __future__ import annotations

import sys
from pathlib import Path

from socratic.evaluate.result import EvalReply
from socratic.store.jsonl import read_jsonl

SHARED = ("base", "teacher")


def main() -> None:
    out, named = Path(sys.argv[1]), [arg.split("=", 1) for arg in sys.argv[2:]]
    merged: list[EvalReply] = []
    shared: dict[tuple[str, str], str] = {}
    for n, (name, source) in enumerate(named):
        folder, _, only = source.partition("#")
        for reply in read_jsonl(Path(folder) / "replies.jsonl", EvalReply):
            key = (reply.model, reply.dialogue.id)
            if reply.model in SHARED:
                if n == 0:
                    shared[key] = reply.reply
                    merged.append(reply)
                elif shared.get(key) != reply.reply:
                    sys.exit(f"{folder}: {reply.model}'s reply to {reply.dialogue.id} differs from {named[0][1]}'s")
            elif not only or reply.model == only:
                merged.append(reply.model_copy(update={"model": name, "spec": name}))
    out.mkdir(parents=True, exist_ok=True)
    (out / "replies.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in merged))
    print(f"{len(merged)} replies to {out / 'replies.jsonl'}")


if __name__ == "__main__":
    main()
