"""Shared fixtures. Every test gets its own SQLite cache; the converted embedded model is shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before any test module imports torch: spinning OpenMP waits are 4-6x slower on a busy CPU
# (see src/socratic/__init__.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO = Path(__file__).resolve().parents[1]
# The datasets shipped in the repository (see src/socratic/datasets/*/SOURCE.md); nothing outside it.
SHARED_DATA = REPO / "src" / "socratic" / "datasets"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "cache.sqlite"
    monkeypatch.setenv("SOCRATIC_CACHE", str(path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The repository's dataset folder (the name is historical: it once lived outside the repository)."""
    if not SHARED_DATA.exists():
        pytest.fail(f"the datasets are expected in the repository at {SHARED_DATA}")
    return SHARED_DATA
