"""The layout of a `socratic run` folder: where each stage writes, in one place.

    RUN/prefs/X/            candidates, judgments, pairs of training set X (round r > 1: RUN/prefs/X/roundR/)
    RUN/models/X/           the tuned model of X (round r > 1: RUN/models/X-roundR/; warm-up: RUN/models/X-sft/)
    RUN/eval/               evaluation.json, replies.jsonl, judgments.jsonl
    RUN/agreement/          agreement.json and figures
    RUN/report.html, RUN/report.md, RUN/timings.json, RUN/.stages/ (the stage manifests)

The orchestrator (socratic.pipeline) writes this layout and the report (socratic.report) reads it; both
import it from here, low in the import graph, so neither imports the other for it. The files the
orchestrator keeps about its own progress are typed and versioned here too (socratic.store.artifact):

    RUN/.stages/<stage>.json          StageManifest: written LAST when a stage finishes
    RUN/.stages/<stage>.pending.json  PendingStage: while a stage runs (a resume checks it)
    RUN/timings.json                  Timings: what this invocation ran or skipped, wall time, peak RSS

Fingerprints are {relative path: {"size", "mtime_ns", "sha256"}} (socratic.pipeline.runner.fingerprint).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from socratic.data import SOURCES
from socratic.store.artifact import Artifact

EVAL = "eval"
AGREEMENT = "agreement"
REPORT_HTML, REPORT_MD = "report.html", "report.md"
TIMINGS = "timings.json"
STAGES = ".stages"


def slug(source: str) -> str:
    """A folder-safe name for a data source (a path becomes its file stem)."""
    if source in SOURCES:
        return source
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(source).stem) or "data"


def prefs_folder(root: Path, dataset: str, round_number: int = 1) -> Path:
    folder = root / "prefs" / dataset
    return folder if round_number == 1 else folder / f"round{round_number}"


def model_folder(root: Path, dataset: str, round_number: int = 1) -> Path:
    # Later rounds are siblings of round 1's folder, not inside it: a model folder is fingerprinted,
    # exported and (when retrained) removed as a whole, and must not carry other models with it.
    return root / "models" / (dataset if round_number == 1 else f"{dataset}-round{round_number}")


def sft_folder(root: Path, dataset: str) -> Path:
    return root / "models" / f"{dataset}-sft"


# ------------------------------------------------------------------ the orchestrator's own records

Fingerprints = dict[str, dict[str, Any]]


class PendingStage(Artifact):
    VERSION: ClassVar[int] = 1

    config_hash: str
    inputs: Fingerprints = Field(default_factory=dict)


class StageManifest(Artifact):
    VERSION: ClassVar[int] = 1

    stage: str
    config: dict[str, Any] = Field(default_factory=dict)  # portable: the run folder's path written as <run>
    config_hash: str
    inputs: Fingerprints = Field(default_factory=dict)
    outputs: Fingerprints = Field(default_factory=dict)
    wall_s: float | None = None
    peak_rss_mb: float | None = None
    finished_at: str | None = None
    reason: str | None = None  # why it ran


class StageTiming(BaseModel):
    """One stage in one invocation: ran (its own wall time and peak) or skipped (its last run's)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    status: Literal["ran", "skipped"]
    reason: str | None = None
    wall_s: float | None = None
    peak_rss_mb: float | None = None
    last_wall_s: float | None = None
    last_peak_rss_mb: float | None = None

    @property
    def wall(self) -> float | None:
        return self.wall_s if self.wall_s is not None else self.last_wall_s

    @property
    def peak(self) -> float | None:
        return self.peak_rss_mb if self.peak_rss_mb is not None else self.last_peak_rss_mb


class Timings(Artifact):
    VERSION: ClassVar[int] = 1

    started_at: str | None = None
    stages: dict[str, StageTiming] = Field(default_factory=dict)
    total_wall_s: float | None = None
    peak_rss_mb: float | None = None  # the largest stage peak of this invocation
