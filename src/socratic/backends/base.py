"""The model backend protocol: chat messages in, reply text out.

Every backend (embedded, hf:PATH, openai:MODEL[@URL], fake) implements `generate` for a batch
of conversations, each with `options.n` samples, and `stream` for one conversation. Replies end
at the end of the tutor's turn: `cut_at_turn_end` removes text where a small model goes on to
write the student's next line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from socratic.errors import SocraticError
from socratic.render import Message


class BackendError(SocraticError):
    """A model backend failed for good (after its retries): the message says which model and why."""


class GenerationOptions(BaseModel):
    """Sampling settings; part of every cache key, so keep them explicit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_new_tokens: int = Field(default=200, ge=1, le=8192)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    greedy: bool = False
    n: int = Field(default=1, ge=1, le=64)
    seed: int | None = 0
    # A JSON schema the reply must follow; backends with structured output enforce it.
    json_schema: dict[str, Any] | None = None


@runtime_checkable
class Backend(Protocol):
    spec: str
    """Canonical spec string; names the model in reports."""

    cache_id: str
    """The spec plus a fingerprint of the model's content: part of every cache key, so that
    retraining into the same folder never returns stale cached replies."""

    supports_json_schema: bool

    def generate(self, conversations: Sequence[list[Message]],
                 options: GenerationOptions) -> list[list[str]]:
        """For each conversation, `options.n` replies."""
        ...

    def stream(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        """One reply, piece by piece."""
        ...


# A line that opens the next speaker's turn: "Student:", "User:", "Teacher:", "### Student", ...
_NEXT_TURN = re.compile(
    r"(?:^|\n)\s*(?:#+\s*)?(?:student|user|human|teacher|tutor|assistant)\s*:", re.IGNORECASE
)
_CHAT_MARKERS = ("<|im_end|>", "<|im_start|>", "<|endoftext|>", "<|end|>", "<|user|>", "<|eot_id|>")


def cut_at_turn_end(text: str) -> str:
    """The tutor's reply only: stop at chat-template markers or at the start of another speaker's turn."""
    for marker in _CHAT_MARKERS:
        text = text.split(marker, 1)[0]
    match = _NEXT_TURN.search(text)
    if match and match.start() > 0:
        text = text[: match.start()]
    elif match:  # the reply opens with a speaker tag, e.g. "Teacher: ..."; drop the tag only
        text = text[match.end():]
        second = _NEXT_TURN.search(text)
        text = text[: second.start()] if second else text
    return text.strip()


def turn_has_ended(text: str) -> bool:
    """True when `text` already holds the start of another speaker's turn (so generation can stop)."""
    if any(marker in text for marker in _CHAT_MARKERS):
        return True
    match = _NEXT_TURN.search(text)
    if match is None:
        return False
    return match.start() > 0 or _NEXT_TURN.search(text, match.end()) is not None


# Longest speaker tag we hold back while it may still be growing: "\n### assistant:" and a little slack.
_HOLD_BACK = 24
_SPEAKERS = ("student", "user", "human", "teacher", "tutor", "assistant")


def _may_become_tag(tail: str) -> bool:
    """Whether the text after the last newline could still grow into a speaker tag ("### Stud")."""
    word = tail.lstrip().lstrip("#").lstrip().lower()
    return len(tail) < _HOLD_BACK and any(
        name.startswith(word) or (word.startswith(name) and not word[len(name):].strip()) for name in _SPEAKERS)


def stream_until_turn_end(pieces: Iterator[str]) -> Iterator[str]:
    """Re-chunk a raw token stream so that the pieces join to exactly `cut_at_turn_end(raw text)`.

    Text after the last newline is held back until it cannot be a speaker tag any more, because
    "\nStud" may become "\nStudent:"; the stream stops at the first sign of another turn.
    """
    raw, sent = "", ""
    for piece in pieces:
        raw += piece
        ended = turn_has_ended(raw)
        if ended:
            break
        line_start = raw.rfind("\n")
        tail = raw[line_start + 1:] if line_start >= 0 else raw
        # Hold back only a line start that may still become "Student:": ordinary words stream at once.
        settled = raw[: len(raw) - len(tail)] if _may_become_tag(tail) else raw
        text = cut_at_turn_end(settled)
        if len(text) > len(sent) and text.startswith(sent):
            yield text[len(sent):]
            sent = text
    final = cut_at_turn_end(raw)
    if final.startswith(sent) and len(final) > len(sent):
        yield final[len(sent):]


class FakeBackend:
    """A backend that returns queued replies: for flow tests with exact expectations.

    `FakeBackend(["a", "b"])` answers "a" then "b" then repeats the last; a callable
    `responder(messages, options) -> str` may be given instead. Every call is recorded.
    """

    supports_json_schema = False

    def __init__(self, replies: Sequence[str] | None = None, *, responder=None, spec: str = "fake"):
        self.spec = spec
        self.cache_id = spec
        self._queue = list(replies or [])
        self._responder = responder
        self.calls: list[tuple[list[Message], GenerationOptions]] = []

    def _next(self, messages: list[Message], options: GenerationOptions) -> str:
        self.calls.append((messages, options))
        if self._responder is not None:
            return self._responder(messages, options)
        if not self._queue:
            raise RuntimeError("FakeBackend has no replies queued")
        return self._queue.pop(0) if len(self._queue) > 1 else self._queue[0]

    def generate(self, conversations, options):
        return [[self._next(list(c), options) for _ in range(options.n)] for c in conversations]

    def stream(self, messages, options):
        yield from _words(self._next(messages, options))


def _words(text: str) -> Iterator[str]:
    parts = text.split(" ")
    for i, part in enumerate(parts):
        yield part if i == 0 else " " + part


def count_tokens(backend: Backend, text: str) -> int | None:
    """Token count of `text` by the backend's own tokenizer; None when it exposes none (an API model).

    The one definition: serving reports it as usage, generation as its reply-tokens rate."""
    counter = getattr(backend, "count_tokens", None)
    if callable(counter):
        return counter(text)
    tokenizer = getattr(backend, "tokenizer", None)
    if tokenizer is not None and hasattr(tokenizer, "encode"):
        try:
            return len(tokenizer.encode(text, add_special_tokens=False))
        except TypeError:
            return len(tokenizer.encode(text))
    return None


def prompt_tokens(backend: Backend, messages: Sequence[Message]) -> int | None:
    """Tokens the model reads for `messages`: its chat template applied, the assistant's turn opened.
    None when the backend has no tokenizer of its own (an API model counts on its side)."""
    ids = getattr(backend, "prompt_ids", None)
    if callable(ids):
        return len(ids(messages))
    tokenizer = getattr(backend, "tokenizer", None)
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        encoded = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True,
                                                return_dict=True)
        return len(encoded["input_ids"])
    return None


def context_length(backend: Backend) -> int | None:
    """The most tokens (prompt + reply) the model attends to; None when unknown."""
    value = getattr(backend, "context_length", None)
    return int(value) if isinstance(value, int) and value > 0 else None
