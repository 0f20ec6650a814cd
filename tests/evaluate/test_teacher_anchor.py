"""The real teacher's turn as the anchor of an evaluation (socratic.evaluate.teacher): the win rate
against the teacher, known judgments in -> known numbers out, and the teacher as a reply source."""

from __future__ import annotations

import pytest

from socratic.evaluate.config import EvaluateConfig
from socratic.evaluate.teacher import TEACHER, outcomes, summarize_teacher, teacher_replies
from socratic.records import Dialogue
from socratic.scores import Judgment, Scores


def _dialogue(i: int, teacher: str | None = "How many apples are left?") -> Dialogue:
    meta = {"teacher_reply": teacher} if teacher else {}
    return Dialogue(id=f"mathdial-raw-test-{i}-0-t1", source="mathdial-raw", split="test", context="Problem",
                    turns=[{"role": "student", "text": "I got 5."}], reference="Final answer: 4", meta=meta)


def _judgment(i: int, model: str, questions: bool, helpful: int, judge: str = "rubric") -> Judgment:
    scores = Scores(questions=questions, on_topic=5, helpful=helpful, reveal_answer=False)
    return Judgment(dialogue=_dialogue(i), reply=f"{model} {i}", judge=judge, scores=scores,
                    meta={"model": model, "dataset": "mathdial-raw"})


def test_outcomes_count_ties_half():
    assert outcomes([(0.9, 0.5), (0.5, 0.5), (0.2, 0.7)]) == [1.0, 0.5, 0.0]


def test_win_rates_from_known_judgments():
    # teacher: helpful 4 with a question on all 4 items; tuned wins item 0, ties item 1, loses items 2-3
    judgments = [_judgment(i, TEACHER, True, 4) for i in range(4)]
    judgments += [_judgment(0, "tuned", True, 5), _judgment(1, "tuned", True, 4), _judgment(2, "tuned", True, 2),
                  _judgment(3, "tuned", False, 1)]
    judgments += [_judgment(i, "base", False, 1) for i in range(4)]
    anchor = summarize_teacher(judgments, models=["base", "tuned"], datasets=["mathdial-raw"], judges=["rubric"],
                               excluded={"mathdial-raw": ["mathdial-raw-test-3-0-t1"]}, n_resamples=200)
    tuned_all = anchor.win_rate("tuned", "mathdial-raw", "rubric", "all")
    assert (tuned_all.wins, tuned_all.ties, tuned_all.losses, tuned_all.n) == (1, 1, 2, 4)
    assert tuned_all.win_rate.mean == pytest.approx(1.5 / 4)
    tuned_clean = anchor.win_rate("tuned", "mathdial-raw", "rubric", "clean")
    assert tuned_clean.n == 3 and tuned_clean.win_rate.mean == pytest.approx(1.5 / 3)
    assert anchor.win_rate("base", "mathdial-raw", "rubric").win_rate.mean == 0.0
    assert anchor.items == {"mathdial-raw": 4}
    assert anchor.scores[0].model == TEACHER and anchor.scores[0].n == 4


def test_no_teacher_no_section():
    assert summarize_teacher([_judgment(0, "base", True, 3)], models=["base"], datasets=["mathdial-raw"],
                             judges=["rubric"]) is None


def test_teacher_replies_only_where_an_item_carries_one():
    replies = teacher_replies({"mathdial-raw": [_dialogue(0), _dialogue(1, teacher=None)]})
    assert [(r.model, r.dialogue.id, r.reply) for r in replies] == [
        (TEACHER, "mathdial-raw-test-0-0-t1", "How many apples are left?")]


def test_teacher_is_a_reserved_model_name(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        EvaluateConfig(models={TEACHER: "embedded"}, out=tmp_path)


def test_an_evaluation_with_teacher_turns_reports_the_win_rate_everywhere(monkeypatch, tmp_path):
    """Flow on fakes: teacher rows in replies.jsonl, judged, the teacher section in evaluation.json, the
    report (HTML and Markdown) and the terminal headline, and no teacher among the models' lifts."""
    import io
    import json

    from rich.console import Console

    from fakes.judges import FakeJudge
    from socratic.backends import FakeBackend
    from socratic.evaluate import evaluation as evaluate
    from socratic.evaluate.result import Evaluation
    from socratic.report import build_report
    from socratic.report.headline import print_headline

    items = [_dialogue(i, teacher="What did you subtract?") for i in range(4)]
    backends = {"fake:base": FakeBackend(["The answer is 4."], spec="fake:base"),
                "fake:tuned": FakeBackend(["Which number is left?"], spec="fake:tuned")}
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: backends[spec])
    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: FakeJudge(spec))
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: items)
    out = tmp_path / "eval"
    evaluate.run(EvaluateConfig(models={"base": "fake:base", "tuned": "fake:tuned"}, datasets=["mathdial-raw"],
                                judges=["rubric"], out=out, n_resamples=200))

    rows = [json.loads(line) for line in (out / "replies.jsonl").read_text().splitlines()]
    assert [r["reply"] for r in rows if r["model"] == TEACHER] == ["What did you subtract?"] * 4
    evaluation = Evaluation.read(out / "evaluation.json")
    assert [m.name for m in evaluation.models] == ["base", "tuned"]
    assert {p.model for p in evaluation.paired} == {"tuned"}  # the teacher is not a model with a lift
    # FakeJudge: a question scores above a stated answer; the teacher and tuned both ask -> ties
    assert evaluation.teacher.win_rate("base", "mathdial-raw", "rubric").win_rate.mean == 0.0
    assert evaluation.teacher.win_rate("tuned", "mathdial-raw", "rubric").win_rate.mean == 0.5
    assert evaluation.tutoring.rate("asks_question", TEACHER, "mathdial-raw").rate.mean == 1.0

    html, md = build_report(out)
    assert "Against the real teacher" in html.read_text() and "Against the real teacher" in md.read_text()
    buffer = io.StringIO()
    print_headline(evaluation, Console(file=buffer, width=200))
    headline = buffer.getvalue()
    assert "against the real teacher" in headline
    assert headline.index("against the real teacher") < headline.index("summary lift")


def test_the_teacher_section_speaks_only_of_test_sets_with_teacher_turns(monkeypatch, tmp_path):
    """A run with a teacher-referenced set beside an ordinary one: the teacher's own scores name only the first
    (no "mathdial by rubric – (n=0)"), and with nothing left out there is one win-rate table, not two alike."""
    from fakes.judges import FakeJudge
    from socratic.backends import FakeBackend
    from socratic.evaluate import evaluation as evaluate
    from socratic.report import build_report

    with_teacher = [_dialogue(i, teacher="What did you subtract?") for i in range(3)]
    without = [d.model_copy(update={"id": f"plain-{i}", "meta": {}}) for i, d in enumerate(with_teacher)]
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: FakeBackend(["Which number is left?"], spec=spec))
    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: FakeJudge(spec))
    monkeypatch.setattr(evaluate, "_load_dialogues",
                        lambda source, split: with_teacher if source == "mathdial-raw" else without)
    out = tmp_path / "eval"
    evaluate.run(EvaluateConfig(models={"base": "fake:base", "tuned": "fake:tuned"},
                                datasets=["mathdial", "mathdial-raw"], judges=["rubric"], out=out, n_resamples=200))

    _, md = build_report(out)
    section = md.read_text().split("## Against the real teacher")[1].split("\n## ")[0]
    assert "mathdial-raw by rubric" in section
    assert "mathdial by rubric" not in section and "(n=0)" not in section
    assert "On all items" not in section
