"""`socratic data list|show|export|teacher-turns`: look at the datasets and write them as normalized JSONL.

    socratic data list
    socratic data show mathdial --split test --limit 1
    socratic data show debugging-raw --split test --id debugging-raw-test-24_29_factorial_socratic_dialogue-t1
    socratic data export debugging --split train -o runs/debugging-train.jsonl --dedupe
    socratic data teacher-turns --source mathdial -o runs/mathdial-teacher-turns.jsonl
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from socratic import data
from socratic.data import listing
from socratic.store.jsonl import write_jsonl
from socratic.store.paths import check_output_file

console = Console()
app = typer.Typer(help="List, show and export the tutoring datasets.", no_args_is_help=True)

Source = Annotated[str, typer.Argument(help="mathdial, debugging, tutorchat, mathdial-raw, debugging-raw, or a path "
                                            "to a .jsonl of dialogues")]
Split = Annotated[str, typer.Option("--split", "-s", help="train or test")]


@app.command("list")
def list_command() -> None:
    """Sources and splits with counts, duplicates and train/test overlap; each dataset's folder and license."""
    listing.print_datasets(data.list_sources(), data.list_datasets(), console)


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
        console.print(listing.dialogue_panel(dialogue))


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
    listing.print_left_out(dropped, skipped, console)


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

    if output is not None:
        check_output_file(output, "-o/--output")  # before the counting, as `data export` does
    turns, report = load_teacher_turns_with_report(tuple(sources or ("mathdial", "debugging")),
                                                   include_model_written=model_written,
                                                   test_sets=tuple(test_sets or TEST_SETS))
    listing.print_teacher_turns(report, console)
    if output is not None:
        write_jsonl(output, turns)
        console.print(f"wrote {len(turns)} teacher turns to {output}")
