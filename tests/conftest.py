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


@pytest.fixture(scope="session")
def learned_model_path(tmp_path_factory, shared_data) -> Path:
    """The learned judge fitted once per session on the shipped labels (first use of `load_or_train`, which
    must create the file), made the default `--judge learned` for the session via SOCRATIC_LEARNED_JUDGE."""
    from socratic.judge.learned import store as learned_store

    path = tmp_path_factory.mktemp("judges") / "learned.json"
    previous = os.environ.get("SOCRATIC_LEARNED_JUDGE")
    os.environ["SOCRATIC_LEARNED_JUDGE"] = str(path)
    assert not path.exists()
    learned_store.load_or_train()
    assert path.exists()
    yield path
    if previous is None:
        os.environ.pop("SOCRATIC_LEARNED_JUDGE", None)
    else:
        os.environ["SOCRATIC_LEARNED_JUDGE"] = previous


@pytest.fixture(scope="session")
def reward_model_path(tmp_path_factory, shared_data) -> Path:
    """The pairwise judge fitted once per session on the shipped labels (first use of `load_or_train`),
    made the default `--judge pairwise` for the session via SOCRATIC_REWARD_JUDGE."""
    from socratic.judge.pairwise import store as reward

    path = tmp_path_factory.mktemp("judges") / "reward.json"
    previous = os.environ.get("SOCRATIC_REWARD_JUDGE")
    os.environ["SOCRATIC_REWARD_JUDGE"] = str(path)
    assert not path.exists()
    reward.load_or_train()
    assert path.exists()
    yield path
    if previous is None:
        os.environ.pop("SOCRATIC_REWARD_JUDGE", None)
    else:
        os.environ["SOCRATIC_REWARD_JUDGE"] = previous


# Debian's chromium through Playwright, never `playwright install` (it downloads a browser); the flags keep it
# offline and quiet in a container.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser():
    """A headless chromium for the `browser` tests (the chat page, the rating sheet)."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is missing: run scripts/install-system-deps.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
