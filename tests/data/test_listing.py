"""What `socratic data` prints, built from made-up records without the CLI or the datasets
(socratic.data.listing); tests/data/test_data.py runs the commands on the shipped datasets."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from socratic.data import DatasetInfo, Dropped, Skipped, SourceInfo, listing
from socratic.data.teacher_turns import TeacherTurnsReport, TurnCounts
from socratic.records import Dialogue, Turn


def _shown(*renderables, width: int = 200) -> str:
    console = Console(file=io.StringIO(), width=width)
    for renderable in renderables:
        console.print(renderable)
    return console.file.getvalue()


def _printed(print_function, *args, width: int = 200) -> list[str]:
    console = Console(file=io.StringIO(), width=width)
    print_function(*args, console)
    return console.file.getvalue().splitlines()


def _rows(table_text: str) -> list[list[str]]:
    """The body rows' cells (the header's borders are heavy lines, ┃)."""
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in table_text.splitlines()
            if line.startswith("│")]


SOURCES = [SourceInfo("mine", "train", 10, 2, 3, 9, 1, "my dialogues"),
           SourceInfo("mine", "test", 4, 0, None, 4, 0, "my dialogues"),
           SourceInfo("theirs", "train", 0, 0, None, 0, 0, "not here", note="not shipped")]
DATASETS = [DatasetInfo("first", "First", "MIT", "https://example.org/first", [Path("/data/first")],
                        ["train.jsonl"], [("extra.jsonl", "not shipped; put it at /home/data/first/extra.jsonl")]),
            DatasetInfo("second", "Second", "CC BY 4.0", "paper", [], ["test.jsonl"], [])]


def test_sources_table_has_a_row_per_split_and_a_dash_for_the_test_split_overlap():
    assert _rows(_shown(listing.sources_table(SOURCES))) == [
        ["mine", "train", "10", "9", "2", "3", "1"],
        ["mine", "test", "4", "4", "0", "-", "0"],
        ["theirs", "train", "not shipped", "", "", "", ""]]


def test_a_folder_without_files_reads_not_found():
    rows = _rows(_shown(listing.folders_table(DATASETS)))
    assert rows[0][:3] == ["first", "/data/first", "MIT"]
    assert rows[1][:3] == ["second", "not found", "CC BY 4.0"]


def test_folder_notes_name_each_folder_s_missing_files_then_its_optional_ones():
    assert listing.folder_notes(DATASETS) == [
        "first/train.jsonl: missing (expected in the folder above)",
        "first/extra.jsonl: not shipped; put it at /home/data/first/extra.jsonl",
        "second/test.jsonl: missing (expected in the folder above)"]


def test_print_datasets_keeps_each_note_on_one_line_whatever_the_width():
    lines = _printed(listing.print_datasets, SOURCES, DATASETS, width=40)
    assert "first/extra.jsonl: not shipped; put it at /home/data/first/extra.jsonl" in lines
    assert lines[-1].startswith("tutorchat-raw: TutorChat's raw dialogues") and lines[-1].endswith("source.")


def test_dialogue_panel_shows_tags_reference_and_meta_and_prints_markup_as_written():
    dialogue = Dialogue(id="d1", source="mine", context="Solve [b]2x = 6[/b]",
                        turns=(Turn(role="student", text="x = 4?"), Turn(role="tutor", text="Check it."),
                               Turn(role="student", text="[red]3[/red]")),
                        meta={"moves": [[], ["probing", "focus"]], "qid": 7, "human_replies": ["a", "b"],
                              "not_shown": "secret"})
    text = _shown(listing.dialogue_panel(dialogue))
    for expected in ("d1", "Solve [b]2x = 6[/b]", "student: x = 4?", "tutor (probing, focus): Check it.",
                     "student: [red]3[/red]", "(none)", "qid: 7", "human_replies:", "  - a", "  - b"):
        assert expected in text, expected
    assert "secret" not in text
    assert "reference (the tutor must not hand it over)" in _shown(listing.dialogue_panel(dialogue))


def test_print_left_out_counts_each_kind_and_names_only_the_first_ten():
    dropped = [Dropped(f"t{i}", f"duplicate of t{i + 100}") for i in range(11)]
    dropped.append(Dropped("t50", "also in test as test-3"))
    lines = _printed(listing.print_left_out, dropped, [Skipped("bad-1", "turn text is empty")])
    assert lines[0] == "dropped 12 (11 duplicates, 1 also in test)"
    assert lines[1:11] == [f"  t{i}: duplicate of t{i + 100}" for i in range(10)]
    assert lines[11:] == ["  ... and 2 more", "1 source items could not be made valid and were skipped:",
                          "  bad-1: turn text is empty"]
    assert _printed(listing.print_left_out, [], []) == []


def test_teacher_turns_table_and_where_the_test_problems_come_from():
    report = TeacherTurnsReport("train", ("mathdial", "debugging"),
                                {"mathdial": TurnCounts(found=20, origin_in_test=1, test_problem=2,
                                                        validation_problem=3, duplicate=4, kept=10)})
    lines = _printed(listing.print_teacher_turns, report)
    assert _rows("\n".join(lines)) == [ ["mathdial", "20", "1", "2", "3", "4", "10"]]
    assert "validation problem" in lines[2]
    assert lines[-1].startswith("test problems come from: mathdial, debugging (the raw sources")
