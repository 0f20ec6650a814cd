"""JSON Lines I/O with validation errors that name file:line:field, and crash-safe writes.

Readers never guess: a bad line raises `InputError("path:line: field 'x': why")`.
Writers either replace a file atomically (`write_jsonl`) or append whole lines that are
flushed and fsynced one record at a time (`JsonlAppender`), so a killed run leaves at most
a truncated last line, which `read_jsonl(..., tolerate_torn_tail=True)` drops on resume.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ValidationError

from socratic.errors import InputError

M = TypeVar("M", bound=BaseModel)


def describe_validation_error(error: ValidationError) -> tuple[str, str]:
    """(dotted field path, message) of the first problem in a pydantic error."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(record)"
    return field, first["msg"]


def iter_json_lines(path: str | Path, *, tolerate_torn_tail: bool = False) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed JSON) for each non-blank line."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=str(path))
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise InputError(f"not valid UTF-8 ({error.reason})", path=str(path), line=line) from None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as error:
            if tolerate_torn_tail and number == len(lines):
                return  # the last line of an interrupted append: drop it, it will be redone
            raise InputError(f"invalid JSON ({error.msg})", path=str(path), line=number) from None


def read_jsonl(path: str | Path, model: type[M], *, tolerate_torn_tail: bool = False) -> list[M]:
    """Read and validate every line of `path` as `model`."""
    records = []
    for number, obj in iter_json_lines(path, tolerate_torn_tail=tolerate_torn_tail):
        try:
            records.append(model.model_validate(obj))
        except ValidationError as error:
            field, message = describe_validation_error(error)
            raise InputError(message, path=str(path), line=number, field=field) from None
    return records


def to_json_line(record: BaseModel | dict[str, Any]) -> str:
    if isinstance(record, BaseModel):
        return record.model_dump_json()
    return json.dumps(record, ensure_ascii=False)


def write_jsonl(path: str | Path, records: Iterable[BaseModel | dict[str, Any]]) -> Path:
    """Write all records to `path` atomically: readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                     prefix=f".{path.name}.", suffix=".tmp") as tmp:
        for record in records:
            tmp.write(to_json_line(record) + "\n")
        tmp.flush()
        os.fsync(tmp.fileno())
    _publish(tmp.name, path)
    return path


def write_json(path: str | Path, obj: Any) -> Path:
    """Write one JSON document atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                     prefix=f".{path.name}.", suffix=".tmp") as tmp:
        json.dump(obj, tmp, indent=2, ensure_ascii=False, default=str)
        tmp.write("\n")
    _publish(tmp.name, path)
    return path


def _publish(tmp_name: str, path: Path) -> None:
    """Give the temp file ordinary permissions (NamedTemporaryFile makes it 0600), then swap it in."""
    os.chmod(tmp_name, 0o644)
    os.replace(tmp_name, path)


def repair_torn_tail(path: Path) -> None:
    """Cut a partially written last line (left by a kill) so appends start on a clean line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    path.write_bytes(data[: data.rfind(b"\n") + 1])


class JsonlAppender:
    """Append records one durable line at a time; use as a context manager."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_torn_tail(self.path)
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        self._file.write(to_json_line(record) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
