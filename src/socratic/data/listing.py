"""What `socratic data` shows in the terminal: the sources and dataset folders (`data list`), one dialogue
as a panel (`data show`), what an export dropped (`data export`) and the teacher turns' counts
(`data teacher-turns`). The tables and the panel are rich renderables built from the data room's own
records; the `print_*` functions add the notes that go with them.

    from rich.console import Console
    from socratic import data
    from socratic.data import listing
    listing.print_datasets(data.list_sources(), data.list_datasets(), Console())
    Console().print(listing.dialogue_panel(data.get_dialogue("mathdial", "test", "mathdial-test-0000")))
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Column, Table
from rich.text import Text

from socratic.data import DatasetInfo, Dropped, Skipped, SourceInfo
from socratic.data.location import TUTORCHAT_RAW
from socratic.records import Dialogue

if TYPE_CHECKING:  # teacher_turns loads MathDial's solutions; `socratic data list` needs none of it
    from socratic.data.teacher_turns import TeacherTurnsReport

SOURCE_COUNTS = ("dialogues", "with ref", "dups", "in test", "skipped")
TEACHER_TURN_COUNTS = ("in histories", "dialogue in test", "test problem", "validation problem", "duplicate", "kept")
META_SHOWN = ("human_reply", "human_moves", "human_replies", "qid", "scenario", "file", "student_name",
              "empty_turns_dropped")  # besides meta["moves"], shown as each turn's tags
DROPPED_LISTED = 10  # an export names this many dropped items, then counts the rest


def _counts_table(title: str, counts: tuple[str, ...], first: tuple[str, ...]) -> Table:
    """A table of the `first` name columns, then the right-aligned `counts`."""
    return Table(*(Column(name, no_wrap=True) for name in first),
                 *(Column(name, justify="right", no_wrap=True) for name in counts),
                 title=title, title_justify="left")


def sources_table(sources: list[SourceInfo]) -> Table:
    """Each source and split: dialogues, with a reference, duplicates, train items also in test, skipped."""
    table = _counts_table("datasets", SOURCE_COUNTS, ("source", "split"))
    for info in sources:
        if info.note:
            table.add_row(info.source, info.split, info.note, "", "", "", "", style="dim")
        else:
            overlap = "-" if info.overlap_with_test is None else str(info.overlap_with_test)
            table.add_row(info.source, info.split, str(info.count), str(info.with_reference), str(info.duplicates),
                          overlap, str(info.skipped))
    return table


def folders_table(datasets: list[DatasetInfo]) -> Table:
    """Each dataset folder: where its files are read from, its license and its origin."""
    table = Table(*(Column(name, overflow="fold") for name in ("dataset", "read from", "license", "origin")),
                  title="dataset folders", title_justify="left")
    for info in datasets:
        where = "\n".join(str(path) for path in info.read_from) or "[red]not found[/]"
        table.add_row(info.folder, where, info.license, info.origin)
    return table


def folder_notes(datasets: list[DatasetInfo]) -> list[str]:
    """A line for each file a dataset folder lacks: a shipped one missing, an optional one not put there."""
    notes = []
    for info in datasets:
        notes += [f"{info.folder}/{name}: missing (expected in the folder above)" for name in info.missing]
        notes += [f"{info.folder}/{name}: {hint}" for name, hint in info.absent_optional]
    return notes


def print_datasets(sources: list[SourceInfo], datasets: list[DatasetInfo], console: Console) -> None:
    """`socratic data list`: both tables, what their columns mean, and each folder's missing files."""
    console.print(sources_table(sources))
    console.print("dups: later copies within the split; in test: distinct train items also in test. "
                  "Use --dedupe (export) or load_dialogues(..., dedupe=True) to drop both.", style="dim")
    console.print(folders_table(datasets))
    console.print("Each folder has a SOURCE.md (version, what was kept) and a LICENSE. Lookup: $SOCRATIC_DATA_DIR "
                  "(if set) else the shipped datasets, then $SOCRATIC_HOME/data (see docs/design.md).", style="dim")
    for note in folder_notes(datasets):
        console.print(note, style="yellow", soft_wrap=True)
    console.print(f"tutorchat-raw: {TUTORCHAT_RAW}.", style="dim", soft_wrap=True)


def dialogue_panel(dialogue: Dialogue) -> Panel:
    """A readable view of one dialogue: context, turns with roles, reference, meta highlights."""
    parts: list = []
    if dialogue.context:
        parts.append(Panel(escape(dialogue.context), title="context", title_align="left", border_style="blue"))
    moves = dialogue.meta.get("moves") or []
    for index, turn in enumerate(dialogue.turns):
        tags = moves[index] if index < len(moves) and moves[index] else []
        label = turn.role + (f" ({', '.join(tags)})" if tags else "")
        parts.append(Text(f"{label}: ", style="bold green" if turn.role == "student" else "bold magenta") + turn.text)
    reference = dialogue.reference if dialogue.reference is not None else "(none)"
    parts.append(Panel(escape(reference), title="reference (the tutor must not hand it over)",
                       title_align="left", border_style="red"))
    for key in (key for key in META_SHOWN if key in dialogue.meta):
        value = dialogue.meta[key]
        lines = "\n".join(f"  - {item}" for item in value) if isinstance(value, list) else None
        parts.append(Text(f"{key}:\n{lines}" if lines is not None else f"{key}: {value}", style="dim"))
    return Panel(Group(*parts), title=f"[bold]{dialogue.id}[/]", title_align="left")


def print_left_out(dropped: list[Dropped], skipped: list[Skipped], console: Console) -> None:
    """`socratic data export`: what --dedupe dropped (by kind, the first few named) and what could not be read."""
    if dropped:
        kinds = Counter("also in test" if item.reason.startswith("also in test") else "duplicates" for item in dropped)
        console.print(f"dropped {len(dropped)} ({', '.join(f'{count} {kind}' for kind, count in kinds.items())})")
        for item in dropped[:DROPPED_LISTED]:
            console.print(f"  {item.id}: {item.reason}", style="dim")
        if len(dropped) > DROPPED_LISTED:
            console.print(f"  ... and {len(dropped) - DROPPED_LISTED} more", style="dim")
    if skipped:
        console.print(f"[yellow]{len(skipped)} source items could not be made valid and were skipped:[/]")
        for item in skipped:
            console.print(f"  {item.id}: {item.reason}", style="dim")


def teacher_turns_table(report: TeacherTurnsReport) -> Table:
    """Per source: the tutor turns in the training histories, where the left-out ones went, how many are kept."""
    table = _counts_table("teacher turns (train)", TEACHER_TURN_COUNTS, ("source",))
    for source, count in report.counts.items():
        table.add_row(source, *(str(n) for n in (count.found, count.origin_in_test, count.test_problem,
                                                 count.validation_problem, count.duplicate, count.kept)))
    return table


def print_teacher_turns(report: TeacherTurnsReport, console: Console) -> None:
    """`socratic data teacher-turns`: the table and where its test and validation problems come from."""
    console.print(teacher_turns_table(report))
    console.print(f"test problems come from: {', '.join(report.test_sets)} (the raw sources: their "
                  "teacher-referenced test sets); validation problems are held out to choose a recipe on "
                  "(mathdial-raw's validation split)", style="dim")
