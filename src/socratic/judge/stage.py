"""The `socratic judge` stage: read replies, judge them, write Judgment JSONL, print a summary.

    socratic judge --input candidates.jsonl --judge rubric -o judgments.jsonl
    socratic judge --input src/socratic/datasets/socratic_llm/mathdial_human_eval_dev.json --judge llm:openai:gpt-4o -o j.jsonl

Input: Labelled-reply JSONL (`{"dialogue", "reply", "labels"}`), Candidate JSONL (from `socratic
generate`), or the reference's human-eval JSON list (via `socratic.data.load_labelled`). Provenance
(candidate model/index/meta, human labels, input line) goes into each Judgment's `meta`.
The output is written atomically at the end; judgments are cached as they arrive, so an
interrupted run costs nothing to resume.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from rich.table import Table

from socratic.config import Output
from socratic.errors import InputError
from socratic.records import Candidate, Dialogue, LabelledReply
from socratic.scores import CRITERIA, Formula, Judgment, judgment_summary
from socratic.specs import JUDGE_SPEC_HELP
from socratic.store.cache import Cache, NoCache
from socratic.store.jsonl import iter_json_lines, read_jsonl, write_jsonl


class JudgeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    input: Path = Field(description=(
        "Candidate JSONL (socratic generate), Labelled-reply JSONL, or the socratic_llm human-eval JSON "
        "(mathdial_human_eval_dev.json)."))
    output: Path = Field(description="Where to write the Judgment JSONL.")
    judge: Output[str] = Field(default="rubric", description=f"Judge spec: {JUDGE_SPEC_HELP}.")
    max_tries: Output[int] = Field(default=3, ge=1, le=20, description=(
        "LLM judge: calls per item before giving up (each re-ask shows the model its validation error)."))
    concurrency: int = Field(default=4, ge=1, le=64, description="LLM judge over HTTP: parallel requests.")
    no_cache: bool = Field(default=False, description="Judge again instead of reading the cache.")
    formula: Output[Formula] = Field(default="uniform", description="Summary formula: uniform or reference.")
    limit: Output[int | None] = Field(default=None, ge=1, description="Judge only the first N items.")
    progress: bool = True


def read_items(path: Path) -> tuple[list[tuple[Dialogue, str]], list[dict[str, Any]]]:
    """(dialogue, reply) pairs and their provenance from any of the three input formats."""
    if not path.exists():
        raise InputError("file not found", path=str(path))
    # Sniff the format from raw bytes: a non-UTF-8 file must reach the readers, which name its line.
    with path.open("rb") as file:
        head = file.read(4096).decode("utf-8", errors="replace").lstrip()
    if head.startswith("["):
        from socratic.data import load_labelled

        labelled = load_labelled(path)
        return ([(x.dialogue, x.reply) for x in labelled],
                [{"source_index": i, "labels": x.labels.model_dump()} for i, x in enumerate(labelled)])
    first = next(iter_json_lines(path), None)
    if first is None:
        raise InputError("no records", path=str(path))
    line, record = first
    if not isinstance(record, dict) or "dialogue" not in record or "reply" not in record:
        raise InputError("expected Labelled-reply or Candidate records with 'dialogue' and 'reply'",
                         path=str(path), line=line)
    if "model" in record:
        candidates = read_jsonl(path, Candidate)
        return ([(c.dialogue, c.reply) for c in candidates],
                [{"source_index": i, "model": c.model, "index": c.index, **c.meta} for i, c in enumerate(candidates)])
    labelled = read_jsonl(path, LabelledReply)
    return ([(x.dialogue, x.reply) for x in labelled],
            [{"source_index": i, "labels": x.labels.model_dump()} for i, x in enumerate(labelled)])


@dataclass
class JudgeSummary:
    count: int
    failures: int
    means: dict[str, float | None]
    summary: float | None
    output: Path | None = None


def with_formula(judgments: list[Judgment], formula: Formula) -> list[Judgment]:
    if formula == "uniform":
        return judgments
    return [j.model_copy(update={"summary": judgment_summary(j, formula)}) if j.scores else j for j in judgments]


def summarise(judgments: list[Judgment]) -> JudgeSummary:
    ok = [j for j in judgments if j.scores is not None]

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    means = {name: mean([float(getattr(j.scores, name)) for j in ok]) for name in CRITERIA}
    return JudgeSummary(len(judgments), len(judgments) - len(ok), means, mean([j.summary for j in ok]))


def print_summary(summary: JudgeSummary, judge: str, formula: str, console: Console | None = None) -> None:
    table = Table(title=f"judge {judge} (summary formula: {formula})")
    for column in ("count", "failures", *CRITERIA, "summary"):
        table.add_column(column, justify="right")
    fmt = (lambda v: "-" if v is None else f"{v:.3f}")
    table.add_row(str(summary.count), str(summary.failures), *(fmt(summary.means[c]) for c in CRITERIA),
                  fmt(summary.summary))
    (console or Console(stderr=True)).print(table)


def run(config: JudgeConfig) -> JudgeSummary:
    from socratic.judge import files, load_judge
    from socratic.store.paths import check_output_file

    # Before any item is judged (for an `llm:` judge: before any API call), not after all of them.
    check_output_file(config.output, "-o/--output")
    files.check([config.judge])
    items, metas = read_items(config.input)
    if config.limit is not None:
        items, metas = items[:config.limit], metas[:config.limit]
    cache = NoCache() if config.no_cache else Cache()
    judge = load_judge(config.judge, cache=cache, max_tries=config.max_tries, concurrency=config.concurrency)
    judgments = with_formula(judge.judge_many(items, metas, progress=config.progress), config.formula)
    write_jsonl(config.output, judgments)
    summary = summarise(judgments)
    summary.output = config.output
    failed = [j for j in judgments if j.error]
    if failed:
        print_failures(failed)
    return summary


def print_failures(failed: list[Judgment], shown: int = 5) -> None:
    console = Console(stderr=True)
    console.print(f"[yellow]{len(failed)} judgment(s) failed[/] (kept in the output with an 'error' field; "
                  "re-run to retry them):")
    for j in failed[:shown]:
        console.print(f"  {j.dialogue.id}: {json.dumps(j.error)[:200]}", highlight=False)
