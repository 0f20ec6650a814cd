"""Where socratic keeps things on disk. Override with SOCRATIC_HOME (default ~/.cache/socratic)."""

from __future__ import annotations

import os
from pathlib import Path


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
