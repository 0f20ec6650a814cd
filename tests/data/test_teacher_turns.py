"""GSM8K references for MathDial, the teacher's next turn, teacher-referenced test sets and teacher turns,
on the shipped datasets."""

from __future__ import annotations

import json
import re
import sys

import pytest
from typer.testing import CliRunner

from socratic import data
from socratic.cli import app, main
from socratic.data import gsm8k, mathdial
from socratic.data.overlap import problem_of
from socratic.data.teacher_turns import (
    TeacherTurn,
    load_teacher_turns,
    load_teacher_turns_with_report,
    problems_of_test_sets,
    teacher_reply,
    teacher_test_set,
    teacher_validation_set,
    validation_problems,
)
from socratic.errors import InputError, SocraticError
from socratic.judge.labels.human import group_key
from socratic.records import Dialogue, LabelledReply, Turn
from socratic.store.jsonl import read_jsonl

MOVE_TAG = re.compile(r"^\s*\((generic|focus|probing|telling)\)")


@pytest.fixture(autouse=True)
def data_here(shared_data, monkeypatch):
    monkeypatch.setenv("SOCRATIC_DATA_DIR", str(shared_data))


def test_gsm8k_answer_becomes_a_reference():
    answer = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nAltogether 48+24 = <<48+24=72>>72.\n#### 72"
    assert gsm8k.format_solution(answer) == "Natalia sold 48/2 = 24 clips in May.\nAltogether 48+24 = 72.\nFinal answer: 72"
    with pytest.raises(ValueError, match="####"):
        gsm8k.format_solution("no final answer")
    assert len(gsm8k.solutions_by_problem()) == 8792  # every problem of both splits
    assert gsm8k.solution_for("Weng earns $13 an hour for babysitting. Yesterday, she just did 50 minutes of "
                              "babysitting. How much did she earn?") is None  # only whitespace may differ
    assert gsm8k.solution_for("Weng earns $12 an hour for babysitting. Yesterday,  she just did 50 minutes of\n"
                              "babysitting. How much did she earn?").endswith("Final answer: 10")


def test_gsm8k_bad_line_names_file_line_and_field(tmp_path, shared_data, monkeypatch):
    folder = tmp_path / "gsm8k"
    folder.mkdir()
    (folder / "train.jsonl").write_text(json.dumps({"question": "q?", "answer": "1 + 1 = 2\n#### 2"}) + "\n"
                                        + json.dumps({"question": "p?", "answer": "no marker"}) + "\n")
    (folder / "test.jsonl").write_text("")
    monkeypatch.setenv("SOCRATIC_DATA_DIR", str(tmp_path))
    with pytest.raises(InputError, match=r"gsm8k/train\.jsonl:2: field 'answer': no '####'"):
        gsm8k.solutions_by_problem()


def test_every_mathdial_dialogue_has_the_gsm8k_reference_and_raw_mathdial_agrees(shared_data):
    for source, split in (("mathdial", "train"), ("mathdial", "test"), ("mathdial-raw", "test")):
        dialogues = data.load_dialogues(source, split)
        assert all(d.reference == gsm8k.solution_for(d.meta["problem"]) for d in dialogues), (source, split)
    # MathDial's own ground truth (kept where present) is GSM8K's solution in the same shape, row for row
    rows = [json.loads(line) for line in (shared_data / "mathdial" / "test.jsonl").read_text().splitlines()]
    assert len(rows) == 599
    assert all(mathdial.format_ground_truth(r["ground_truth"]) == gsm8k.solution_for(r["question"]) for r in rows)
    infos = {(i.source, i.split): i for i in data.list_sources()}
    assert infos["mathdial", "train"].with_reference == 498 and infos["mathdial", "test"].with_reference == 101


def test_teacher_reply_reads_every_form():
    base = Dialogue(id="x", source="s", turns=(Turn(role="student", text="hi"),))
    assert teacher_reply(base) is None
    assert teacher_reply(base.model_copy(update={"meta": {"human_reply": "old"}})) == "old"
    assert teacher_reply(base.model_copy(update={"meta": {"human_replies": ["main", "alt"]}})) == "main"
    assert teacher_reply(base.model_copy(update={"meta": {"teacher_reply": "new", "human_reply": "old"}})) == "new"
    raw = data.get_dialogue("mathdial-raw", "test", "mathdial-raw-test-6000025-0-t3")
    assert raw.meta["teacher_reply"] == raw.meta["human_reply"] == teacher_reply(raw)
    assert teacher_reply(raw).startswith("No, you need to add")
    for d in data.load_dialogues("debugging-raw", "test"):
        assert d.meta["teacher_reply"] == d.meta["human_replies"][0] == teacher_reply(d)


def test_mathdial_teacher_test_set_drops_training_problems_and_keeps_one_item_per_conversation():
    items, report = teacher_test_set("mathdial-raw", seed=0)
    assert (report.items, report.conversations, report.problems) == (3603, 599, 394)
    # the reference's MathDial train split shares 110 of its 423 problems with MathDial's test split
    assert report.shared_problems["mathdial"] == 110 and report.excluded_problems == 110
    assert (report.excluded_items, report.excluded_conversations) == (747, 124)
    assert report.chosen == len(items) == 599 - 124
    train = {problem_of(d) for d in data.load_dialogues("mathdial", "train")}
    assert not any(problem_of(d) in train for d in items)
    conversations = [d.id.rpartition("-t")[0] for d in items]
    assert len(set(conversations)) == len(items)
    assert all(teacher_reply(d) and d.reference and "Final answer:" in d.reference for d in items)
    assert items == teacher_test_set("mathdial-raw", seed=0)[0]  # seeded: the same set, the same order
    other = teacher_test_set("mathdial-raw", seed=1)[0]
    assert {d.id for d in other} != {d.id for d in items}  # another choice within the conversations
    assert {d.id.rpartition("-t")[0] for d in other} == set(conversations)
    assert [d.id for d in items] != sorted(d.id for d in items)  # a seeded order, not the file's
    assert any("excluded 110 problems" in line for line in report.lines())


def test_debugging_teacher_test_set_has_no_training_problem_to_drop():
    items, report = teacher_test_set("debugging-raw", seed=0)
    assert (report.items, report.conversations, report.problems, report.excluded_problems) == (92, 16, 4, 0)
    assert len(items) == 16 and all(teacher_reply(d) and d.reference.startswith("Bug: ") for d in items)
    with pytest.raises(SocraticError, match="mathdial-raw, debugging-raw"):
        teacher_test_set("mathdial")


def test_validation_conversations_are_held_out_training_problems_with_the_teachers_next_turn():
    held = validation_problems()
    train = data.load_dialogues("mathdial", "train")
    assert len(held) == 60 and held <= {problem_of(d) for d in train}
    assert not held & {problem_of(d) for d in train[:48]}  # the shipped configs train on the first 24 / 48
    assert not held & problems_of_test_sets()
    items = teacher_validation_set()
    assert len(items) == 67 and items == teacher_validation_set()  # seeded: the same items, the same order
    assert {problem_of(d) for d in items} == held
    assert len({d.meta["group"] for d in items}) == len(items)  # one item per conversation
    for item in items:
        origin = data.get_dialogue("mathdial", "train", item.meta["group"])
        turn = len(item.turns)
        assert item.turns == origin.turns[:turn] and item.turns[-1].role == "student"
        assert teacher_reply(item) == origin.turns[turn].text and item.reference == origin.reference
    # never a training dialogue's slice, never a teacher turn to imitate
    assert all(problem_of(t.dialogue) not in held for t in load_teacher_turns(("mathdial",)))
    with pytest.raises(SocraticError):
        data.load_dialogues("mathdial-raw", "validation")


def check_turns(turns: list[TeacherTurn], excluded: set[str]) -> None:
    keys = set()
    for turn in turns:
        assert turn.dialogue.split == "train" and turn.dialogue.turns[-1].role == "student"
        assert turn.reply.strip() and not MOVE_TAG.match(turn.reply)
        assert problem_of(turn.dialogue) not in excluded, turn.dialogue.id
        key = (turn.dialogue.context, tuple(t.text for t in turn.dialogue.turns), turn.reply)
        assert key not in keys, turn.dialogue.id
        keys.add(key)


def test_teacher_turns_of_the_training_histories():
    turns, report = load_teacher_turns_with_report(("mathdial", "debugging"))
    mathdial, debugging = report.counts["mathdial"], report.counts["debugging"]
    assert (mathdial.found, mathdial.origin_in_test, mathdial.test_problem, mathdial.validation_problem,
            mathdial.duplicate, mathdial.kept) == (1354, 0, 91, 189, 1, 1073)
    # the reference's Debugging test split holds 33 of the 38 exercises of its train split: few turns survive
    assert (debugging.found, debugging.origin_in_test, debugging.kept) == (2164, 29, 24)
    assert len(turns) == 1073 + 24 and turns == load_teacher_turns()
    check_turns(turns, problems_of_test_sets() | validation_problems())
    assert {t.written_by for t in turns} == {"human"}
    # the first teacher turn of the first training dialogue, its move tag kept as metadata
    origin = data.get_dialogue("mathdial", "train", "mathdial-train-0000")
    first = turns[0]
    assert first.dialogue.id == "mathdial-train-0000-t1" and first.dialogue.turns == origin.turns[:1]
    assert first.reply == origin.turns[1].text and first.meta["moves"] == origin.meta["moves"][1]
    assert first.dialogue.reference == origin.reference and first.dialogue.context == origin.context
    assert first.meta["origin"] == "mathdial-train-0000" and first.source == "mathdial"
    # the CV group of a teacher turn is its problem, as for every other reply to that problem
    assert group_key(LabelledReply(dialogue=first.dialogue, reply=first.reply)) == group_key(
        LabelledReply(dialogue=origin, reply="x"))


def test_debugging_turns_and_raw_alternatives_when_its_reference_test_split_is_not_a_test_set():
    test_sets = ("mathdial", "debugging-raw")
    turns, report = load_teacher_turns_with_report(("debugging", "debugging-raw"), test_sets=test_sets)
    debugging, raw = report.counts["debugging"], report.counts["debugging-raw"]
    assert (debugging.found, debugging.kept, raw.found) == (2164, 464, 815 + 1149)
    assert raw.duplicate > 0 and raw.kept == len(turns) - 464  # raw main utterances the reference set has
    check_turns(turns, problems_of_test_sets(test_sets))
    alternatives = [t for t in turns if t.source == "debugging-raw" and t.meta["alternative"] > 0]
    assert alternatives and all(t.reply in t.dialogue.meta["human_replies"][1:] for t in alternatives)


def test_model_written_turns_only_when_asked_and_bad_requests():
    with pytest.raises(SocraticError, match="written by a model"):
        load_teacher_turns(("tutorchat",))
    turns = load_teacher_turns(("tutorchat",), include_model_written=True)
    assert len(turns) == 1073 and {t.written_by for t in turns} == {"model"}
    with pytest.raises(SocraticError, match="training split"):
        load_teacher_turns(split="test")
    with pytest.raises(SocraticError, match="no teacher turns for 'mrbench'"):
        load_teacher_turns(("mrbench",))
    with pytest.raises(SocraticError, match="unknown test set 'nope'"):
        load_teacher_turns(test_sets=("nope",))


def test_cli_lists_and_exports_teacher_turns(tmp_path, capsys, monkeypatch):
    out = tmp_path / "turns.jsonl"
    result = CliRunner().invoke(app, ["data", "teacher-turns", "--source", "mathdial", "-o", str(out)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert re.search(r"mathdial\s+│\s+1354\s+│\s+0\s+│\s+91\s+│\s+189\s+│\s+1\s+│\s+1073", result.output)
    assert "wrote 1073 teacher turns" in result.output
    assert read_jsonl(out, TeacherTurn) == load_teacher_turns(("mathdial",))
    monkeypatch.setattr(sys, "argv", ["socratic", "data", "teacher-turns", "--source", "tutorchat"])
    with pytest.raises(SystemExit) as exited:
        main()
    shown = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert exited.value.code == 2 and len(shown) == 1 and "written by a model" in shown[0]


def test_cli_refuses_a_folder_as_output_before_counting(tmp_path, capsys, monkeypatch):
    from socratic.data import teacher_turns

    monkeypatch.setattr(teacher_turns, "load_teacher_turns_with_report",
                        lambda *a, **k: pytest.fail("counted the teacher turns before checking -o"))
    (tmp_path / "a_folder").mkdir()
    monkeypatch.setattr(sys, "argv", ["socratic", "data", "teacher-turns", "-o", str(tmp_path / "a_folder")])
    with pytest.raises(SystemExit) as exited:
        main()
    shown = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert exited.value.code == 2 and len(shown) == 1, shown
    assert f"-o/--output {tmp_path / 'a_folder'}: is a folder" in shown[0]
    assert list((tmp_path / "a_folder").iterdir()) == []
