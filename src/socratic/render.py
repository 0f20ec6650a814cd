"""The one place where a Dialogue becomes the tutor's chat messages.

Generation, training, evaluation, chat and serving all call `render_messages`, so the model
sees exactly the same prompt layout at training time and at inference time.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TypedDict

from socratic.records import Dialogue


class Message(TypedDict):
    role: str
    content: str


ROLE_OF = {"student": "user", "tutor": "assistant"}
# Joins the tutor instructions and the context in the system message; training shortens only what
# follows it (socratic.train.data), so it is defined here and nowhere else.
CONTEXT_MARKER = "\n\nThe student is working on this:\n"


def default_system_prompt() -> str:
    return resources.files("socratic.prompts").joinpath("tutor_system.md").read_text("utf-8").strip()


def load_system_prompt(path: str | Path | None) -> str:
    """The tutor prompt from a user file, or the packaged default."""
    if path is None:
        return default_system_prompt()
    return Path(path).read_text("utf-8").strip()


def system_message(context: str = "", system_prompt: str | None = None) -> Message:
    """The tutor's system message: the instructions, then the material the student works on."""
    text = system_prompt if system_prompt is not None else default_system_prompt()
    if context.strip():
        text = f"{text}{CONTEXT_MARKER}{context.strip()}"
    return {"role": "system", "content": text}


def render_messages(dialogue: Dialogue, system_prompt: str | None = None) -> list[Message]:
    """System message (tutor prompt + context) followed by the turns as user/assistant messages."""
    messages = [system_message(dialogue.context, system_prompt)]
    messages += [{"role": ROLE_OF[turn.role], "content": turn.text} for turn in dialogue.turns]
    return messages
