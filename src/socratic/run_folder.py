"""The layout of a `socratic run` folder: where each stage writes, in one place.

    RUN/prefs/X/            candidates, judgments, pairs of training set X (round r > 1: RUN/prefs/X/roundR/)
    RUN/models/X/           the tuned model of X (round r > 1: RUN/models/X-roundR/; warm-up: RUN/models/X-sft/)
    RUN/eval/               evaluation.json, replies.jsonl, judgments.jsonl
    RUN/agreement/          agreement.json and figures
    RUN/report.html, RUN/report.md, RUN/timings.json, RUN/.stages/ (the stage manifests)

The orchestrator (socratic.pipeline) writes this layout and the report (socratic.report) reads it; both
import it from here, low in the import graph, so neither imports the other for it.
"""

from __future__ import annotations

import re
from pathlib import Path

from socratic.data import SOURCES

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
