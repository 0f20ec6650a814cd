"""A fitted judge on disk (`learned`, `pairwise`): one JSON document {"checksum": ..., "model": payload},
written atomically; the checksum is the SHA-256 of the payload's canonical JSON, so a damaged file is
told apart from a valid one (a hand edit can recompute it: the judges check their arrays too).

    store.save(payload, path)
    payload, intact = store.read(path)     # OSError / ValueError / KeyError on an unreadable file
    store.default_path("learned.json", "SOCRATIC_LEARNED_JUDGE")   # where `--judge learned` finds it

Where the judges live by default is decided here once: SOCRATIC_HOME/judges/, unless the user names the
file (an environment variable, or a path of their own: `is_default` tells the two apart, and a judge
refits a stale file only at its default location).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def checksum(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def save(payload: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"checksum": checksum(payload), "model": payload}))
    tmp.replace(path)
    return path


def read(path: Path) -> tuple[dict[str, Any], bool]:
    """The saved payload and whether it matches its checksum."""
    document = json.loads(path.read_text(encoding="utf-8"))
    payload = document["model"]
    return payload, checksum(payload) == document["checksum"]


def default_path(name: str, env: str) -> Path:
    """SOCRATIC_HOME/judges/NAME; the environment variable `env` overrides it."""
    from socratic.store.paths import home

    override = os.environ.get(env)
    return Path(override).expanduser() if override else home() / "judges" / name


def is_default(path: Path | None, env: str) -> bool:
    """Whether a judge asked for at `path` is the default one (no path given, `env` unset), which socratic
    may refit; a file the user named is theirs."""
    return path is None and not os.environ.get(env)
