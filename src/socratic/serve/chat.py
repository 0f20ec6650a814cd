"""The terminal tutor behind `socratic chat`: a chat session (history -> Dialogue -> messages) and its loop.

    echo "How do I solve x^2-4=0?" | socratic chat          # one reply, then exit
    socratic chat --model hf:runs/tuned --from mathdial:mathdial-test-0007

`ChatSession` is the pure part: it keeps the turns, renders them with `render_messages` (the same
prompt the tutor is trained and evaluated on) and streams the backend's reply. `run` is the I/O:
interactive when stdin is a terminal (streams tokens; /reset, /quit, /help), otherwise the whole of
stdin is one student message and the tutor's reply goes to stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel, ConfigDict, Field

from socratic.backends import Backend, GenerationOptions, load_backend
from socratic.backends.prefixes import reusing_prefixes
from socratic.errors import SocraticError
from socratic.records import Dialogue, Turn
from socratic.render import Message, load_system_prompt, render_messages
from socratic.specs import MODEL_SPEC_HELP

# The prefills kept between turns: ~5,800 tokens of the embedded model in fp32 (46 KB a token).
CHAT_PREFIX_BYTES = 256 << 20
HELP = "/reset starts over, /quit (or Ctrl-D) leaves, /help shows this"


class ChatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    model: str = Field(default="embedded", description=f"Model spec: {MODEL_SPEC_HELP}.")
    system_prompt: Path | None = Field(default=None, description=(
        "A file with the tutor's instructions (default: the packaged Socratic prompt)."))
    answer_key: bool = Field(default=False, description=(
        "Give the tutor the --from dialogue's reference as its answer key, hidden from the student."))
    start: str | None = Field(default=None, description=(
        "Start from a dataset dialogue, DATASET:ID, e.g. mathdial:mathdial-test-0007 (socratic data show lists "
        "ids)."))
    split: str | None = Field(default=None, description="Split of --from (default: read from the id, else test).")
    max_new_tokens: int = Field(default=200, ge=1, le=8192, description="Longest reply, in tokens.")
    temperature: float = Field(default=0.7, ge=0.0, le=2.0, description="Sampling temperature; 0 = greedy.")
    top_p: float = Field(default=0.9, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    seed: int | None = Field(default=0, description="Sampling seed (same conversation + seed = same reply).")
    interactive: bool | None = Field(default=None, description=(
        "Default: interactive when stdin is a terminal; otherwise all of stdin is one student message and one "
        "reply is printed."))

    def options(self) -> GenerationOptions:
        return GenerationOptions(max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                                 top_p=self.top_p, greedy=self.temperature == 0, seed=self.seed)


class ChatSession:
    """A conversation with the tutor. The student speaks with `ask`, which streams the tutor's reply."""

    def __init__(self, backend: Backend, options: GenerationOptions, *, system_prompt: str | None = None,
                 start: Dialogue | None = None, answer_key: bool = False):
        self.backend, self.options, self.system_prompt = backend, options, system_prompt
        self.answer_key = answer_key
        self.start = start
        self.context = start.context if start else ""
        self.turns: list[Turn] = list(start.turns) if start else []

    def reset(self) -> None:
        """Forget the conversation; the material from a `--from` dialogue (its context) stays."""
        self.turns = []

    @property
    def awaiting_reply(self) -> bool:
        return bool(self.turns) and self.turns[-1].role == "student"

    def add_student(self, text: str) -> None:
        text = text.strip()
        if not text:
            raise ValueError("empty message")
        if self.awaiting_reply:  # a reply went missing: the two messages become one student turn
            text = f"{self.turns[-1].text}\n{text}"
            self.turns.pop()
        self.turns.append(Turn(role="student", text=text))

    def dialogue(self) -> Dialogue:
        if not self.awaiting_reply:
            raise ValueError("the tutor speaks after the student: add a student message first")
        source = self.start.source if self.start else "chat"
        return Dialogue(id=self.start.id if self.start else "chat", source=source, split="chat",
                        context=self.context, turns=tuple(self.turns),
                        reference=self.start.reference if self.start else None)

    def messages(self) -> list[Message]:
        return render_messages(self.dialogue(), self.system_prompt, answer_key=self.answer_key)

    def reply(self) -> Iterator[str]:
        """Stream the tutor's answer to the pending student turn; the history keeps it once complete."""
        pieces: list[str] = []
        for piece in self.backend.stream(self.messages(), self.options):
            pieces.append(piece)
            yield piece
        text = "".join(pieces).strip()
        if text:
            self.turns.append(Turn(role="tutor", text=text))

    def ask(self, text: str) -> Iterator[str]:
        self.add_student(text)
        return self.reply()


def parse_start(value: str, split: str | None) -> tuple[str, str, str]:
    """'mathdial:mathdial-test-0007' -> ('mathdial', 'test', 'mathdial-test-0007'); split from the id if not given."""
    source, colon, dialogue_id = value.rpartition(":")
    if not colon or not source or not dialogue_id:
        raise SocraticError(f"--from takes DATASET:ID, e.g. mathdial:mathdial-test-0007, not {value!r}")
    if split is None:
        for candidate in ("test", "train", "dev", "validation"):
            if f"-{candidate}-" in dialogue_id:
                split = candidate
                break
        else:
            split = "test"
    return source, split, dialogue_id


def load_start(config: ChatConfig) -> Dialogue | None:
    if config.start is None:
        return None
    from socratic.data import get_dialogue

    source, split, dialogue_id = parse_start(config.start, config.split)
    return get_dialogue(source, split, dialogue_id)


def open_session(config: ChatConfig) -> ChatSession:
    system_prompt = load_system_prompt(config.system_prompt) if config.system_prompt else None
    start = load_start(config)
    if config.answer_key and (start is None or not start.reference):
        raise SocraticError("--answer-key gives the tutor the reference of a --from dialogue: "
                            + ("start from one with --from DATASET:ID" if start is None else
                               f"{start.id} has no reference"))
    return ChatSession(load_backend(config.model), config.options(), system_prompt=system_prompt, start=start,
                       answer_key=config.answer_key)


def run(config: ChatConfig, stdin: TextIO | None = None, stdout: TextIO | None = None,
        stderr: TextIO | None = None) -> int:
    """Run the chat; returns the exit code."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    interactive = config.interactive if config.interactive is not None else stdin.isatty()
    if config.system_prompt is not None and not Path(config.system_prompt).is_file():
        raise SocraticError(f"--system-prompt: no file at {config.system_prompt}")
    session = open_session(config)
    if interactive:
        # Each turn's prompt is the last one plus a reply and a message: prefill only those.
        with reusing_prefixes(session.backend, CHAT_PREFIX_BYTES):
            return _interactive(session, config, stdin, stdout)
    return _one_shot(session, stdin.read(), stdout, stderr)


def _one_shot(session: ChatSession, text: str, stdout: TextIO, stderr: TextIO) -> int:
    """Whole stdin = one student message (after the --from dialogue, if any); the reply goes to stdout."""
    if session.awaiting_reply:  # --from: the tutor first answers the dataset dialogue
        first = "".join(session.reply())
        if not text.strip():
            stdout.write(first + "\n")
            return 0
        stderr.write(f"tutor (to the dataset dialogue): {first}\n")
    if not text.strip():
        raise SocraticError("nothing on stdin: pipe in a student message, e.g. echo 'How do I ...?' | socratic chat")
    for piece in session.ask(text):
        stdout.write(piece)
        stdout.flush()
    stdout.write("\n")
    return 0


def _interactive(session: ChatSession, config: ChatConfig, stdin: TextIO, stdout: TextIO) -> int:
    def say(text: str = "", end: str = "\n") -> None:
        stdout.write(text + end)
        stdout.flush()

    def tutor_turn() -> None:
        stdout.write("tutor> ")
        try:
            for piece in session.reply():
                stdout.write(piece)
                stdout.flush()
        except KeyboardInterrupt:  # stop this reply, keep the chat
            say(" [interrupted]")
            return
        say()

    say(f"Socratic tutor ({config.model}). {HELP}.")
    if session.start is not None:
        say(f"[{session.start.id}] {session.context}" if session.context else f"[{session.start.id}]")
        for turn in session.turns:
            say(f"{'you' if turn.role == 'student' else 'tutor'}> {turn.text}")
        tutor_turn()
    while True:
        stdout.write("you> ")
        stdout.flush()
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line:  # end of input
            say()
            return 0
        text = line.strip()
        if not text:
            continue
        if text in {"/quit", "/exit", "/q"}:
            say("bye")
            return 0
        if text == "/reset":
            session.reset()
            say("(conversation reset)")
            continue
        if text in {"/help", "/?"}:
            say(HELP)
            continue
        session.add_student(text)
        tutor_turn()
