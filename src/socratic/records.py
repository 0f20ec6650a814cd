"""The data shapes of docs/design.md as pydantic models: dialogues, replies, scores, pairs.

Everything on disk is JSON Lines of these models; `socratic.jsonl` reads and writes them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["student", "tutor"]


class Turn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    text: str

    @field_validator("text")
    @classmethod
    def _not_empty(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("turn text is empty")
        return text


class Dialogue(BaseModel):
    """One tutoring situation, ending on the student's turn."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    split: str = "test"
    context: str = ""
    turns: tuple[Turn, ...]
    reference: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("turns")
    @classmethod
    def _ends_on_student(cls, turns: tuple[Turn, ...]) -> tuple[Turn, ...]:
        if not turns:
            raise ValueError("a dialogue needs at least one turn")
        if turns[-1].role != "student":
            raise ValueError("a dialogue must end on a student turn")
        return turns


class Labels(BaseModel):
    """Judge or human labels on the four criteria; any may be missing."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    questions: bool | None = None
    on_topic: int | None = Field(default=None, ge=1, le=5)
    helpful: int | None = Field(default=None, ge=1, le=5)
    reveal_answer: bool | None = None


class LabelledReply(BaseModel):
    """Input of judge validation: a reply to a dialogue, with (possibly partial) human labels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dialogue: Dialogue
    reply: str
    labels: Labels = Field(default_factory=Labels)


class Candidate(BaseModel):
    """A tutor reply produced by a model for a dialogue (the output of `socratic generate`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dialogue: Dialogue
    reply: str
    model: str
    index: int = 0
    meta: dict[str, Any] = Field(default_factory=dict)
