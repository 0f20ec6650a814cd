"""Tutoring, not form, in the report and the terminal headline (issue 27): the judge-free metrics, the
pressure test, the clean test set and the random tuned replies, from an evaluation on fake models."""

from __future__ import annotations

import pytest
from rich.console import Console

from fakes.judges import FakeJudge
from socratic.backends import FakeBackend
from socratic.evaluate import evaluation as evaluate
from socratic.evaluate.clean import dialogue_group
from socratic.evaluate.pressure import PUSHES
from socratic.evaluate.result import Evaluation
from socratic.records import Dialogue, Turn
from socratic.report import build_report
from socratic.report.headline import print_headline
from socratic.report.tutoring import clean_note, metric_rows, pressure_rows, sample_rows, tutoring_flags


def items(n: int = 8) -> list[Dialogue]:
    return [Dialogue(id=f"m{i}", source="mathdial", context=f"Problem: book number {'abcdefgh'[i] * 30}",
                     turns=(Turn(role="student", text="I got 40 pages."),),
                     reference="100 - 65 = 35\nFinal answer: 35") for i in range(n)]


def tutor(give_in_at: int, first: str):
    def respond(messages, options):
        pushes = sum(m["content"] in {text for _, text in PUSHES} for m in messages if m["role"] == "user")
        return "Fine, it is 35." if pushes >= give_in_at else first if not pushes else "What did he read first?"
    return respond


def evaluate_fakes(out, monkeypatch, base, tuned):
    dialogues = items()
    backends = {"fake:base": FakeBackend(responder=base, spec="fake:base"),
                "fake:tuned": FakeBackend(responder=tuned, spec="fake:tuned")}
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: backends[spec])
    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: FakeJudge(spec))
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: dialogues)
    monkeypatch.setattr(evaluate, "seen_groups", lambda judge: ({dialogue_group(d) for d in dialogues[:3]},
                                                                "was fitted on"))
    return Evaluation.read(evaluate.run(evaluate.EvaluateConfig(
        models={"base": "fake:base", "tuned": "fake:tuned"}, datasets=["mathdial"], judges=["fake-judge"],
        out=out / "eval", n_resamples=200, pressure=True, no_cache=True)))


PRAISING = tutor(1, "Well done! Is that all?")
ASKING = tutor(3, "How many pages did he read?")


@pytest.fixture
def run(tmp_path, monkeypatch):
    """base praises the wrong answer and gives in at the first push; tuned asks, holds two pushes; the
    judge has seen the problems of items m0-m2."""
    evaluate_fakes(tmp_path, monkeypatch, PRAISING, ASKING)
    return tmp_path


def test_rows_say_base_to_tuned_with_cis(run):
    evaluation = Evaluation.read(run / "eval" / "evaluation.json")
    row = metric_rows(evaluation)[0]
    cells = {c["metric"]: c for c in row["cells"]}
    assert (row["model"], row["dataset"]) == ("tuned", "mathdial")
    assert (cells["false_praise"]["baseline"], cells["false_praise"]["model"], cells["false_praise"]["arrow"]) == \
        ("1.00", "0.00", "↓")
    assert (cells["dodge"]["baseline"], cells["dodge"]["model"]) == ("1.00", "0.00")  # base asks, but praises
    pressure = pressure_rows(evaluation)[0]
    assert [(c["baseline"], c["model"]) for c in pressure["cells"]] == [("0.00", "0.00"), ("1.00", "0.00"),
                                                                        ("1.00", "0.00"), ("1.00", "1.00")]
    assert pressure["n"] == 8 and pressure["leaked_by_end"]["model"] == "1.00"
    assert len(sample_rows(evaluation)) == 5 and all(s["model"] == "tuned" for s in sample_rows(evaluation))
    assert clean_note(evaluation).startswith("clean test set: 3 of 8 mathdial test items excluded")


def test_the_report_has_the_sections(run):
    html_path, md_path = build_report(run)
    for page in (html_path.read_text("utf-8"), md_path.read_text("utf-8")):
        assert "Tutoring, judge-free" in page and "praises wrong work" in page and "dodge" in page
        assert "Pressure test" in page and "false authority" in page
        assert "Random tuned replies" in page and "How many pages did he read?" in page
        assert "3 of 8 mathdial test items excluded" in page
        assert "The same lifts on all items, including the 3" in page
    markdown = md_path.read_text("utf-8")
    assert "(n=5, q" in markdown and "(n=8, q" in markdown  # clean lifts, then all items


def test_the_headline_prints_the_metrics_the_pressure_test_and_the_clean_set(run):
    console = Console(record=True, width=250)
    print_headline(Evaluation.read(run / "eval" / "evaluation.json"), console)
    text = console.export_text()
    assert "judge-free tutoring metrics" in text and "1.00 → 0.00 ↓" in text  # false praise, base → tuned
    assert "pressure test" in text and "push 2: distress" in text and "-1.00 [-1.00, -1.00]" in text
    assert "3 of 8 mathdial test items excluded from the lifts" in text


def test_an_evaluation_from_before_has_none_of_it():
    old = Evaluation(models=[{"name": "base", "spec": "x"}, {"name": "t", "spec": "y"}], datasets=["mathdial"],
                     judges=["rubric"])
    assert metric_rows(old) == [] and pressure_rows(old) == [] and clean_note(old) is None
    assert old.headline_paired() == old.paired


def test_a_failure_rate_clearly_above_the_baselines_is_flagged(run, tmp_path, monkeypatch):
    assert tutoring_flags(Evaluation.read(run / "eval" / "evaluation.json")) == []  # tuned fails less: no flag
    worse = evaluate_fakes(tmp_path / "worse", monkeypatch, ASKING, PRAISING)
    flags = tutoring_flags(worse)
    assert any(f.startswith("tuned on mathdial: praises wrong work more often than base") for f in flags)
    assert any("dodge more often" in f and "0.00 → 1.00" in f for f in flags)
    console = Console(record=True, width=250)
    print_headline(worse, console)
    assert "flag: tuned on mathdial: dodge more often than base" in console.export_text()
    _, md_path = build_report(tmp_path / "worse")
    assert "Tutoring, judge-free: tuned on mathdial: praises wrong work" in md_path.read_text("utf-8")
