"""Where the shared datasets live, and the small result type every adapter returns.

Lookup order: env SOCRATIC_DATA_DIR, then the first existing of `<cwd>/../shared/data`,
`<cwd>/shared/data`, `<repo root>/../shared/data`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from socratic.errors import SocraticError
from socratic.records import Dialogue

REPO_ROOT = Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    """The folder holding socratic_llm/, mathdial/, socratic_debugging/ (see each SOURCE.md)."""
    override = os.environ.get("SOCRATIC_DATA_DIR")
    if override:
        path = Path(override).expanduser()
        if not path.is_dir():
            raise SocraticError(f"SOCRATIC_DATA_DIR={override} is not a folder")
        return path
    candidates = [Path.cwd().parent / "shared" / "data", Path.cwd() / "shared" / "data",
                  REPO_ROOT.parent / "shared" / "data"]
    for path in candidates:
        if path.is_dir():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise SocraticError(f"dataset folder not found (tried {tried}); set SOCRATIC_DATA_DIR")


def data_file(*parts: str) -> Path:
    """A file under the data folder, with an error that says where it was expected."""
    path = data_dir().joinpath(*parts)
    if not path.exists():
        raise SocraticError(f"dataset file not found: {path}")
    return path


@dataclass
class Skipped:
    """An item that could not be turned into a valid Dialogue: reported and counted, never silent."""

    id: str
    reason: str


@dataclass
class Loaded:
    dialogues: list[Dialogue]
    skipped: list[Skipped] = field(default_factory=list)
