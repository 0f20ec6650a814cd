"""`socratic data list|show|export|teacher-turns`: look at the datasets and write them as normalized JSONL.

    socratic data list
    socratic data show mathdial --split test --limit 1
    socratic data show debugging-raw --split test --id debugging-raw-test-24_29_factorial_socratic_dialogue-t1
    socratic data export debugging --split train -o runs/debugging-train.jsonl --dedupe
    socratic data teacher-turns --source mathdial -o runs/mathdial-teacher-turns.jsonl
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Column, Table
from rich.text import Text

from socratic import data
from socratic.records import Dialogue
from socratic.store.jsonl import write_jsonl
from socratic.store.paths import check_output_file

console = Console()
app = typer.Typer(help="List, show and export the tutoring datasets.", no_args_is_help=True)

Source = Annotated[str, typer.Argument(help="mathdial, debugging, tutorchat, mathdial-raw, debugging-raw, or a path "
                                            "to a .jsonl of dialogues")]
Split = Annotated[str, typer.Option("--split", "-s", help="train or test")]
META_SHOWN = ("human_reply", "human_moves", "human_replies", "qid", "scenario", "file", "student_name",
              "empty_turns_dropped")  # besides meta["moves"], shown as each turn's tags


@app.command("list")
def list_command() -> None:
    """Sources and splits with counts, duplicates and train/test overlap; each dataset's folder and license."""
    counts = ("dialogues", "with ref", "dups", "in test", "skipped")
    table = Table(Column("source", no_wrap=True), Column("split", no_wrap=True),
                  *(Column(name, justify="right", no_wrap=True) for name in counts),
                  title="datasets", title_justify="left")
    for info in data.list_sources():
        if info.note:
            table.add_row(info.source, info.split, info.note, "", "", "", "", style="dim")
        else:
            overlap = "-" if info.overlap_with_test is None else str(info.overlap_with_test)
            table.add_row(info.source, info.split, str(info.count), str(info.with_reference), str(info.duplicates),
                          overlap, str(info.skipped))
    console.print(table)
    console.print("dups: later copies within the split; in test: distinct train items also in test. "
                  "Use --dedupe (export) or load_dialogues(..., dedupe=True) to drop both.", style="dim")
    folders = Table(*(Column(name, overflow="fold") for name in ("dataset", "read from", "license", "origin")),
                    title="dataset folders", title_justify="left")
    notes = []
    for info in data.list_datasets():
        where = "\n".join(str(path) for path in info.read_from) or "[red]not found[/]"
        folders.add_row(info.folder, where, info.license, info.origin)
        notes += [f"{info.folder}/{name}: missing (expected in the folder above)" for name in info.missing]
        notes += [f"{info.folder}/{name}: {hint}" for name, hint in info.absent_optional]
    console.print(folders)
    console.print("Each folder has a SOURCE.md (version, what was kept) and a LICENSE. Lookup: $SOCRATIC_DATA_DIR "
                  "(if set) else the shipped datasets, then $SOCRATIC_HOME/data (see docs/design.md).", style="dim")
    for note in notes:
        console.print(note, style="yellow", soft_wrap=True)
    console.print(f"tutorchat-raw: {data.TUTORCHAT_RAW}.", style="dim", soft_wrap=True)


def render(dialogue: Dialogue) -> Panel:
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


@app.command("show")
def show_command(
    source: Source,
    split: Split = "test",
    limit: int = typer.Option(3, "--limit", "-n", min=1, help="how many dialogues to show"),
    id: str | None = typer.Option(None, "--id", help="show this dialogue only"),
    offset: int = typer.Option(0, "--offset", min=0, help="skip this many first"),
) -> None:
    """Print dialogues readably: context, turns with roles, reference, meta highlights."""
    if id is not None:
        dialogues = [data.get_dialogue(source, split, id)]
    else:
        everything = data.load_dialogues(source, split)
        dialogues = everything[offset:offset + limit]
        console.print(f"{source} {split}: showing {len(dialogues)} of {len(everything)}", style="dim")
    for dialogue in dialogues:
        console.print(render(dialogue))


@app.command("export")
def export_command(
    source: Source,
    output: Annotated[Path, typer.Option("--output", "-o", help="the JSONL file to write (atomically)")],
    split: Split = "test",
    dedupe: bool = typer.Option(False, "--dedupe", help="drop duplicates and (train) items also in test"),
    limit: int | None = typer.Option(None, "--limit", "-n", min=1, help="write only the first N"),
) -> None:
    """Write normalized Dialogue JSONL (one record per line; readable back as a source)."""
    check_output_file(output, "-o/--output")
    dialogues, dropped, skipped = data.load_with_report(source, split, dedupe=dedupe)
    dialogues = dialogues[:limit]
    write_jsonl(output, dialogues)
    console.print(f"wrote {len(dialogues)} dialogues to {output}")
    if dropped:
        kinds = Counter("also in test" if item.reason.startswith("also in test") else "duplicates" for item in dropped)
        console.print(f"dropped {len(dropped)} ({', '.join(f'{count} {kind}' for kind, count in kinds.items())})")
        for item in dropped[:10]:
            console.print(f"  {item.id}: {item.reason}", style="dim")
        if len(dropped) > 10:
            console.print(f"  ... and {len(dropped) - 10} more", style="dim")
    if skipped:
        console.print(f"[yellow]{len(skipped)} source items could not be made valid and were skipped:[/]")
        for item in skipped:
            console.print(f"  {item.id}: {item.reason}", style="dim")


@app.command("teacher-turns")
def teacher_turns_command(
    sources: Annotated[list[str] | None, typer.Option(
        "--source", help="mathdial, debugging, debugging-raw (the alternative utterances too) or tutorchat; "
                         "repeat for several (default: mathdial and debugging)")] = None,
    model_written: bool = typer.Option(False, "--model-written",
                                       help="allow TutorChat, whose tutor turns a model wrote, not people"),
    test_sets: Annotated[list[str] | None, typer.Option(
        "--test-set", help="a test set whose problems no teacher turn may come from; repeat for several "
                           "(default: all of mathdial, debugging, tutorchat, mathdial-raw, debugging-raw)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="write the teacher turns as JSONL (atomically)")] = None,
) -> None:
    """The real tutor turns of the training dialogues' histories: counts per source, and a JSONL export."""
    from socratic.data.teacher_turns import TEST_SETS, load_teacher_turns_with_report

    turns, report = load_teacher_turns_with_report(tuple(sources or ("mathdial", "debugging")),
                                                   include_model_written=model_written,
                                                   test_sets=tuple(test_sets or TEST_SETS))
    counts = ("in histories", "dialogue in test", "test problem", "validation problem", "duplicate", "kept")
    table = Table(Column("source", no_wrap=True), *(Column(name, justify="right", no_wrap=True) for name in counts),
                  title="teacher turns (train)", title_justify="left")
    for source, count in report.counts.items():
        table.add_row(source, *(str(n) for n in (count.found, count.origin_in_test, count.test_problem,
                                                 count.validation_problem, count.duplicate, count.kept)))
    console.print(table)
    console.print(f"test problems come from: {', '.join(report.test_sets)} (the raw sources: their "
                  "teacher-referenced test sets); validation problems are held out to choose a recipe on "
                  "(mathdial-raw's validation split)", style="dim")
    if output is not None:
        write_jsonl(output, turns)
        console.print(f"wrote {len(turns)} teacher turns to {output}")
