"""The pressure test (issue 27): scripted pushes for the answer, the tutor's reply to each, the leak rate
after each push; the pure summary on hand-made replies and the flow on fake models (resumable)."""

from __future__ import annotations

import json

import pytest

from fakes.judges import FakeJudge
from socratic.backends import FakeBackend
from socratic.evaluate import evaluation as evaluate
from socratic.evaluate.config import MAX_PUSHES
from socratic.evaluate.pressure import PUSHES, PressureReply, pressure_items, pushed, summarize_pressure
from socratic.evaluate.result import Evaluation
from socratic.records import Dialogue, Turn
from socratic.store.jsonl import read_jsonl


def item(i: int, answer: str | None = "35", student: str = "I got 40 pages.") -> Dialogue:
    return Dialogue(id=f"m{i}", source="mathdial", context="Problem: a 100 page book in 3 days.",
                    turns=(Turn(role="student", text=student),),
                    reference=None if answer is None else f"100 - 65 = {answer}\nFinal answer: {answer}")


def test_only_items_with_an_answer_the_student_lacks_are_pushed():
    sets = {"mathdial": [item(0), item(1, answer=None), item(2, student="Is it 35?"), item(3), item(4)],
            "tutorchat": [item(5, answer=None)]}
    chosen = pressure_items(sets, limit=2)
    assert list(chosen) == ["mathdial"] and [d.id for d in chosen["mathdial"]] == ["m0", "m3"]
    assert [d.id for d in pressure_items(sets, limit=None)["mathdial"]] == ["m0", "m3", "m4"]


def test_the_pushed_conversation_alternates_tutor_replies_and_pushes():
    d = pushed(item(0), ["Why 40?", "   "])
    assert [t.role for t in d.turns] == ["student", "tutor", "student", "tutor", "student"]
    assert d.turns[1].text == "Why 40?" and d.turns[2].text == PUSHES[0][1]
    assert d.turns[3].text == "(no reply)" and d.turns[4].text == PUSHES[1][1]  # an empty reply still is a turn
    assert not any(ch.isdigit() for _, text in PUSHES for ch in text)  # a push never carries the answer


def _push(model: str, i: int, push: int, reply: str) -> PressureReply:
    return PressureReply(model=model, spec=model, dataset="mathdial", id=f"m{i}", push=push, reply=reply, settings="s")


def test_summary_counts_leaks_after_each_push_and_so_far():
    items = {"mathdial": [item(i) for i in range(4)]}
    first = {(m, "mathdial", f"m{i}"): "Why 40?" for m in ("base", "tuned") for i in range(4)}
    first[("base", "mathdial", "m0")] = "It is 35."
    # base gives in at push 1 on every item; tuned holds, then leaks at push 2 on one item only.
    replies = [_push("base", i, p, "Fine: 35." if p == 1 else "Think again?") for i in range(4) for p in (1, 2)]
    replies += [_push("tuned", i, p, "35, then." if (i, p) == (1, 2) else "What did he read?")
                for i in range(4) for p in (1, 2)]
    result = summarize_pressure(items, first, replies, models=["base", "tuned"], pushes=2, n_resamples=200)
    assert result.items == {"mathdial": 4} and [p["kind"] for p in result.pushes] == ["direct request", "distress"]
    assert result.turn("base", "mathdial", 0).leak.mean == 0.25
    assert result.turn("base", "mathdial", 1).leak.mean == 1.0 and result.turn("base", "mathdial", 1).phrasing == \
        "direct request"
    assert result.turn("base", "mathdial", 2).leak.mean == 0.0
    assert result.turn("base", "mathdial", 2).leaked_so_far.mean == 1.0
    assert result.turn("tuned", "mathdial", 2).leak.mean == 0.25
    assert result.turn("tuned", "mathdial", 2).leaked_so_far.mean == 0.25
    assert result.diff("leak@1", "tuned", "mathdial").diff == -1.0
    assert result.diff("leaked_by@2", "tuned", "mathdial").diff == pytest.approx(-0.75)
    assert result.diff("leak@0", "tuned", "mathdial").diff == -0.25


def _tutor(give_in_at: int):
    """A scripted tutor that states the answer once the student has pushed `give_in_at` times."""
    def respond(messages, options):
        pushes = sum(m["content"] in {text for _, text in PUSHES} for m in messages if m["role"] == "user")
        return "Fine, it is 35." if pushes >= give_in_at else "What did he read on day one?"
    return respond


def test_pressure_flow_on_fake_models_is_resumable(tmp_path, monkeypatch):
    backends = {"fake:base": FakeBackend(responder=_tutor(1), spec="fake:base"),
                "fake:tuned": FakeBackend(responder=_tutor(3), spec="fake:tuned")}
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: backends[spec])
    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: FakeJudge(spec))
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: [item(i) for i in range(5)])
    config = evaluate.EvaluateConfig(models={"base": "fake:base", "tuned": "fake:tuned"}, datasets=["mathdial"],
                                     judges=["fake-judge"], out=tmp_path / "eval", n_resamples=200, batch_size=2,
                                     pressure=True, pressure_limit=4, no_cache=True)
    evaluation = Evaluation.read(evaluate.run(config))
    pressure = evaluation.pressure
    assert pressure.items == {"mathdial": 4} and len(pressure.pushes) == 3
    assert [pressure.turn("base", "mathdial", p).leak.mean for p in range(4)] == [0.0, 1.0, 1.0, 1.0]
    assert [pressure.turn("tuned", "mathdial", p).leak.mean for p in range(4)] == [0.0, 0.0, 0.0, 1.0]
    assert pressure.diff("leak@1", "tuned", "mathdial").diff == -1.0
    records = read_jsonl(tmp_path / "eval" / "pressure.jsonl", PressureReply)
    assert len(records) == 2 * 4 * 3  # models x items x pushes
    calls = {spec: len(b.calls) for spec, b in backends.items()}
    again = Evaluation.read(evaluate.run(config))
    assert {spec: len(b.calls) for spec, b in backends.items()} == calls  # nothing generated twice
    assert json.loads(again.pressure.model_dump_json()) == json.loads(pressure.model_dump_json())


def test_no_pressure_test_unless_asked(tmp_path, monkeypatch):
    backend = FakeBackend(["Why?"], spec="fake:base")
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: backend)
    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: FakeJudge(spec))
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: [item(i) for i in range(2)])
    config = evaluate.EvaluateConfig(models={"base": "fake:base"}, datasets=["mathdial"], judges=["fake-judge"],
                                     out=tmp_path / "eval", n_resamples=200, no_cache=True)
    assert Evaluation.read(evaluate.run(config)).pressure is None
    assert not (tmp_path / "eval" / "pressure.jsonl").exists()


def test_the_evaluate_command_runs_the_pressure_test_when_asked(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from socratic.cli import app

    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: FakeJudge(spec))
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: [item(i) for i in range(4)])
    result = CliRunner().invoke(app, [
        "evaluate", "--model", "base=fake:It is 35.", "--model", "tuned=fake:What is step one?",
        "--dataset", "mathdial", "--judge", "rubric", "--pressure", "--pressure-limit", "3", "--no-cache",
        "--no-report", "-o", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    pressure = Evaluation.read(tmp_path / "ev" / "evaluation.json").pressure
    assert pressure.items == {"mathdial": 3}
    assert pressure.turn("base", "mathdial", 3).leak.mean == 1.0 and pressure.turn("tuned", "mathdial", 3).leak.mean == 0
    assert "pressure test" in result.output


def test_the_config_allows_exactly_the_scripted_pushes():
    # EvaluateConfig lives apart from the pressure test (the CLI reads it without numpy): its bound is a copy.
    assert len(PUSHES) == MAX_PUSHES
