"""Dataset adapters on the real shared files, user JSONL validation, labelled replies, and `socratic data`."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from socratic import data
from socratic.cli import app
from socratic.data.overlap import content_key
from socratic.errors import InputError, SocraticError
from socratic.records import Dialogue
from socratic.store.jsonl import read_jsonl

COUNTS = {("mathdial", "train"): 498, ("mathdial", "test"): 101, ("debugging", "train"): 663,
          ("debugging", "test"): 100, ("tutorchat", "train"): 594, ("tutorchat", "test"): 101}
MOVE_TAG = re.compile(r"\((generic|focus|probing|telling)\)")


@pytest.fixture(autouse=True)
def data_here(shared_data, monkeypatch):
    monkeypatch.setenv("SOCRATIC_DATA_DIR", str(shared_data))


def check_valid(dialogues):
    for dialogue in dialogues:
        assert dialogue.turns[-1].role == "student", dialogue.id
        assert all(turn.text.strip() for turn in dialogue.turns), dialogue.id
        assert all(turn.text == turn.text.strip() for turn in dialogue.turns), dialogue.id
    assert len({d.id for d in dialogues}) == len(dialogues)


@pytest.mark.parametrize(("source", "split"), list(COUNTS))
def test_reference_prompt_sets(source, split):
    dialogues, dropped, skipped = data.load_with_report(source, split)
    assert len(dialogues) == COUNTS[source, split] and not skipped and not dropped
    check_valid(dialogues)
    assert dialogues[7].id == f"{source}-{split}-0007"
    assert all(d.source == source and d.split == split for d in dialogues)


def test_mathdial_prompts():
    for split in ("train", "test"):
        dialogues = data.load_dialogues("mathdial", split)
        for d in dialogues:
            assert d.context.startswith("Problem: ") and d.turns[0].text.startswith("Professor, I have a problem")
            assert not any(MOVE_TAG.search(t.text) or "\\n" in t.text or t.text.startswith("Teacher:")
                           for t in d.turns), d.id
            assert len(d.meta["moves"]) == len(d.turns)
            assert all(d.meta["moves"][i] for i, t in enumerate(d.turns) if t.role == "tutor"), d.id
            assert not any(d.meta["moves"][i] for i, t in enumerate(d.turns) if t.role == "student"), d.id
    test = data.load_dialogues("mathdial", "test")
    # joined on the problem text: raw MathDial's ground truth for 30, GSM8K's worked solution for the rest
    assert all(d.reference and "\nFinal answer: " in d.reference for d in test)
    assert all(d.reference for d in data.load_dialogues("mathdial", "train"))
    first = test[0]
    assert first.meta["moves"][1] == ["generic"] and first.turns[1].text.startswith("Hi Riya")
    assert first.reference.endswith("52 / 13 = 4 times a year.\nFinal answer: 4")  # from GSM8K (no <<...>>)
    assert test[5].reference.endswith("2928 miles\nFinal answer: 2928")
    assert sum(bool(d.meta.get("student_name")) for d in test) == 4


def test_debugging_prompts_hide_the_answer_in_reference():
    for split in ("train", "test"):
        for d in data.load_dialogues("debugging", split):
            assert d.reference and d.reference.startswith("Bug: ") and "Fix: " in d.reference
            assert "<bug_desc>" not in d.context and "<problem>" not in d.context
            assert d.context.startswith("Problem:")
            assert not any(re.search(r"(^|\s)(User|Assistant):", t.text) for t in d.turns), d.id
    squashed = [t.text for d in data.load_dialogues("debugging", "train") for t in d.turns
                if re.search(r"<code>\s*1\.[^\n]*2\.", t.text)]
    assert squashed == []  # numbered code lines restored


def test_tutorchat_prompts():
    dialogues = data.load_dialogues("tutorchat", "train")
    with_book = [d for d in dialogues if d.context]
    assert len(with_book) == 68
    assert all(d.turns[0].role == "student" for d in with_book)
    assert all(not t.text.lower().startswith(("user:", "assistant:")) for d in dialogues for t in d.turns)


def test_debugging_train_test_overlap_is_detected_and_dropped(shared_data):
    train_raw = json.loads((shared_data / "socratic_llm" / "debugging_train.json").read_text())
    test_raw = set(json.loads((shared_data / "socratic_llm" / "debugging_test.json").read_text()))
    assert len(set(train_raw) & test_raw) == 30  # the known exact-string overlap
    info = {(i.source, i.split): i for i in data.list_sources()}
    # 30 exact copies + 2 whose prompt text equals a test item up to whitespace / a typo in the fix
    assert info["debugging", "train"].overlap_with_test == 32
    assert info["debugging", "train"].duplicates == 132 and info["tutorchat", "train"].overlap_with_test == 1
    kept, dropped, _ = data.load_with_report("debugging", "train", dedupe=True)
    test_keys = {content_key(d) for d in data.load_dialogues("debugging", "test")}
    assert not any(content_key(d) in test_keys for d in kept)
    assert len({content_key(d) for d in kept}) == len(kept)
    flagged = {d.id for d in dropped}
    exact = [f"debugging-train-{i:04d}" for i, text in enumerate(train_raw) if text in test_raw]
    assert set(exact) <= flagged and len(exact) == 44
    assert (len(kept), len(dropped), sum(d.reason.startswith("also in test") for d in dropped)) == (499, 164, 46)
    kept_test, dropped_test, _ = data.load_with_report("debugging", "test", dedupe=True)
    assert len(kept_test) == 96 and all(d.reason.startswith("duplicate of debugging-test-") for d in dropped_test)


def test_raw_mathdial():
    dialogues = data.load_dialogues("mathdial-raw", "test")
    check_valid(dialogues)
    assert len(dialogues) == 3603  # 599 conversations, one per teacher turn that answers a student
    assert all(d.reference and "Final answer:" in d.reference for d in dialogues)
    first = data.get_dialogue("mathdial-raw", "test", "mathdial-raw-test-6000025-0-t3")
    assert first.meta["human_reply"].startswith("No, you need to add") and first.meta["human_moves"] == ["telling"]
    assert first.reference.endswith("Final answer: 10") and first.meta["qid"] == 6000025
    assert [t.role for t in first.turns] == ["student", "tutor", "student", "tutor", "student"]
    assert not any(MOVE_TAG.search(t.text) for d in dialogues for t in d.turns)
    with pytest.raises(SocraticError, match="not shipped"):
        data.load_dialogues("mathdial-raw", "train")


def test_raw_mathdial_reads_a_user_train_file(tmp_path, shared_data, monkeypatch):
    (tmp_path / "mathdial").mkdir()
    line = (shared_data / "mathdial" / "test.jsonl").read_text().splitlines()[0]
    (tmp_path / "mathdial" / "train.jsonl").write_text(line + "\n")
    monkeypatch.setenv("SOCRATIC_DATA_DIR", str(tmp_path))
    dialogues = data.load_dialogues("mathdial-raw", "train")
    assert [d.id for d in dialogues] == [f"mathdial-raw-train-6000025-0-t{k}" for k in (1, 2, 3, 4)]


def test_raw_debugging():
    for split, expected in (("train", 815), ("test", 92)):
        dialogues = data.load_dialogues("debugging-raw", split)
        check_valid(dialogues)
        assert len(dialogues) == expected
        assert all(d.reference.startswith("Bug: ") and "\n\nUnit tests:\n" in d.context for d in dialogues)
        assert all(d.meta["human_replies"] and d.meta["human_replies"][0] for d in dialogues)
    d = data.get_dialogue("debugging-raw", "train", "debugging-raw-train-0_0_fibonacci_socratic_dialogue-t1")
    assert d.turns[0].text == "Hey, I really need help. This function is not returning the correct number."
    assert d.meta["human_replies"][1] == ("Happy to help. Can you give me an example of your function "
                                          "returning an incorrect number?")
    assert len(d.meta["human_replies"]) == 4
    with_code = data.get_dialogue("debugging-raw", "train", "debugging-raw-train-0_0_fibonacci_socratic_dialogue-t10")
    assert "<code>\n1. def fibonacci(n):" in with_code.turns[-1].text


def test_user_jsonl_round_trip_via_export(tmp_path):
    out = tmp_path / "mathdial.jsonl"
    result = CliRunner().invoke(app, ["data", "export", "mathdial", "--split", "test", "-o", str(out), "-n", "5"])
    assert result.exit_code == 0, result.output
    assert "wrote 5 dialogues" in result.output
    back = data.load_dialogues(str(out), "test")
    assert back == data.load_dialogues("mathdial", "test")[:5]
    assert data.get_dialogue(str(out), "test", "mathdial-test-0003") == back[3]


def test_export_dedupe_reports_what_was_dropped(tmp_path):
    out = tmp_path / "d.jsonl"
    result = CliRunner().invoke(app, ["data", "export", "debugging", "--split", "train", "-o", str(out), "--dedupe"])
    assert result.exit_code == 0, result.output
    kept = read_jsonl(out, Dialogue)
    assert "dropped" in result.output and "also in test" in result.output
    assert len(kept) == len(data.load_dialogues("debugging", "train", dedupe=True)) < 663


GOOD = {"id": "u1", "source": "mine", "split": "test", "context": "2x = 6",
        "turns": [{"role": "student", "text": "x = 4?"}], "reference": "x = 3", "meta": {}}


@pytest.mark.parametrize(("line", "where"), [
    ('{"id": "u2", "source": "mine", "tur', ":2: invalid JSON"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "turns"} | {"id": "u2"}), ":2: field 'turns'"),
    (json.dumps(GOOD | {"id": "u2", "turns": [{"role": "student", "text": "  "}]}), ":2: field 'turns.0.text'"),
    (json.dumps(GOOD | {"id": "u2", "turns": [{"role": "student", "text": "hi"}, {"role": "tutor", "text": "yo"}]}),
     ":2: field 'turns'"),
    (json.dumps(GOOD), ":2: field 'id': duplicate id"),
])
def test_malformed_user_input_names_file_line_field(tmp_path, line, where):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + line + "\n")
    with pytest.raises(InputError) as error:
        data.load_dialogues(str(path), "test")
    assert str(error.value).startswith(str(path)) and where in str(error.value)


def test_missing_user_file_and_unknown_source(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        data.load_dialogues(str(tmp_path / "nope.jsonl"), "test")
    with pytest.raises(SocraticError, match="unknown dataset"):
        data.load_dialogues("nope", "test")
    with pytest.raises(SocraticError, match="ids look like 'mathdial-test-0000'"):
        data.get_dialogue("mathdial", "test", "mathdial-test-9999")


def test_data_dir_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCRATIC_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(SocraticError, match="SOCRATIC_DATA_DIR"):
        data.load_dialogues("mathdial", "test")


def test_load_labelled_reference_human_eval(shared_data, tmp_path):
    items = data.load_labelled(shared_data / "socratic_llm" / "mathdial_human_eval_dev.json")
    assert len(items) == 50
    first = items[0]
    assert first.dialogue == data.get_dialogue("mathdial", "test", "mathdial-test-0000")
    assert first.reply.startswith("That's correct, well done")
    assert first.labels.model_dump() == {"questions": True, "on_topic": 4, "helpful": 1, "reveal_answer": False}
    assert sum(item.labels.questions for item in items) == 28 and sum(item.labels.reveal_answer for item in items) == 9
    # our JSONL form reads back identically; a null label stays None
    path = tmp_path / "labelled.jsonl"
    rows = [item.model_dump() for item in items[:3]]
    rows[0]["labels"]["helpful"] = None
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    back = data.load_labelled(path)
    assert back[1:] == items[1:3] and back[0].labels.helpful is None


def test_load_labelled_reference_form_errors(tmp_path):
    path = tmp_path / "eval.json"
    path.write_text(json.dumps([{"prompt": "Student: 'hi'", "output": "ok?",
                                 "evaluation": {"questions": "perhaps"}}]))
    with pytest.raises(InputError, match="field 'evaluation.questions'"):
        data.load_labelled(path)
    path.write_text(json.dumps([{"prompt": "Student: 'hi'", "output": "ok?", "evaluation": {"on_topic": None}}]))
    (item,) = data.load_labelled(path)
    assert item.dialogue.id == "eval-0000" and item.labels.on_topic is None


def test_cli_show_and_list():
    runner = CliRunner()
    result = runner.invoke(app, ["data", "show", "mathdial", "--split", "test", "--limit", "1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for expected in ("mathdial-test-0000", "context", "Problem: Ron is part of a book club", "student:",
                     "tutor (generic): Hi Riya", "reference", "Final answer: 4"):
        assert expected in result.output
    result = runner.invoke(app, ["data", "show", "mathdial", "--split", "test", "--id", "mathdial-test-0005"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "Final answer:" in result.output  # this one has a joined reference
    result = runner.invoke(app, ["data", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert re.search(r"debugging\s+│\s+train\s+│\s+663\s+│\s+663\s+│\s+132\s+│\s+32", result.output)
    assert "not shipped" in result.output
