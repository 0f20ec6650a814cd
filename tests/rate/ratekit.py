"""The rating kit's test data: an evaluation folder with known replies and judgments, and raters with known scores, for the rating kit.

Four test conversations (two MathDial-like, two Debugging-like), three reply sources (two models and the
teacher), two raters (ann, bo) whose scores are chosen so every number of the import can be worked out by
hand (tests/rate/test_rate_import.py does).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from socratic.evaluate.result import EvalReply
from socratic.rate.sheet import RatingKey
from socratic.records import Dialogue, Turn
from socratic.scores import Judgment, Scores
from socratic.store.jsonl import write_jsonl

# Names no sheet text could contain by chance: a test looks for them in the sheet.
MODELS = {"zzbase": "hf:/models/zzbase-spec", "zztuned": "hf:/models/zztuned-spec", "teacher": "teacher"}
DIALOGUES = {"d0": "mathdial", "d1": "mathdial", "d2": "debugging", "d3": "debugging"}

# rater -> dialogue -> (zzbase, zztuned, teacher)
SCORES = {
    "ann": {"d0": (1, 2, 4), "d1": (1, 3, 5), "d2": (2, 2, 3), "d3": (1, 4, 3)},
    "bo": {"d0": (1, 3, 4), "d1": (2, 3, 4), "d2": (1, 2, 5), "d3": (1, 2, 4)},
}

# judge -> source -> Scores; judge "flat-b" ties base with tuned on d0 and fails on the teacher's d3 reply.
BEST = Scores(questions=True, on_topic=5, helpful=5, reveal_answer=False)  # summary 1.0
MIDDLE = Scores(questions=True, on_topic=3, helpful=3, reveal_answer=False)  # 0.75
WORST = Scores(questions=False, on_topic=1, helpful=1, reveal_answer=True)  # 0.0


def _dialogue(dialogue_id: str) -> Dialogue:
    n = int(dialogue_id[1:])
    return Dialogue(id=dialogue_id, source=DIALOGUES[dialogue_id], split="test",
                    context=f"Problem {n}: Tom has {n + 3} apples and eats 2. How many are left?",
                    turns=(Turn(role="student", text=f"Is it {n + 2}?"),
                           Turn(role="tutor", text="What does eating 2 do to the count?"),
                           Turn(role="student", text=f"It makes it {n + 1}, I think <b>so</b>.")),
                    reference=str(n + 1))


def _reply(model: str, dialogue_id: str) -> str:
    if model == "teacher":
        return f"You said {int(dialogue_id[1:]) + 1}. How did you get there?"
    return f"Reply of model number {list(MODELS).index(model)} to {dialogue_id}, \"quoted\", with a comma."


def _scores(judge: str, model: str, dialogue_id: str) -> Scores | None:
    if judge == "flat-a":
        return {"zzbase": WORST, "zztuned": MIDDLE, "teacher": BEST}[model]
    if model == "teacher" and dialogue_id == "d3":
        return None
    if model == "zzbase" and dialogue_id == "d0":
        return BEST
    return {"zzbase": WORST, "zztuned": BEST, "teacher": MIDDLE}[model]


def eval_replies() -> list[EvalReply]:
    return [EvalReply(model=model, spec=spec, dataset=DIALOGUES[d], dialogue=_dialogue(d), reply=_reply(model, d),
                      settings="s") for model, spec in MODELS.items() for d in DIALOGUES]


def write_evaluation(folder: Path) -> Path:
    """An evaluation folder: replies.jsonl and judgments.jsonl of two judges."""
    replies = eval_replies()
    write_jsonl(folder / "replies.jsonl", replies)
    judgments = []
    for judge in ("flat-a", "flat-b"):
        for r in replies:
            scores = _scores(judge, r.model, r.dialogue.id)
            judgments.append(Judgment(dialogue=r.dialogue, reply=r.reply, judge=judge, scores=scores,
                                      error=None if scores else "unparseable",
                                      meta={"model": r.model, "spec": r.spec, "dataset": r.dataset}))
    write_jsonl(folder / "judgments.jsonl", judgments)
    return folder


def write_ratings(path: Path, key: RatingKey, rater: str, scores: dict[str, tuple[int, ...]],
                  sources: Sequence[str] = tuple(MODELS)) -> Path:
    """A filled ratings CSV as the sheet's download makes it: one row per reply, in the sheet's order;
    scores: dialogue id -> one score per source, in the order of `sources`."""
    sources = list(sources)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["sheet", "rater", "item", "letter", "score", "note"])
        for item in key.items:
            for letter, source in sorted(item.letters.items()):
                writer.writerow([key.sheet, rater, item.item, letter,
                                 scores[item.dialogue_id][sources.index(source)], ""])
    return path
