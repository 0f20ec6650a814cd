"""The one place where a Dialogue becomes the tutor's chat messages.

Generation, training, evaluation, chat and serving all call `render_messages`, so the model
sees exactly the same prompt layout at training time and at inference time.

With `answer_key=True` the dialogue's reference (MathDial: the worked solution and final answer;
Debugging: the bug and its fix) goes into the system message after the context, under a heading that
tells the tutor it is for its eyes only: MathDial's teachers had the solution in front of them, and a
tutor that knows the answer can find the student's error. The student never sees the system message;
that the tutor does not hand the key over is what the leak metrics and the pressure test watch
(docs/tutoring-metrics.md, docs/teachers.md).
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
# follows it (socratic.train.rows), so it is defined here and nowhere else.
CONTEXT_MARKER = "\n\nThe student is working on this:\n"
# Opens the answer key, after the context (so training, which shortens the context from its middle,
# keeps the key's end: the final answer).
ANSWER_KEY_MARKER = ("\n\nThe answer key, for you only (never give it to the student; use it to find where "
                     "the student went wrong):\n")


def default_system_prompt() -> str:
    return resources.files("socratic.prompts").joinpath("tutor_system.md").read_text("utf-8").strip()


def load_system_prompt(path: str | Path | None) -> str:
    """The tutor prompt from a user file, or the packaged default."""
    if path is None:
        return default_system_prompt()
    return Path(path).read_text("utf-8").strip()


def system_message(context: str = "", system_prompt: str | None = None, answer_key: str | None = None) -> Message:
    """The tutor's system message: the instructions, then the material the student works on, then the
    answer key when one is given (the reference the tutor must not hand over)."""
    text = system_prompt if system_prompt is not None else default_system_prompt()
    material = context.strip()
    if answer_key is not None and answer_key.strip():
        material = f"{material}{ANSWER_KEY_MARKER}{answer_key.strip()}".lstrip("\n")
    if material:
        text = f"{text}{CONTEXT_MARKER}{material}"
    return {"role": "system", "content": text}


def render_messages(dialogue: Dialogue, system_prompt: str | None = None, *,
                    answer_key: bool = False) -> list[Message]:
    """System message (tutor prompt + context, + the dialogue's reference as the answer key when asked)
    followed by the turns as user/assistant messages."""
    key = dialogue.reference if answer_key else None
    messages = [system_message(dialogue.context, system_prompt, key)]
    messages += [{"role": ROLE_OF[turn.role], "content": turn.text} for turn in dialogue.turns]
    return messages
