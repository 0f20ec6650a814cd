"""A SQLite cache keyed by a content hash, shared by generation, judging and evaluation.

A key is the SHA-256 of the canonical JSON of everything that determines a result (model spec,
messages, sampling options, seed, prompt version...). Re-running a stage with the same inputs
costs nothing; a changed input is a different key. Values are JSON; bytes (the judges' sentence vectors,
socratic.judge.rubric.embedding) go to a table of their own, many at a time.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from socratic.store import paths


def content_key(*parts: Any) -> str:
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Cache:
    """get/put JSON values by key. Safe to share between threads; WAL lets processes share it too."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else paths.cache_db()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL still survives a killed process (only a power cut can lose the
        # newest entries, which are then recomputed); FULL would fsync every put.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, kind TEXT, value TEXT NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
        self._db.commit()

    def get(self, key: str) -> Any | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM cache WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: Any, kind: str = "") -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO cache (key, kind, value) VALUES (?, ?, ?)",
                             (key, kind, json.dumps(value, ensure_ascii=False)))
            self._db.commit()

    def get_blobs(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The stored bytes of those keys that have some."""
        keys, found = list(keys), {}
        with self._lock:
            for start in range(0, len(keys), 500):  # SQLite's limit on a statement's parameters
                chunk = keys[start:start + 500]
                found.update(self._db.execute(f"SELECT key, value FROM blobs WHERE key IN ({','.join('?' * len(chunk))})",
                                              chunk).fetchall())
        return found

    def put_blobs(self, values: Mapping[str, bytes]) -> None:
        """Store many at once: one transaction."""
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO blobs (key, value) VALUES (?, ?)", values.items())
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM cache").fetchone()[0]

    def close(self) -> None:
        self._db.close()


class NoCache(Cache):
    """The `--no-cache` stand-in: never hits, never stores."""

    def __init__(self) -> None:
        pass

    def get(self, key: str) -> Any | None:
        return None

    def put(self, key: str, value: Any, kind: str = "") -> None:
        return None

    def get_blobs(self, keys: Iterable[str]) -> dict[str, bytes]:
        return {}

    def put_blobs(self, values: Mapping[str, bytes]) -> None:
        return None

    def __len__(self) -> int:
        return 0

    def close(self) -> None:
        return None
