"""Core shapes: records, JSONL I/O, rendering, scores, cache, spec parsing."""

from __future__ import annotations

import os
import signal

import pytest
from pydantic import BaseModel, field_serializer

from socratic.backends import FakeBackend, GenerationOptions, cut_at_turn_end
from socratic.errors import InputError, SocraticError
from socratic.records import Dialogue, Turn
from socratic.render import ANSWER_KEY_MARKER, CONTEXT_MARKER, default_system_prompt, render_messages
from socratic.scores import Scores, summary_score
from socratic.specs import parse_model_spec as parse_spec
from socratic.store.cache import Cache, content_key
from socratic.store.jsonl import JsonlAppender, read_jsonl, write_jsonl


def make_dialogue(**kw) -> Dialogue:
    base = {"id": "d1", "source": "test", "context": "Solve 2x = 6.",
            "turns": [Turn(role="student", text="I got x = 4.")], "reference": "x = 3"}
    return Dialogue(**(base | kw))


def test_dialogue_must_end_on_student():
    with pytest.raises(ValueError, match="end on a student turn"):
        make_dialogue(turns=[Turn(role="student", text="hi"), Turn(role="tutor", text="hello")])


def test_render_messages_puts_prompt_and_context_in_system():
    messages = render_messages(make_dialogue())
    assert messages[0]["role"] == "system"
    assert messages[0]["content"].startswith(default_system_prompt())
    assert "Solve 2x = 6." in messages[0]["content"]
    assert messages[1:] == [{"role": "user", "content": "I got x = 4."}]


def test_the_answer_key_goes_after_the_context_only_when_asked():
    plain = render_messages(make_dialogue())
    keyed = render_messages(make_dialogue(), answer_key=True)
    assert render_messages(make_dialogue(), answer_key=False) == plain  # off: exactly as before
    assert keyed[0]["content"] == plain[0]["content"] + ANSWER_KEY_MARKER + "x = 3"
    assert keyed[1:] == plain[1:]  # the student's side is untouched
    assert "x = 3" not in plain[0]["content"]
    # no reference, no key; no context, the key alone after the marker training shortens from
    assert render_messages(make_dialogue(reference=None), answer_key=True) == render_messages(
        make_dialogue(reference=None))
    bare = render_messages(make_dialogue(context=""), answer_key=True)[0]["content"]
    assert bare == default_system_prompt() + CONTEXT_MARKER + ANSWER_KEY_MARKER.lstrip("\n") + "x = 3"
    own = render_messages(make_dialogue(), "Only ask.", answer_key=True)[0]["content"]
    assert own == "Only ask." + CONTEXT_MARKER + "Solve 2x = 6." + ANSWER_KEY_MARKER + "x = 3"


def test_summary_formulas():
    best = Scores(questions=True, on_topic=5, helpful=5, reveal_answer=False)
    worst = Scores(questions=False, on_topic=1, helpful=1, reveal_answer=True)
    assert summary_score(best) == 1.0 and summary_score(worst) == 0.0
    assert summary_score(best, "reference") == pytest.approx(1.0)
    assert summary_score(worst, "reference") == pytest.approx(0.1)
    mid = Scores(questions=True, on_topic=3, helpful=2, reveal_answer=True)
    assert summary_score(mid) == pytest.approx((1 + 0 + 0.5 + 0.25) / 4)


def test_read_jsonl_names_file_line_and_field(tmp_path):
    path = tmp_path / "d.jsonl"
    good = make_dialogue().model_dump_json()
    path.write_text(good + "\n" + '{"id": "x", "source": "s", "turns": [{"role": "student", "text": ""}]}\n')
    with pytest.raises(InputError) as info:
        read_jsonl(path, Dialogue)
    assert str(info.value).startswith(f"{path}:2: field 'turns.0.text'")


def test_torn_tail_is_dropped_and_repaired(tmp_path):
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [make_dialogue(id="a")])
    with path.open("a") as f:
        f.write('{"id": "b", "sour')  # a kill in the middle of a write
    assert [d.id for d in read_jsonl(path, Dialogue, tolerate_torn_tail=True)] == ["a"]
    with JsonlAppender(path) as out:
        out.write(make_dialogue(id="c"))
    assert [d.id for d in read_jsonl(path, Dialogue)] == ["a", "c"]


def test_ctrl_c_while_a_record_is_serialized_lands_after_the_whole_line(tmp_path):
    # CI once saw a SIGINT arrive inside pydantic's serializer: it came out as a PydanticSerializationError
    # and `socratic generate` ended with a traceback and exit 1 instead of 130 and the resume hint.
    class Interrupting(BaseModel):
        text: str

        @field_serializer("text")
        def _ctrl_c(self, text: str) -> str:
            os.kill(os.getpid(), signal.SIGINT)
            return text

    path = tmp_path / "out.jsonl"
    # Python's own Ctrl-C handler, as in a terminal: a suite started in the background (`make test &`) inherits
    # an ignored SIGINT, and then no Ctrl-C would ever arrive.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with JsonlAppender(path) as out, pytest.raises(KeyboardInterrupt):
            out.write(Interrupting(text="whole"))
        assert path.read_text() == '{"text":"whole"}\n'
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, inherited)


def test_cache_roundtrip(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    key = content_key("model", [{"role": "user", "content": "hi"}], {"seed": 0})
    assert cache.get(key) is None
    cache.put(key, ["reply"])
    assert Cache(tmp_path / "c.sqlite").get(key) == ["reply"]
    assert content_key("a", 1) != content_key("a", 2)


@pytest.mark.parametrize("raw, cut", [
    ("What is 2 + 2?\nStudent: 4", "What is 2 + 2?"),
    ("Teacher: What do you see?\nStudent: a cat", "What do you see?"),
    ("Good. Why?<|im_end|>junk", "Good. Why?"),
])
def test_cut_at_turn_end(raw, cut):
    assert cut_at_turn_end(raw) == cut


def test_parse_spec_rejects_unknown():
    assert parse_spec("hf:/tmp/x") == ("hf", "/tmp/x")
    assert parse_spec("openai:gpt-4o@http://127.0.0.1:9/v1") == ("openai", "gpt-4o@http://127.0.0.1:9/v1")
    with pytest.raises(SocraticError, match="unknown model spec"):
        parse_spec("gpt5")


def test_fake_backend_queue():
    fake = FakeBackend(["a", "b"])
    assert fake.generate([[{"role": "user", "content": "x"}]], GenerationOptions(n=3)) == [["a", "b", "b"]]
