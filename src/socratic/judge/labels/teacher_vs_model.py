"""Teacher-vs-model pairs: the real teacher's next turn and the embedded model's own replies to the same
context, from TRAINING dialogues only (issue 36). Judges learn "teacher > small model" from them.

    from socratic.judge.labels.teacher_vs_model import load_teacher_pairs, pair_rows
    pairs = load_teacher_pairs()          # src/socratic/datasets/teacher_pairs/pairs.jsonl, validated
    rows = pair_rows(pairs)               # (pair index, teacher reply, model reply) for every sample

The file is made once by experiments/sample_teacher_contexts.py (its SOURCE.md says how: model, sampling
settings, seed, command, date), so fitting a judge never needs the model. Each pair's CV group is its
problem (`socratic.judge.labels.human.group_key` of the context), like the human labels', so a judge scored on a
pair never saw a reply to that problem.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from socratic.records import Dialogue, LabelledReply


class TeacherPair(BaseModel):
    """One context of a training dialogue: the teacher's actual next turn and the model's samples."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dialogue: Dialogue  # the conversation up to the student turn the teacher answered
    teacher: str = Field(min_length=1)
    model: str = Field(min_length=1)  # the model spec that sampled `samples` ("embedded")
    samples: tuple[str, ...] = Field(min_length=1)


def group_of(pair: TeacherPair) -> str:
    """The pair's cross-validation group: its problem (else its conversation)."""
    from socratic.judge.labels.human import group_key

    return group_key(LabelledReply(dialogue=pair.dialogue, reply=pair.teacher))


@lru_cache(maxsize=1)
def _shipped() -> tuple[TeacherPair, ...]:
    from socratic.data.location import data_file
    from socratic.store.jsonl import read_jsonl

    return tuple(read_jsonl(data_file("teacher_pairs", "pairs.jsonl"), TeacherPair))


def load_teacher_pairs() -> list[TeacherPair]:
    """The shipped pairs (read and validated once per process; a bad line names file, line and field)."""
    return list(_shipped())


def pair_rows(pairs: list[TeacherPair]) -> list[tuple[int, str, str]]:
    """(pair index, teacher reply, model reply): one comparison per sample that differs from the
    teacher's reply (an empty sample is kept: the model did produce nothing, and the teacher is better)."""
    return [(n, pair.teacher, sample) for n, pair in enumerate(pairs) for sample in pair.samples
            if sample.strip() != pair.teacher.strip()]
