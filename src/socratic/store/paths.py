"""Where socratic keeps things on disk (override with SOCRATIC_HOME, default ~/.cache/socratic), and the checks
of an output path a user names, made before any work (`check_output_file`, `check_output_folder`)."""

from __future__ import annotations

import os
from pathlib import Path

from socratic.errors import SocraticError


def home() -> Path:
    root = Path(os.environ.get("SOCRATIC_HOME", Path.home() / ".cache" / "socratic"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_db() -> Path:
    """The SQLite cache shared by all stages (SOCRATIC_CACHE overrides its path)."""
    override = os.environ.get("SOCRATIC_CACHE")
    return Path(override) if override else home() / "cache.sqlite"


def models_dir() -> Path:
    path = home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _writable_place(path: Path, option: str) -> None:
    """The nearest existing folder above `path` must be a folder we may write into."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise SocraticError(f"{option} {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SocraticError(f"{option} {path}: {parent} is not writable")


def check_output_file(path: Path, option: str = "-o/--out") -> None:
    """Refuse, before any work, an output file that is a folder or cannot be written (one line, exit 2)."""
    if path.is_dir():
        raise SocraticError(f"{option} {path}: is a folder; name a file")
    if path.exists() and not os.access(path, os.W_OK):
        raise SocraticError(f"{option} {path}: the file is not writable")
    _writable_place(path, option)


def check_output_folder(path: Path, option: str = "-o/--out") -> None:
    """Refuse, before any work, an output folder that is a file or cannot be written (one line, exit 2)."""
    if path.exists() and not path.is_dir():
        raise SocraticError(f"{option} {path}: is a file; name a folder (new or existing)")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise SocraticError(f"{option} {path}: the folder is not writable")
        return
    _writable_place(path, option)
