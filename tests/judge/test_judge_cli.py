"""`socratic judge` end to end: the human-eval dev file and a small candidates file with the rubric judge
(offline), a Labelled-reply JSONL with a fake LLM judge, the cache on re-runs, and bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from socratic.cli import app
from socratic.records import Candidate, Dialogue, LabelledReply, Labels, Turn
from socratic.scores import Judgment
from socratic.store.jsonl import read_jsonl, write_jsonl

runner = CliRunner()
VALID = '{"questions": true, "on_topic": 5, "helpful": 4, "reveal_answer": false}'


def dialogue(i: int) -> Dialogue:
    return Dialogue(id=f"d{i}", source="test", context="Problem: 3 bags of 15 kg each. How many kg in total?",
                    turns=(Turn(role="student", text="I added 3 and 15 and got 18 kg."),),
                    reference="3 x 15 = 45\nFinal answer: 45")


@pytest.mark.slow
def test_rubric_on_the_human_dev_file(shared_data, tmp_path):
    out = tmp_path / "j.jsonl"
    source = shared_data / "socratic_llm" / "mathdial_human_eval_dev.json"
    result = runner.invoke(app, ["judge", "--input", str(source), "--judge", "rubric", "-o", str(out)])
    assert result.exit_code == 0, result.output
    judgments = read_jsonl(out, Judgment)
    assert len(judgments) == 50 and all(j.ok and j.judge == "rubric" for j in judgments)
    assert judgments[0].meta["labels"] == {"questions": True, "on_topic": 4, "helpful": 1, "reveal_answer": False}
    assert "wrote 50 judgments (0 failed)" in result.output


@pytest.mark.slow
def test_rubric_on_candidates_keeps_provenance_and_uses_the_cache(tmp_path):
    candidates = [Candidate(dialogue=dialogue(i), reply=reply, model="embedded", index=k, meta={"seed": 7})
                  for i in range(2) for k, reply in enumerate(["What does one bag weigh?", "The answer is 45 kg."])]
    source, out = tmp_path / "c.jsonl", tmp_path / "j.jsonl"
    write_jsonl(source, candidates)
    args = ["judge", "--input", str(source), "--judge", "rubric", "-o", str(out), "--formula", "reference"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    judgments = read_jsonl(out, Judgment)
    assert [(j.meta["model"], j.meta["index"], j.meta["seed"]) for j in judgments] == \
        [("embedded", 0, 7), ("embedded", 1, 7)] * 2
    assert judgments[0].scores.questions and judgments[1].scores.reveal_answer
    assert judgments[1].summary == pytest.approx(0.25 * 0 + 0.25 * 0 + 0.05 * judgments[1].scores.on_topic
                                                 + 0.05 * judgments[1].scores.helpful)
    first = out.read_text()
    again = runner.invoke(app, args + ["--limit", "3"])
    assert again.exit_code == 0 and "judging" not in again.output  # all cached: nothing to judge
    assert out.read_text().splitlines() == first.splitlines()[:3]


def test_labelled_jsonl_with_a_fake_llm_judge(tmp_path):
    source, out = tmp_path / "l.jsonl", tmp_path / "j.jsonl"
    write_jsonl(source, [LabelledReply(dialogue=dialogue(0), reply="What does one bag weigh?",
                                       labels=Labels(questions=True))])
    result = runner.invoke(app, ["judge", "--input", str(source), "--judge", "llm:fake:" + VALID, "-o", str(out),
                                 "--no-cache", "--max-tries", "2"])
    assert result.exit_code == 0, result.output
    [judgment] = read_jsonl(out, Judgment)
    assert judgment.scores.helpful == 4 and judgment.meta["labels"]["questions"] is True
    assert "count" in result.output and "failures" in result.output


def test_failures_are_written_and_counted(tmp_path):
    source, out = tmp_path / "l.jsonl", tmp_path / "j.jsonl"
    write_jsonl(source, [LabelledReply(dialogue=dialogue(0), reply="x")])
    result = runner.invoke(app, ["judge", "--input", str(source), "--judge", "llm:fake:not json", "-o", str(out),
                                 "--max-tries", "2"])
    assert result.exit_code == 0, result.output
    [judgment] = read_jsonl(out, Judgment)
    assert judgment.error and judgment.attempts == 2
    assert "(1 failed)" in result.output


def test_bad_input_names_file_and_line(tmp_path):
    source = tmp_path / "bad.jsonl"
    good = json.loads(LabelledReply(dialogue=dialogue(0), reply="ok").model_dump_json())
    broken = dict(good, dialogue=dict(good["dialogue"], turns=[]))
    source.write_text(json.dumps(good) + "\n" + json.dumps(broken) + "\n")
    result = runner.invoke(app, ["judge", "--input", str(source), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code != 0
    assert f"{source}:2" in str(result.exception) and "dialogue" in str(result.exception)
    missing = runner.invoke(app, ["judge", "--input", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o")])
    assert "file not found" in str(missing.exception)
