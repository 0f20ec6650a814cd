"""JSON Lines I/O with validation errors that name file:line:field, and crash-safe writes.

Readers never guess: a bad line raises `InputError("path:line: field 'x': why")`.
Writers either replace a file atomically (`write_jsonl`) or append whole lines that are
flushed and fsynced one record at a time (`JsonlAppender`), so a killed run leaves at most
a truncated last line, which `read_jsonl(..., tolerate_torn_tail=True)` drops on resume.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self, TextIO, TypeVar

from pydantic import BaseModel, ValidationError

from socratic.errors import InputError

M = TypeVar("M", bound=BaseModel)

# Validation context of a record read from a file, as opposed to one made in code: a versioned row
# (socratic.store.artifact.ArtifactRow) without a `version` key is then from before versions, not current.
STORED = "stored"


def describe_validation_error(error: ValidationError) -> tuple[str, str]:
    """(dotted field path, message) of the first problem in a pydantic error."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(record)"
    return field, first["msg"]


def decode_utf8(data: bytes, path: str | Path) -> str:
    """The text of a file's bytes. A leading byte-order mark (Windows editors write one) is dropped:
    JSON forbids it, and Python's own error would only advise 'utf-8-sig'."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(f"not valid UTF-8 ({error.reason})", path=str(path), line=line) from None


def iter_json_lines(path: str | Path, *, tolerate_torn_tail: bool = False) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed JSON) for each non-blank line."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=str(path))
    lines = decode_utf8(path.read_bytes(), path).splitlines()
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            if text.startswith("\ufeff"):  # a file pasted after another one, BOM and all
                raise json.JSONDecodeError("a byte-order mark at the start of the line; delete it", text, 0)
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
            records.append(model.model_validate(obj, context={STORED: True}))
        except ValidationError as error:
            field, message = describe_validation_error(error)
            raise InputError(message, path=str(path), line=number, field=field) from None
    return records


def to_json_line(record: BaseModel | dict[str, Any]) -> str:
    if isinstance(record, BaseModel):
        with ctrl_c_held():  # a Ctrl-C inside pydantic's serializer would come out as a serialization error
            return record.model_dump_json()
    return json.dumps(record, ensure_ascii=False)


@contextmanager
def atomic_file(path: str | Path) -> Iterator[TextIO]:
    """A text file that appears under `path` only once whole: written to a temp file next to it,
    fsynced, given ordinary permissions (NamedTemporaryFile makes it 0600), then renamed over `path`.
    Readers see the old file or the whole new one; on an error the temp file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                     prefix=f".{path.name}.", suffix=".tmp") as tmp:
        try:
            yield tmp
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    try:
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, path)
    except OSError:  # `path` is a folder, or not ours to replace: no hidden temp file stays behind
        os.unlink(tmp.name)
        raise


def write_jsonl(path: str | Path, records: Iterable[BaseModel | dict[str, Any]]) -> Path:
    """Write all records to `path` atomically."""
    with atomic_file(path) as out:
        for record in records:
            out.write(to_json_line(record) + "\n")
    return Path(path)


def write_json(path: str | Path, obj: Any) -> Path:
    """Write one JSON document atomically."""
    with atomic_file(path) as out:
        json.dump(obj, out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file (a dataset card, a report) atomically."""
    with atomic_file(path) as out:
        out.write(text)
    return Path(path)


def repair_torn_tail(path: Path) -> None:
    """Cut a partially written last line (left by a kill) so appends start on a clean line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    path.write_bytes(data[: data.rfind(b"\n") + 1])


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block until the block is done, then deliver it.

    A record is written whole or not at all, and the interrupt stays a KeyboardInterrupt: one raised inside
    pydantic's serializer would come out as a PydanticSerializationError, and the run would end with a
    traceback instead of the resume hint. Signal handlers live in the main thread only; elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[Any] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held and callable(previous):
            previous(signal.SIGINT, held[0])
        elif held and previous == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGINT)


class JsonlAppender:
    """Append records one durable line at a time; use as a context manager."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_torn_tail(self.path)
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        with ctrl_c_held():
            self._file.write(to_json_line(record) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_json_model(path: str | Path, model: type[M]) -> M:
    """One JSON document (a stage's result file) as `model`; bad input raises InputError naming file and field."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=str(path))
    text = decode_utf8(path.read_bytes(), path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON ({error.msg})", path=str(path), line=error.lineno) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        field, message = describe_validation_error(error)
        raise InputError(message, path=str(path), field=field) from None
