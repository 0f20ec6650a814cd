"""One rating sheet's replies from several tries' evaluations of the same items (issue 37).

    python experiments/teacher_tries/merge_replies.py OUT short=runs/teacher_tries/teacher-short/eval \
        restating=runs/teacher_tries/teacher-restating-signals/eval
    socratic rate export OUT -o SHEET --seed 12

OUT/replies.jsonl gets, for every item, the base model's reply and the teacher's turn (from the first
evaluation) and each try's tuned reply under the given name; OUT/judgments.jsonl the evaluation judges' judgments of
those same replies, renamed alike (so `socratic rate import --evaluation OUT` compares each judge with the raters). The items and the base and teacher replies must be
the same in every evaluation (they are: same validation items, same base model, greedy decoding); a mismatch
stops the merge. `NAME=FOLDER#MODEL` takes one tuned model of an evaluation that compared several (e.g.
`short=runs/teacher_tries/test-eval-short#short`). The names never reach the raters (`socratic rate export` letters
the replies in a seeded order). Only items that every evaluation has are kept (two runs may test different numbers
of items). `--shared-from-first` keeps the first evaluation's base replies where a later one's differ (bf16
decoding: a greedy reply can change with the batch it was decoded in) and says how many did, instead of stopping.
"""

from __future__ import annotations

import sys
from pathlib import Path

from socratic.evaluate.result import EvalReply
from socratic.scores import Judgment
from socratic.specs import RENAMED_JUDGE_KINDS
from socratic.store.jsonl import read_jsonl

SHARED = ("base", "teacher")


def main() -> None:
    lenient = "--shared-from-first" in sys.argv
    args = [arg for arg in sys.argv[1:] if arg != "--shared-from-first"]
    out, named = Path(args[0]), [arg.split("=", 1) for arg in args[1:]]
    merged: list[EvalReply] = []
    judged: list[Judgment] = []
    shared: dict[tuple[str, str], str] = {}
    differing = 0
    items_of: list[set[str]] = []
    for n, (name, source) in enumerate(named):
        folder, _, only = source.partition("#")
        items_of.append(set())
        for reply in read_jsonl(Path(folder) / "replies.jsonl", EvalReply):
            key = (reply.model, reply.dialogue.id)
            items_of[-1].add(reply.dialogue.id)
            if reply.model in SHARED:
                if n == 0:
                    shared[key] = reply.reply
                    merged.append(reply)
                elif key in shared and shared[key] != reply.reply:
                    if not lenient:
                        sys.exit(f"{folder}: {reply.model}'s reply to {reply.dialogue.id} differs from {named[0][1]}'s")
                    differing += 1
            elif not only or reply.model == only:
                merged.append(reply.model_copy(update={"model": name, "spec": name}))
        judged.extend(renamed_judgments(Path(folder) / "judgments.jsonl", name, only, first=n == 0))
    common = set.intersection(*items_of)
    merged = [r for r in merged if r.dialogue.id in common]
    judged = [j for j in judged if j.dialogue.id in common]
    if differing:
        print(f"{differing} shared replies differ from the first evaluation's; the first evaluation's are kept")
    out.mkdir(parents=True, exist_ok=True)
    (out / "replies.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in merged))
    (out / "judgments.jsonl").write_text("".join(j.model_dump_json() + "\n" for j in judged))
    print(f"{len(merged)} replies to {out / 'replies.jsonl'}, {len(judged)} judgments to {out / 'judgments.jsonl'}")


def renamed_judgments(path: Path, name: str, only: str, first: bool) -> list[Judgment]:
    """The judgments of one evaluation that the merge keeps: the shared sources' from the first evaluation only,
    the tuned model's (or `only`'s) under `name`; a judge under its old name (`reward`) under today's (`pairwise`)."""
    if not path.exists():
        return []
    kept = []
    for judgment in read_jsonl(path, Judgment):
        judgment = judgment.model_copy(update={"judge": RENAMED_JUDGE_KINDS.get(judgment.judge, judgment.judge)})
        model = judgment.meta.get("model")
        if model in SHARED:
            if first:
                kept.append(judgment)
        elif not only or model == only:
            kept.append(judgment.model_copy(update={"meta": {**judgment.meta, "model": name}}))
    return kept


if __name__ == "__main__":
    main()
