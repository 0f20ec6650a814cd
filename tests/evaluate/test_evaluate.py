"""Evaluation: the flow with fake backends and a fake judge, resuming, and the pure aggregation."""

from __future__ import annotations

import json

import pytest

from fakes.data import dialogues
from fakes.judges import FakeJudge
from socratic.backends import FakeBackend
from socratic.errors import SocraticError
from socratic.evaluate import evaluation as evaluate
from socratic.evaluate import summary
from socratic.evaluate.changes import reply_change, summarize_changes
from socratic.evaluate.result import EvalReply
from socratic.render import render_messages
from socratic.scores import Judgment, Scores
from socratic.store.jsonl import read_jsonl


@pytest.fixture
def fakes(monkeypatch):
    backends = {
        "fake:base": FakeBackend(["The answer is 12."], spec="fake:base"),
        "fake:tuned": FakeBackend(["What do you think the first step is?"], spec="fake:tuned"),
    }
    judge = FakeJudge()
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: backends[spec])
    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: judge)
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: dialogues(source))
    return backends, judge


def config(tmp_path, **overrides) -> evaluate.EvaluateConfig:
    values = {"models": {"base": "fake:base", "tuned": "fake:tuned"}, "datasets": ["mathdial", "debugging"],
              "judges": ["fake-judge"], "out": tmp_path / "eval", "limit": 5, "max_new_tokens": 16,
              "batch_size": 2, "n_resamples": 500}
    return evaluate.EvaluateConfig(**{**values, **overrides})


def test_evaluate_flow_writes_replies_judgments_and_summary(tmp_path, fakes):
    backends, _ = fakes
    path = evaluate.run(config(tmp_path, training_judge="fake-judge"))
    result = json.loads(path.read_text())

    replies = read_jsonl(tmp_path / "eval" / "replies.jsonl", EvalReply)
    assert len(replies) == 2 * 2 * 5  # models x datasets x limit
    messages, options = backends["fake:base"].calls[0]
    assert messages == render_messages(dialogues("mathdial")[0])
    assert options.greedy and options.max_new_tokens == 16
    assert len(read_jsonl(tmp_path / "eval" / "judgments.jsonl", Judgment)) == 20

    base = summary.cell(result, "base", "mathdial")
    tuned = summary.cell(result, "tuned", "mathdial")
    # base: no question, on_topic 4, helpful 2, reveals -> (0 + 0 + 0.75 + 0.25) / 4
    assert base["summary"]["mean"] == pytest.approx(0.25) and base["summary"]["low"] == pytest.approx(0.25)
    assert tuned["summary"]["mean"] == pytest.approx(0.875)  # (1 + 1 + 0.75 + 0.75) / 4
    assert base["summary_reference"]["mean"] == pytest.approx(0.05 * 4 + 0.05 * 2)
    assert tuned["criteria"]["questions"]["mean"] == 1.0 and base["criteria"]["reveal_answer"]["mean"] == 1.0
    assert base["n"] == 5 and base["failed"] == 0

    paired = [p for p in result["paired"] if p["dataset"] == "mathdial" and p["formula"] == "uniform"]
    assert paired == [pytest.approx(paired[0])] and paired[0]["model"] == "tuned"
    assert paired[0]["diff"] == pytest.approx(0.625) and paired[0]["p_value"] < 0.01 and paired[0]["n"] == 5

    changes = {c["dataset"]: c for c in result["changes"]}
    assert changes["mathdial"]["counts"] == {"identical": 0, "form": 0, "content": 5}
    assert changes["mathdial"]["question_added"] == 5

    assert result["judges"] == ["fake-judge"] and result["training_judge"] == "fake-judge"
    assert "gaming its reward" in result["warnings"][0]
    assert result["paper_anchors"]["tuned"]["tutorchat"] == 1.0


def test_with_the_answer_key_every_prompt_carries_the_reference_and_no_keyless_reply_is_reused(
        tmp_path, fakes, monkeypatch):
    backends, _ = fakes
    keyed = [d.model_copy(update={"reference": f"Final answer: {i}"}) for i, d in enumerate(dialogues("mathdial"))]
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: keyed)
    settings = config(tmp_path, datasets=["mathdial"], no_cache=True)
    evaluate.run(settings)
    calls = len(backends["fake:base"].calls)
    assert backends["fake:base"].calls[0][0] == render_messages(keyed[0])
    with pytest.raises(SocraticError, match=r"answer_key: False there, True now"):
        evaluate.run(settings.model_copy(update={"answer_key": True}))  # a finished keyless one is kept
    evaluate.run(settings.model_copy(update={"answer_key": True, "overwrite": True}))
    assert len(backends["fake:base"].calls) > calls  # replies made without the key are not reused
    messages = backends["fake:base"].calls[calls][0]
    assert messages == render_messages(keyed[0], answer_key=True) and "Final answer: 0" in messages[0]["content"]


def test_no_warning_when_judges_differ(tmp_path, fakes):
    result = json.loads(evaluate.run(config(tmp_path, training_judge="rubric")).read_text())
    assert result["warnings"] == []


def test_the_reward_judge_warning_names_the_independent_judge_when_there_is_one():
    (alone,) = summary.judge_warnings(["rubric"], "rubric")
    assert "gaming its reward" in alone and "evaluate with a second, independent judge" in alone
    (side_by_side,) = summary.judge_warnings(["learned", "rubric", "rubric"], "rubric")
    assert "gaming its reward" in side_by_side and "second" not in side_by_side
    assert "Read the lift by learned, which did not rank the pairs, side by side" in side_by_side
    assert "Read the lift by learned and llm:x," in summary.judge_warnings(["rubric", "learned", "llm:x"], "rubric")[0]
    assert summary.judge_warnings(["learned"], "rubric") == summary.judge_warnings(["rubric"], None) == []


def test_judge_failures_are_counted_not_dropped(tmp_path, fakes, monkeypatch):
    backends, _ = fakes
    backends["fake:tuned"] = FakeBackend(responder=lambda m, o: "FAIL" if "result is 1." in m[-1]["content"]
                                         else "Why?", spec="fake:tuned")
    result = json.loads(evaluate.run(config(tmp_path)).read_text())
    tuned = summary.cell(result, "tuned", "mathdial")
    assert tuned["n"] == 5 and tuned["failed"] == 1 and tuned["judged"] == 4
    assert tuned["summary"]["n"] == 4 and tuned["errors"] == ["unparseable"]
    paired = next(p for p in result["paired"] if p["dataset"] == "mathdial")
    assert paired["n"] == 4  # only items judged for both models are paired


def test_evaluate_resumes_without_redoing_work(tmp_path, fakes):
    backends, _judge = fakes
    settings = config(tmp_path, no_cache=True)
    evaluate.run(settings)
    replies_path = tmp_path / "eval" / "replies.jsonl"
    lines = replies_path.read_text().splitlines(keepends=True)
    # An interruption: the last 3 replies lost, a torn line left behind, no judgments yet.
    replies_path.write_text("".join(lines[:-3]) + lines[-3][:25])
    (tmp_path / "eval" / "judgments.jsonl").unlink()
    calls_before = len(backends["fake:tuned"].calls)
    evaluate.run(settings)
    # Only the batches with a missing reply ask the model again (fixed batches of 2 by prompt length).
    assert 0 < len(backends["fake:tuned"].calls) - calls_before <= 4
    replies = read_jsonl(replies_path, EvalReply)
    keys = [(r.model, r.dataset, r.dialogue.id) for r in replies]
    assert len(keys) == len(set(keys)) == 20
    assert len(read_jsonl(tmp_path / "eval" / "judgments.jsonl", Judgment)) == 20


def test_replies_are_asked_in_batches_of_similar_length_and_listed_in_the_test_sets_order(tmp_path, fakes,
                                                                                          monkeypatch):
    backends, _ = fakes
    # Long and short prompts alternate in the dataset's order.
    long_and_short = [d.model_copy(update={"context": d.context + " and more" * (40 if i % 2 == 0 else 0)})
                      for i, d in enumerate(dialogues("mathdial"))]
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: long_and_short)
    evaluate.run(config(tmp_path, datasets=["mathdial"], limit=6, batch_size=3, no_cache=True, pressure=False))
    asked = [messages[0]["content"] for messages, _ in backends["fake:base"].calls]
    assert ["and more" in content for content in asked] == [False] * 3 + [True] * 3  # short ones together
    replies = read_jsonl(tmp_path / "eval" / "replies.jsonl", EvalReply)
    assert [r.dialogue.id for r in replies if r.model == "base"] == [d.id for d in long_and_short]


def test_changed_generation_settings_are_not_reused(tmp_path, fakes):
    backends, _ = fakes
    evaluate.run(config(tmp_path, no_cache=True))
    before = len(backends["fake:base"].calls)
    evaluate.run(config(tmp_path, no_cache=True, max_new_tokens=32, overwrite=True))  # other settings: --overwrite
    assert len(backends["fake:base"].calls) > before
    assert len(read_jsonl(tmp_path / "eval" / "replies.jsonl", EvalReply)) == 20  # stale ones dropped


def test_per_dataset_limits_and_splits(tmp_path, fakes, monkeypatch):
    seen = []
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda s, split: seen.append((s, split)) or dialogues(s))
    result = json.loads(evaluate.run(config(tmp_path, limits={"debugging": 2}, splits={"debugging": "dev"}))
                        .read_text())
    assert ("debugging", "dev") in seen and ("mathdial", "test") in seen
    assert summary.cell(result, "base", "debugging")["n"] == 2
    assert summary.cell(result, "base", "mathdial")["n"] == 5


def test_parse_model_option():
    assert evaluate.parse_model_option("base=embedded") == ("base", "embedded")
    assert evaluate.parse_model_option("tuned=hf:runs/x=y") == ("tuned", "hf:runs/x=y")
    assert evaluate.parse_model_option("embedded") == ("embedded", "embedded")
    with pytest.raises(SocraticError):
        evaluate.parse_model_option("=embedded")


def _judgment(model: str, dataset: str, item: int, scores: Scores | None, judge: str = "j") -> Judgment:
    dialogue = dialogues(dataset, item + 1)[item]
    return Judgment(dialogue=dialogue, reply="r", judge=judge, scores=scores,
                    error=None if scores else "failed", meta={"model": model, "dataset": dataset})


def test_summarize_is_exact_on_known_judgments():
    good = Scores(questions=True, on_topic=5, helpful=5, reveal_answer=False)  # 1.0
    mid = Scores(questions=False, on_topic=3, helpful=3, reveal_answer=False)  # 0.5
    judgments = [_judgment("a", "d", i, mid) for i in range(4)]
    judgments += [_judgment("b", "d", i, good if i < 2 else mid) for i in range(4)]
    out = summary.summarize(judgments, models=["a", "b"], datasets=["d"], judges=["j"], n_resamples=200)
    a, b = out["results"]
    assert a["summary"]["mean"] == 0.5 and (a["summary"]["low"], a["summary"]["high"]) == (0.5, 0.5)
    assert b["summary"]["mean"] == 0.75 and b["summary"]["low"] <= 0.75 <= b["summary"]["high"]
    assert b["criteria"]["on_topic"]["mean"] == 4.0 and b["criteria"]["questions"]["mean"] == 0.5
    test = next(p for p in out["paired"] if p["formula"] == "uniform")
    assert (test["model"], test["baseline"], test["diff"], test["n"]) == ("b", "a", 0.25, 4)


def test_summarize_reports_the_summary_agreement_validates():
    """One summary (issue 26): evaluate reports `judgment_summary`, the learned judge's expected summary
    and the reward judge's mapped utility, not the formula over thresholded scores."""
    from socratic.scores import judgment_summary

    scores = Scores(questions=True, on_topic=5, helpful=5, reveal_answer=False)  # thresholded: 1.0
    notes = [{"expected": {"questions": 0.6, "on_topic": 4.0, "helpful": 4.0, "reveal_answer": 0.2}},  # 0.725
             {"reward": {"utility": 1.0, "summary": 0.4}, "expected": {"questions": 1.0, "on_topic": 5.0,
                                                                      "helpful": 5.0, "reveal_answer": 0.0}}]
    judgments = [_judgment("a", "d", i, scores).model_copy(update={"meta": {"model": "a", "dataset": "d",
                                                                             "judge_notes": n}})
                 for i, n in enumerate(notes)]
    assert [judgment_summary(j) for j in judgments] == pytest.approx([0.725, 0.4])
    assert judgment_summary(judgments[1], "reference") == pytest.approx(0.1 + 0.9 * 0.4)
    out = summary.summarize(judgments, models=["a"], datasets=["d"], judges=["j"], n_resamples=50)
    assert out["results"][0]["summary"]["mean"] == pytest.approx((0.725 + 0.4) / 2)
    assert out["results"][0]["summary_reference"]["mean"] == pytest.approx(
        (judgment_summary(judgments[0], "reference") + 0.46) / 2)


def test_summarize_handles_an_empty_cell():
    out = summary.summarize([], models=["a"], datasets=["d"], judges=["j"])
    assert out["results"][0]["n"] == 0 and out["results"][0]["summary"]["mean"] is None


def test_reply_change_kinds():
    assert reply_change("Try again.", "Try again.").kind == "identical"
    form = reply_change("The answer is 12.", "The answer is 12?")
    assert form.kind == "form" and form.question_added and form.jaccard == 1.0
    content = reply_change("The answer is 12.", "What did you get when you added the two numbers?")
    assert content.kind == "content" and content.question_added and content.jaccard < 0.2
    assert reply_change("Why?", "Because.").question_removed


def test_summarize_changes_counts():
    stats = summarize_changes([("a b c d e", "a b c d e"), ("x is 4.", "x is 4?"), ("one", "two three?")])
    assert stats["n"] == 3 and stats["counts"] == {"identical": 1, "form": 1, "content": 1}
    assert stats["question_added"] == 2 and stats["question_added_form_only"] == 1
    assert summarize_changes([])["shares"]["form"] is None


def test_a_model_retrained_in_place_is_not_answered_from_stale_replies(tmp_path, monkeypatch):
    folder = tmp_path / "model"
    folder.mkdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(b"v1")
    spec = f"hf:{folder}"
    # The backend answers with whatever "weights" are on disk; its spec stays the same.
    backend = FakeBackend(responder=lambda m, o: f"Which step first ({weights.read_bytes().decode()})?", spec=spec)
    monkeypatch.setattr(evaluate, "load_backend", lambda s: backend)
    monkeypatch.setattr(evaluate, "_load_judge", lambda s, cache: FakeJudge())
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: dialogues(source, 2))
    settings = config(tmp_path, models={"tuned": spec}, datasets=["mathdial"])
    version = evaluate.model_version(spec)
    evaluate.run(settings)
    weights.write_bytes(b"v2-retrained")
    assert evaluate.model_version(spec) != version and evaluate.model_version("embedded") == ""
    evaluate.run(settings)  # the shared cache is on: it must not answer for the old weights
    replies = read_jsonl(tmp_path / "eval" / "replies.jsonl", EvalReply)
    assert [r.reply for r in replies] == ["Which step first (v2-retrained)?"] * 2


def test_evaluate_command_writes_results_and_report(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from socratic.cli import app

    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: FakeJudge(spec))
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: dialogues(source, 3))
    result = CliRunner().invoke(app, [
        "evaluate", "--model", "base=fake:The answer is 12.", "--model", "tuned=fake:What is step one?",
        "--dataset", "mathdial", "--limit", "2", "--judge", "rubric", "--training-judge", "rubric",
        "--formula", "reference", "-o", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert data["formula"] == "reference" and summary.cell(data, "tuned", "mathdial")["n"] == 2
    assert summary.cell(data, "tuned", "mathdial")["summary"] == summary.cell(data, "tuned", "mathdial")[
        "summary_reference"]
    assert (tmp_path / "ev" / "report.html").exists() and (tmp_path / "ev" / "report.md").exists()
    assert "asks a question" in result.output and "0.00 → 1.00" in result.output  # the terminal headline
