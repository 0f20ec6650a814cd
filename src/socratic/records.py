"""The data shapes of docs/design.md as pydantic models: dialogues, replies, preference pairs.

Everything on disk is JSON Lines of these models; `socratic.store.jsonl` reads and writes them. The rows a run
writes (Candidate, PairRecord) carry their format's version in every line (socratic.store.artifact.ArtifactRow);
the input shapes (Dialogue, LabelledReply) are the user's data and have none.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from socratic.store.artifact import ArtifactRow

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


class Candidate(ArtifactRow):
    """A tutor reply produced by a model for a dialogue (the output of `socratic generate`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    VERSION: ClassVar[int] = 1

    dialogue: Dialogue
    reply: str
    model: str
    index: int = 0
    meta: dict[str, Any] = Field(default_factory=dict)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str


class PairRecord(ArtifactRow):
    """One line of pairs.jsonl (TRL's conversational preference format plus provenance)."""

    model_config = ConfigDict(extra="allow")
    VERSION: ClassVar[int] = 1
    prompt: list[ChatMessage] = Field(min_length=1)
    chosen: list[ChatMessage] = Field(min_length=1, max_length=1)
    rejected: list[ChatMessage] = Field(min_length=1, max_length=1)
    chosen_score: float | None = None
    rejected_score: float | None = None
    dialogue_id: str | None = None

    @field_validator("prompt")
    @classmethod
    def _prompt_ends_on_student(cls, prompt: list[ChatMessage]) -> list[ChatMessage]:
        if prompt[-1].role != "user":
            raise ValueError("the prompt must end on the student's (user) turn")
        if any(m.role == "system" for m in prompt[1:]):
            raise ValueError("a system message may only come first")
        return prompt

    @field_validator("chosen", "rejected")
    @classmethod
    def _one_assistant_reply(cls, reply: list[ChatMessage]) -> list[ChatMessage]:
        if reply[0].role != "assistant" or not reply[0].content.strip():
            raise ValueError("must be one non-empty assistant message")
        return reply

    @model_validator(mode="after")
    def _distinct(self) -> PairRecord:
        if self.chosen[0].content == self.rejected[0].content:
            raise ValueError("chosen and rejected replies are identical")
        return self
