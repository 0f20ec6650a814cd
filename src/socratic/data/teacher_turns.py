"""Real tutor turns: the teacher's next turn on a test item, the teacher-referenced test sets, and the
teacher turns of the training dialogues as training data.

- `teacher_reply(dialogue)`: the real teacher's next turn of a `mathdial-raw` / `debugging-raw` item
  (meta["teacher_reply"]; older files: "human_reply" or the first of "human_replies"), else None.
- `teacher_test_set("mathdial-raw" | "debugging-raw", seed=0)`: the test split without any item whose
  problem appears in a training split of the shipped sets, then one item per conversation drawn by a
  seeded RNG, in a seeded order; each item carries the teacher's next turn and its reference.
- `teacher_validation_set()`: `mathdial-raw`'s "validation" split, for choosing a recipe without looking at
  a test set: the same kind of items, cut from MathDial training conversations on `validation_problems()`,
  training problems held out by a fixed seeded draw. No teacher turn is ever trained on from them.
- `evaluation_set(source, split)`: what a test slice means in `socratic evaluate` and run configs.
- `load_teacher_turns(sources, "train")`: every tutor turn of a training dialogue's history that answers
  a student turn, as (the conversation up to that student turn, the tutor's turn): MathDial teachers,
  Socratic Debugging instructors (and debugging-raw's alternative utterances, labelled), TutorChat (its
  tutor turns were written by a model: only with include_model_written=True). Deduplicated, and never
  a training dialogue that is also in a test split, nor a problem of a test set (`TEST_SETS`).

    from socratic.data.teacher_turns import load_teacher_turns, teacher_test_set
    turns = load_teacher_turns(("mathdial", "debugging"))
    test, report = teacher_test_set("mathdial-raw", seed=0)

Run: `socratic data teacher-turns` (counts; `-o FILE.jsonl` exports them).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from socratic import data
from socratic.data.location import search_path
from socratic.data.overlap import content_key, normalise, problem_of
from socratic.errors import SocraticError
from socratic.records import Dialogue

log = logging.getLogger("socratic.data")

TEACHER_SOURCES = ("mathdial-raw", "debugging-raw")  # test splits that carry the teacher's next turn
TURN_SOURCES = ("mathdial", "debugging", "debugging-raw", "tutorchat")
MODEL_WRITTEN = ("tutorchat",)
# The teachers a training dataset's tutor learns from by default (the SFT warm-up, teacher-anchored pairs).
TEACHERS_OF = {"mathdial": ("mathdial",), "mathdial-raw": ("mathdial",), "debugging": ("debugging", "debugging-raw"),
               "debugging-raw": ("debugging", "debugging-raw"), "tutorchat": ("tutorchat",)}
# The test sets whose problems teacher turns never come from: the reference's test splits (the
# pipeline's evaluation sets) and the teacher-referenced ones.
TEST_SETS = ("mathdial", "debugging", "tutorchat", "mathdial-raw", "debugging-raw")
# The validation conversations: VALIDATION_PROBLEMS MathDial training problems (fewer if a data folder has
# fewer free ones) drawn with VALIDATION_SEED,
# fixed before any recipe was tried. Never among the first SHIPPED_TRAIN_DIALOGUES training dialogues (the
# shipped configs train on MathDial's first 24 and 48) nor on a problem of a test set.
VALIDATION_SPLIT = "validation"
VALIDATION_PROBLEMS = 60
VALIDATION_SEED = 20261206
SHIPPED_TRAIN_DIALOGUES = 48


def teacher_reply(dialogue: Dialogue) -> str | None:
    """The real teacher's next turn after this dialogue, where the source has one."""
    meta = dialogue.meta
    reply = meta.get("teacher_reply") or meta.get("human_reply")
    if not reply and meta.get("human_replies"):
        reply = meta["human_replies"][0]
    return reply or None


def conversation_of(dialogue: Dialogue) -> str:
    """A raw item's conversation: its id without the "-t<k>" of the teacher turn it ends before."""
    return dialogue.id.rpartition("-t")[0] or dialogue.id


def training_problems() -> dict[str, set[str]]:
    """Each shipped source with a train split -> the problems (`problem_of`) of that split."""
    out = {}
    for source in data.SOURCES.values():
        if "train" in source.splits():
            out[source.name] = {problem_of(d) for d in data.load_dialogues(source.name, "train")}
    return out


@dataclass(frozen=True)
class TestSetReport:
    """What `teacher_test_set` kept and why the rest went."""

    source: str
    seed: int
    items: int
    conversations: int
    problems: int
    shared_problems: dict[str, int]  # training source -> test problems it also has
    excluded_problems: int
    excluded_items: int
    excluded_conversations: int
    without_teacher_or_reference: int
    chosen: int

    def lines(self) -> list[str]:
        shared = ", ".join(f"{count} with {name} train" for name, count in self.shared_problems.items() if count)
        return [(f"{self.source} test: {self.items} items in {self.conversations} conversations on "
                 f"{self.problems} problems"),
                (f"excluded {self.excluded_problems} problems also in a training split ({shared or 'none'}): "
                 f"{self.excluded_items} items, {self.excluded_conversations} conversations"),
                f"without a teacher turn or a reference: {self.without_teacher_or_reference} items",
                f"kept one item per conversation (seed {self.seed}): {self.chosen} items"]


def teacher_test_set(source: str, *, seed: int = 0) -> tuple[list[Dialogue], TestSetReport]:
    """The teacher-referenced test set of a raw source: clean of training problems, one item per
    conversation (seeded choice, seeded order), each with the teacher's next turn and a reference."""
    if source not in TEACHER_SOURCES:
        raise SocraticError(f"teacher-referenced test sets exist for {', '.join(TEACHER_SOURCES)}, not {source!r}")
    items = data.load_dialogues(source, "test")
    problems = {problem_of(d) for d in items}
    train = training_problems()
    shared = {name: len(problems & seen) for name, seen in train.items()}
    in_train = problems & set().union(*train.values())
    clean = [d for d in items if problem_of(d) not in in_train]
    usable = [d for d in clean if teacher_reply(d) and d.reference]
    by_conversation: dict[str, list[Dialogue]] = {}
    for dialogue in usable:
        by_conversation.setdefault(conversation_of(dialogue), []).append(dialogue)
    rng = random.Random(seed)
    chosen = [rng.choice(by_conversation[name]) for name in sorted(by_conversation)]
    rng.shuffle(chosen)
    conversations = {conversation_of(d) for d in items}
    report = TestSetReport(
        source=source, seed=seed, items=len(items), conversations=len(conversations), problems=len(problems),
        shared_problems=shared, excluded_problems=len(in_train), excluded_items=len(items) - len(clean),
        excluded_conversations=len(conversations - {conversation_of(d) for d in clean}),
        without_teacher_or_reference=len(clean) - len(usable), chosen=len(chosen))
    for line in report.lines():
        log.info("teacher test set: %s", line)
    return chosen, report


def validation_problems() -> frozenset[str]:
    """The MathDial training problems held out to choose a recipe on (see VALIDATION_PROBLEMS)."""
    return _validation_problems(str(search_path()))


@lru_cache(maxsize=4)
def _validation_problems(folder: str) -> frozenset[str]:
    """validation_problems of the data in `folder` (the key of the cache: tests point the data elsewhere)."""
    train = data.load_dialogues("mathdial", "train")
    taken = {problem_of(d) for d in train[:SHIPPED_TRAIN_DIALOGUES]} | problems_of_test_sets()
    free = sorted({problem_of(d) for d in train} - taken)
    return frozenset(random.Random(VALIDATION_SEED).sample(free, min(VALIDATION_PROBLEMS, len(free))))


def teacher_validation_set(*, seed: int = 0) -> list[Dialogue]:
    """One teacher-referenced item per MathDial training conversation on a validation problem (a seeded
    choice among its teacher turns, in a seeded order): the dialogue up to a student turn, the teacher's next
    turn in meta["teacher_reply"], the worked solution as its reference."""
    held = validation_problems()
    by_conversation: dict[str, list[Dialogue]] = {}
    for origin, turn in _history_turns("mathdial", "train", "human"):
        if problem_of(origin) in held and origin.reference:
            item = turn.dialogue.model_copy(update={"meta": turn.dialogue.meta | {"teacher_reply": turn.reply}})
            by_conversation.setdefault(origin.id, []).append(item)
    rng = random.Random(seed)
    chosen = [rng.choice(by_conversation[name]) for name in sorted(by_conversation)]
    rng.shuffle(chosen)
    log.info("teacher validation set: %d items, one per conversation on %d held-out MathDial training problems",
             len(chosen), len(held))
    return chosen


def evaluation_set(source: str, split: str) -> list[Dialogue]:
    """A test slice's dialogues: a raw source's "test" is its teacher-referenced test set, mathdial-raw's
    "validation" the validation conversations; any other (source, split) is the dataset as it loads."""
    if source in TEACHER_SOURCES and split == "test":
        return teacher_test_set(source)[0]
    if split == VALIDATION_SPLIT and source == "mathdial-raw":
        return teacher_validation_set()
    return data.load_dialogues(source, split)


class TeacherTurn(BaseModel):
    """A real tutor turn as training data: what the tutor saw, and what it said."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dialogue: Dialogue  # the conversation up to and including the student turn the teacher answered
    reply: str  # the teacher's turn (MathDial move tags removed: they are in meta["moves"])
    source: Literal["mathdial", "debugging", "debugging-raw", "tutorchat"]
    written_by: Literal["human", "model"]
    meta: dict[str, Any] = Field(default_factory=dict)


@dataclass
class TurnCounts:
    """Per source: the tutor turns found in the training histories and where they went."""

    found: int = 0
    origin_in_test: int = 0  # its training dialogue is also in the test split (the existing overlap check)
    test_problem: int = 0  # its problem is a problem of a test set
    validation_problem: int = 0  # its problem is held out for validation (teacher_validation_set)
    duplicate: int = 0  # the same context, history and reply came earlier
    kept: int = 0


@dataclass
class TeacherTurnsReport:
    split: str
    test_sets: tuple[str, ...]
    counts: dict[str, TurnCounts] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [f"{source}: {c.found} tutor turns in the {self.split} histories; dropped {c.origin_in_test} "
                f"from dialogues also in test, {c.test_problem} on test problems, {c.validation_problem} on "
                f"validation problems, {c.duplicate} duplicates; kept {c.kept}" for source, c in self.counts.items()]


def _history_turns(source: str, split: str, written_by: str) -> Iterator[tuple[Dialogue, TeacherTurn]]:
    """Every tutor turn of a reference prompt set's histories that follows a student turn."""
    for origin in data.load_dialogues(source, split):
        moves = origin.meta.get("moves") or []
        number = 0
        for index, turn in enumerate(origin.turns):
            if turn.role != "tutor":
                continue
            number += 1
            if index == 0:
                continue  # a tutor turn that opens the conversation answers nobody
            meta = {key: value for key, value in origin.meta.items() if key != "moves"}
            if moves:
                meta["moves"] = moves[:index]
            dialogue = origin.model_copy(update={"id": f"{origin.id}-t{number}", "turns": origin.turns[:index],
                                                 "meta": meta | {"group": origin.id}})
            turn_meta: dict[str, Any] = {"origin": origin.id, "turn": index}
            if moves:
                turn_meta["moves"] = moves[index]
            yield origin, TeacherTurn(dialogue=dialogue, reply=turn.text, source=source, written_by=written_by,
                                      meta=turn_meta)


def _raw_debugging_turns(split: str) -> Iterator[tuple[Dialogue, TeacherTurn]]:
    """debugging-raw: each Assistant turn's main utterance (alternative 0) and its `<alt>` alternatives."""
    for origin in data.load_dialogues("debugging-raw", split):
        replies = origin.meta.get("human_replies") or [teacher_reply(origin)]
        dialogue = origin.model_copy(update={"meta": origin.meta | {"group": conversation_of(origin)}})
        for alternative, reply in enumerate(replies):
            if reply:
                yield origin, TeacherTurn(dialogue=dialogue, reply=reply, source="debugging-raw",
                                          written_by="human", meta={"origin": origin.id, "alternative": alternative})


def _candidates(source: str, split: str) -> Iterator[tuple[Dialogue, TeacherTurn]]:
    """(the training dialogue, a teacher turn cut from it) of one source."""
    if source == "debugging-raw":
        return _raw_debugging_turns(split)
    return _history_turns(source, split, "model" if source in MODEL_WRITTEN else "human")


def _test_contents(source: str) -> set[str]:
    """The contents of the source's own test split (the existing train/test overlap check)."""
    return {content_key(d) for d in data.load_dialogues(source, "test")}


def problems_of_test_sets(test_sets: Sequence[str] = TEST_SETS) -> set[str]:
    """The problems of the test sets: a raw source stands for its teacher-referenced test set."""
    unknown = [name for name in test_sets if name not in TEST_SETS]
    if unknown:
        raise SocraticError(f"unknown test set {', '.join(map(repr, unknown))}: use {', '.join(TEST_SETS)}")
    out: set[str] = set()
    for name in test_sets:
        dialogues = teacher_test_set(name)[0] if name in TEACHER_SOURCES else data.load_dialogues(name, "test")
        out |= {problem_of(d) for d in dialogues}
    return out


def _turn_key(turn: TeacherTurn) -> tuple[str, ...]:
    """Identity of a teacher turn across sources: the problem, the history and the reply, normalised
    (the reference's and the raw debugging files format code differently)."""
    return (problem_of(turn.dialogue), *(normalise(t.text) for t in turn.dialogue.turns), "\x00",
            normalise(turn.reply))


def load_teacher_turns_with_report(sources: Sequence[str] = ("mathdial", "debugging"), split: str = "train", *,
                                   include_model_written: bool = False,
                                   test_sets: Sequence[str] = TEST_SETS) -> tuple[list[TeacherTurn],
                                                                                  TeacherTurnsReport]:
    """(the teacher turns, what was found and dropped per source); see `load_teacher_turns`."""
    unknown = [s for s in sources if s not in TURN_SOURCES]
    if unknown:
        raise SocraticError(f"no teacher turns for {', '.join(map(repr, unknown))}: use {', '.join(TURN_SOURCES)}")
    if split == "test":
        raise SocraticError("teacher turns are training data: they come from a training split, not 'test'")
    model_written = [s for s in sources if s in MODEL_WRITTEN]
    if model_written and not include_model_written:
        raise SocraticError(f"{', '.join(model_written)}: its tutor turns were written by a model, not by people; "
                            "ask for them with include_model_written=True (`--model-written`)")
    excluded = problems_of_test_sets(test_sets)
    held_out = validation_problems()
    report = TeacherTurnsReport(split, tuple(test_sets))
    seen: set[tuple[str, ...]] = set()
    out = []
    for source in sources:
        counts = report.counts.setdefault(source, TurnCounts())
        in_test = _test_contents(source)
        for origin, turn in _candidates(source, split):
            counts.found += 1
            key = _turn_key(turn)
            if content_key(origin) in in_test:
                counts.origin_in_test += 1
            elif key[0] in excluded:
                counts.test_problem += 1
            elif key[0] in held_out:
                counts.validation_problem += 1
            elif key in seen:
                counts.duplicate += 1
            else:
                seen.add(key)
                counts.kept += 1
                out.append(turn)
    for line in report.lines():
        log.info("teacher turns: %s", line)
    return out, report


def load_teacher_turns(sources: Sequence[str] = ("mathdial", "debugging"), split: str = "train", *,
                       include_model_written: bool = False, test_sets: Sequence[str] = TEST_SETS) -> list[TeacherTurn]:
    """The real tutor turns of the `split` dialogues' histories of `sources`, deduplicated across them (the
    first source keeps a turn two share), never from a training dialogue also in test (content overlap), nor
    on a problem of `test_sets`, nor on a validation problem. Counts are logged; `load_teacher_turns_with_report` returns them."""
    return load_teacher_turns_with_report(sources, split, include_model_written=include_model_written,
                                          test_sets=test_sets)[0]

