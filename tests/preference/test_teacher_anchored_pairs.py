"""Teacher-anchored pairs: selection on hand-made judgments, the mix at a stated share, the teacher dialogues
of the shipped data, and `socratic pairs --teacher-judgments` writing both kinds with a card that counts
where the judge preferred the model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from socratic.cli import app
from socratic.errors import SocraticError
from socratic.preference import teacher_pairs
from socratic.preference.pairs import Pair, PairsConfig
from socratic.preference.pairs import run as plain_run
from socratic.preference.teacher_pairs import TEACHER_MODEL, mix_pairs, select_teacher_pairs
from socratic.records import Dialogue, Turn
from socratic.render import render_messages
from socratic.scores import Judgment, Scores
from socratic.store.jsonl import write_jsonl


def dialogue(did: str) -> Dialogue:
    return Dialogue(id=did, source="mathdial", split="train", context="2 + 3 = ?",
                    turns=(Turn(role="student", text="Is it 6?"),), reference="5",
                    meta={"teacher_reply": "What do you get when you add 2 and 3?"})


def judged(did: str, reply: str, model: str = "policy", *, q: bool = True, helpful: int = 4,
           error: str | None = None, index: int = 0) -> Judgment:
    meta = {"model": model, "index": index}
    if error:
        return Judgment(dialogue=dialogue(did), reply=reply, judge="rubric", error=error, meta=meta)
    scores = Scores(questions=q, on_topic=4, helpful=helpful, reveal_answer=False)
    return Judgment(dialogue=dialogue(did), reply=reply, judge="rubric", scores=scores, meta=meta)


TEACHER = "What do you get when you add 2 and 3?"


def teacher_judgments() -> list[Judgment]:
    return [
        judged("a", TEACHER, TEACHER_MODEL, helpful=5, index=1), judged("a", "It is 5.", q=False, helpful=1),
        judged("b", TEACHER, TEACHER_MODEL, q=False, helpful=2, index=1), judged("b", "Why 6?", helpful=5),  # above
        judged("c", TEACHER, TEACHER_MODEL, index=1), judged("c", "  "),                                   # empty
        judged("d", TEACHER, TEACHER_MODEL, index=1), judged("d", "Hm?", error="invalid JSON"),            # failed
        judged("e", TEACHER, TEACHER_MODEL, index=1), judged("e", "Which numbers?"),                       # a tie
        judged("f", "Second sample?", index=1), judged("f", TEACHER, TEACHER_MODEL, index=2),
        judged("f", "First sample?", helpful=1),
        judged("g", "A reply with no teacher turn?"),
    ]


def test_the_teacher_is_chosen_over_the_models_first_sample_and_the_judges_dissent_is_counted():
    pairs, stats = select_teacher_pairs(teacher_judgments())
    assert [(p.chosen.dialogue.id, p.chosen.reply, p.rejected.reply) for p in pairs] == [
        ("a", TEACHER, "It is 5."), ("b", TEACHER, "Why 6?"), ("e", TEACHER, "Which numbers?"),
        ("f", TEACHER, "First sample?")]
    assert stats.as_dict() == {"contexts": 7, "pairs": 4, "model_above_teacher": 1, "ties": 1,
                               "no_model_reply": 2, "unjudged": 1, "mixed_in": 0}
    b = pairs[1]
    assert b.rejected_score > b.chosen_score  # kept: the judge does not overrule the teacher


def pair(name: str) -> Pair:
    j = judged(name, name)
    return Pair(j, j, 1.0, 0.0)


def test_the_mix_holds_the_stated_share_with_as_many_pairs_as_it_can():
    judged_pairs, teacher = [pair(f"j{i}") for i in range(10)], [pair(f"t{i}") for i in range(4)]
    kept_j, kept_t = mix_pairs(judged_pairs, teacher, 0.5)
    assert (len(kept_j), len(kept_t)) == (4, 4) and kept_t == teacher
    assert [p.chosen.reply for p in kept_j] == sorted(p.chosen.reply for p in kept_j)  # their order kept
    assert mix_pairs(judged_pairs, teacher, 0.5) == (kept_j, kept_t)  # seeded
    kept_j, kept_t = mix_pairs(judged_pairs, teacher, 0.25)
    assert (len(kept_j), len(kept_t)) == (10, 3)  # the judged pairs run out first: 3 / 13
    assert mix_pairs(judged_pairs, teacher, 0.0) == (judged_pairs, [])
    assert mix_pairs(judged_pairs, teacher, 1.0) == ([], teacher)
    assert mix_pairs([], teacher, 0.5) == ([], [])
    with pytest.raises(ValueError, match="not in"):
        mix_pairs(judged_pairs, teacher, 1.5)


def test_teacher_dialogues_carry_the_turn_and_candidates_name_the_teacher(shared_data, monkeypatch):
    monkeypatch.setenv("SOCRATIC_DATA_DIR", str(shared_data))
    dialogues = teacher_pairs.teacher_dialogues(("debugging-raw",), limit=40, seed=0)
    assert len(dialogues) == 40 and len({d.id for d in dialogues}) == 40
    alternatives = [d for d in dialogues if "-alt" in d.id]
    assert alternatives and all(d.meta["teacher_reply"] in d.meta["human_replies"][1:] for d in alternatives)
    assert dialogues == teacher_pairs.teacher_dialogues(("debugging-raw",), limit=40, seed=0)
    assert dialogues != teacher_pairs.teacher_dialogues(("debugging-raw",), limit=40, seed=1)
    candidates = teacher_pairs.teacher_candidates(dialogues[:2])
    assert [(c.model, c.index, c.reply) for c in candidates] == [
        (TEACHER_MODEL, 1, d.meta["teacher_reply"]) for d in dialogues[:2]]
    with pytest.raises(SocraticError, match="no teacher turns known for the training dataset 'x.jsonl'"):
        teacher_pairs.sources_of("x.jsonl")


def test_pairs_with_the_teachers_judgments_writes_both_kinds_and_the_card_counts(tmp_path):
    ranked = [judged("r1", "What did you add?"), judged("r1", "The answer is 5.", q=False, helpful=1, index=1),
              judged("r2", "Which step?"), judged("r2", "It is 5.", q=False, helpful=1, index=1)]
    write_jsonl(tmp_path / "judgments.jsonl", ranked)
    write_jsonl(tmp_path / "teacher.jsonl", teacher_judgments())
    config = PairsConfig(judgments=tmp_path / "judgments.jsonl", out=tmp_path / "pairs.jsonl",
                         teacher_judgments=tmp_path / "teacher.jsonl", teacher_share=0.5, min_margin=0.0,
                         min_chosen_score=0.0)
    teacher_pairs.run(config)
    rows = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    assert [row.get("anchor") for row in rows] == [None, None, "teacher", "teacher"]  # 2 + 2: half
    anchored = [row for row in rows if row.get("anchor")]
    assert all(row["chosen"] == [{"role": "assistant", "content": TEACHER}] for row in anchored)
    assert anchored[0]["prompt"] == render_messages(dialogue(anchored[0]["dialogue_id"]))
    card = (tmp_path / "README.md").read_text()
    assert "## Teacher-anchored pairs" in card and "| **kept in the mix** | **2** |" in card
    assert "the judge scores the model's reply above the teacher's (kept) | 1 |" in card
    assert "Teacher-anchored" not in plain_card(tmp_path)
    with pytest.raises(SocraticError, match="teachers' judgments"):
        plain_run(config)
    # the command line: --teacher-judgments makes the mixed set
    result = CliRunner().invoke(app, ["pairs", "--judgments", str(tmp_path / "judgments.jsonl"), "-o",
                                      str(tmp_path / "cli" / "pairs.jsonl"), "--teacher-judgments",
                                      str(tmp_path / "teacher.jsonl"), "--teacher-share", "0.5",
                                      "--min-margin", "0", "--min-chosen", "0"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "pairs.jsonl").read_text() == (tmp_path / "pairs.jsonl").read_text()


def plain_card(tmp_path) -> str:
    out = tmp_path / "plain" / "pairs.jsonl"
    plain_run(PairsConfig(judgments=tmp_path / "judgments.jsonl", out=out, min_margin=0.0, min_chosen_score=0.0))
    return (out.parent / "README.md").read_text()
