"""`socratic chat`: the session logic on a fake backend, the CLI loop, and the real embedded model through a pipe.

    .venv/bin/python -m pytest -q tests/serve/test_chat.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socratic.backends import FakeBackend, GenerationOptions
from socratic.cli import app
from socratic.errors import SocraticError
from socratic.records import Dialogue, Turn
from socratic.render import default_system_prompt
from socratic.serve.chat import ChatSession, parse_start

runner = CliRunner()
SOCRATIC = Path(sys.executable).parent / "socratic"


def recording_backend(reply="What have you tried?"):
    return FakeBackend(responder=lambda messages, options: reply)


def test_session_renders_history_with_the_tutor_prompt():
    backend = recording_backend()
    session = ChatSession(backend, GenerationOptions())
    assert "".join(session.ask("How do I solve x^2-4=0?")) == "What have you tried?"
    "".join(session.ask("I moved the 4."))
    messages, _ = backend.calls[-1]
    assert messages == [
        {"role": "system", "content": default_system_prompt()},
        {"role": "user", "content": "How do I solve x^2-4=0?"},
        {"role": "assistant", "content": "What have you tried?"},
        {"role": "user", "content": "I moved the 4."},
    ]
    assert [t.role for t in session.turns] == ["student", "tutor", "student", "tutor"]


def test_reset_forgets_the_turns_but_keeps_the_dataset_context():
    start = Dialogue(id="d1", source="mathdial", context="Natalia sold 48 clips.",
                     turns=(Turn(role="student", text="Is it 72?"),), reference="72")
    backend = recording_backend()
    session = ChatSession(backend, GenerationOptions(), system_prompt="Be Socratic.", start=start)
    assert session.awaiting_reply
    "".join(session.reply())
    session.reset()
    "".join(session.ask("New question."))
    messages, _ = backend.calls[-1]
    assert messages == [{"role": "system", "content": "Be Socratic.\n\nThe student is working on this:\n"
                                                      "Natalia sold 48 clips."},
                        {"role": "user", "content": "New question."}]


def test_a_missing_reply_merges_the_next_student_message():
    session = ChatSession(recording_backend(""), GenerationOptions())
    "".join(session.ask("first"))  # the model said nothing: no empty tutor turn is stored
    session.add_student("second")
    assert session.turns == [Turn(role="student", text="first\nsecond")]
    with pytest.raises(ValueError):
        session.add_student("   ")


def test_the_answer_key_of_a_dataset_dialogue_reaches_the_tutor_only():
    from socratic.serve.chat import ChatConfig, open_session

    seen = []
    backend = FakeBackend(responder=lambda messages, options: seen.append(messages) or "Which step?")
    start = Dialogue(id="m-test-1", source="mathdial", context="Problem: 2x = 6",
                     turns=(Turn(role="student", text="x = 4?"),), reference="2x = 6, so x = 3\nFinal answer: 3")
    session = ChatSession(backend, GenerationOptions(), start=start, answer_key=True)
    assert "".join(session.reply()) == "Which step?"
    assert seen[0][0]["content"].endswith("(never give it to the student; use it to find where the student went "
                                          "wrong):\n2x = 6, so x = 3\nFinal answer: 3")
    assert all("Final answer" not in m["content"] for m in seen[0][1:])
    assert "Final answer" not in "".join(t.text for t in session.turns)
    with pytest.raises(SocraticError, match="--answer-key gives the tutor the reference of a --from dialogue"):
        open_session(ChatConfig(model="fake:x", answer_key=True))


def test_parse_start():
    assert parse_start("mathdial:mathdial-test-0007", None) == ("mathdial", "test", "mathdial-test-0007")
    assert parse_start("debugging:debugging-train-0003", None) == ("debugging", "train", "debugging-train-0003")
    assert parse_start("runs/my.jsonl:abc", "dev") == ("runs/my.jsonl", "dev", "abc")
    assert parse_start("tutorchat:x1", None) == ("tutorchat", "test", "x1")
    with pytest.raises(SocraticError, match="DATASET:ID"):
        parse_start("mathdial-test-0007", None)


def test_cli_interactive_reset_and_quit():
    result = runner.invoke(app, ["chat", "--model", "fake:Which step comes first?", "--interactive"],
                           input="How do I solve x^2-4=0?\n\n/help\n/reset\nAnd 2x=6?\n/quit\nnever read\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("tutor> Which step comes first?") == 2
    assert "(conversation reset)" in out and "/reset starts over" in out
    assert out.rstrip().endswith("bye")


def test_cli_interactive_ends_at_end_of_input():
    result = runner.invoke(app, ["chat", "--model", "fake:Why?", "--interactive"], input="hi\n")
    assert result.exit_code == 0 and "tutor> Why?" in result.output


def test_cli_non_interactive_prints_one_reply():
    result = runner.invoke(app, ["chat", "--model", "fake:What do you notice?"], input="line one\nline two\n")
    assert result.exit_code == 0
    assert result.output == "What do you notice?\n"


def test_cli_from_dataset_dialogue_answers_it():
    seen = []
    backend = FakeBackend(responder=lambda messages, options: seen.append(messages) or "What is 48 / 2?")
    from socratic.backends import _LOADED

    _LOADED["fake:from-test"] = backend
    try:
        result = runner.invoke(app, ["chat", "--model", "fake:from-test", "--from", "mathdial:mathdial-test-0007"],
                               input="")
    finally:
        _LOADED.pop("fake:from-test")
    assert result.exit_code == 0, result.output
    assert result.output == "What is 48 / 2?\n"
    from socratic.data import get_dialogue

    dialogue = get_dialogue("mathdial", "test", "mathdial-test-0007")
    assert seen[0][-1] == {"role": "user", "content": dialogue.turns[-1].text}
    assert dialogue.context in seen[0][0]["content"]


def test_cli_errors_are_one_line_and_exit_2(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([str(SOCRATIC), "chat", "--model", "fake:x", "--from", "mathdial:nope-test-1"],
                          input="", check=False, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2
    assert "no dialogue 'nope-test-1' in mathdial test" in done.stderr
    done = subprocess.run([str(SOCRATIC), "chat", "--model", "fake:x"], input="", capture_output=True, text=True,
                          check=False, env=env, timeout=300)
    assert done.returncode == 2 and "nothing on stdin" in done.stderr


@pytest.mark.slow
def test_piped_question_gets_a_real_reply_from_the_embedded_model():
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(f"echo 'How do I solve x^2-4=0?' | {SOCRATIC} chat --max-new-tokens 32", shell=True,
                          check=False, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    reply = done.stdout.strip()
    assert len(reply) > 5 and sum(c.isalpha() for c in reply) > 5, reply
    assert "<|im_" not in reply and "Student:" not in reply
