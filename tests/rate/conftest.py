"""Fixtures of the rating kit's tests (the data is in ratekit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ratekit import write_evaluation


@pytest.fixture
def evaluation(tmp_path) -> Path:
    return write_evaluation(tmp_path / "eval")


@pytest.fixture
def rate(monkeypatch, capsys):
    """Run `socratic ARGS...` through the real entry point: (exit code, stdout, stderr)."""
    from socratic.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["socratic", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run
