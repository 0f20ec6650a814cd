"""The ratings CSV: one row per (item, letter), one rater per file; written blank by the export (and by
the sheet's download button, filled), read back and checked by the import.

    sheet,rater,item,letter,score,note
    3f2a9c0d1e4b5a6f,Ann,1,A,4,asks about the right step
    3f2a9c0d1e4b5a6f,Ann,1,B,1,

`read_ratings(path, key)` refuses, with one line naming the file, the line and the field: a missing
column, a row of another sheet, a second rater in one file, an unknown item or letter, a score that is
not a whole number from 1 to 5 (or is empty), a reply rated twice, and a reply of the sheet not rated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from socratic.errors import InputError
from socratic.rate.scale import SCORES
from socratic.rate.sheet import RatingKey
from socratic.store.jsonl import atomic_file, decode_utf8

COLUMNS = ("sheet", "rater", "item", "letter", "score", "note")


class RaterSheet(BaseModel):
    """One rater's complete ratings of one sheet."""

    model_config = ConfigDict(frozen=True)

    path: str
    rater: str
    rater_line: int  # the first line naming the rater
    scores: dict[tuple[int, str], int]  # (item, letter) -> 1..5
    notes: dict[tuple[int, str], str]


def write_blank(path: str | Path, key: RatingKey) -> Path:
    """The CSV a rater who prefers a spreadsheet fills in: every row there, rater and score empty."""
    with atomic_file(path) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for item in key.items:
            for letter in sorted(item.letters):
                writer.writerow([key.sheet, "", item.item, letter, "", ""])
    return Path(path)


def _score(text: str, path: str, line: int) -> int:
    text = text.strip()
    if not text:
        raise InputError("empty: every reply needs a score from 1 to 5", path=path, line=line, field="score")
    try:
        score = int(text)
    except ValueError:
        raise InputError(f"{text!r} is not a whole number from 1 to 5", path=path, line=line,
                         field="score") from None
    if score not in SCORES:
        raise InputError(f"{score} is outside the scale 1-5", path=path, line=line, field="score")
    return score


def read_ratings(path: str | Path, key: RatingKey) -> RaterSheet:
    """One rater's ratings of the sheet `key` unblinds, checked (see the module docstring)."""
    where = str(path)
    if not Path(path).exists():
        raise InputError("file not found", path=where)
    reader = csv.DictReader(io.StringIO(decode_utf8(Path(path).read_bytes(), path)))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or []) and c != "note"]
    if missing:
        raise InputError(f"no column {missing[0]!r}; expected {','.join(COLUMNS)}", path=where, line=1,
                         field=missing[0])
    items = {k.item: k for k in key.items}
    rater: tuple[str, int] | None = None
    scores: dict[tuple[int, str], int] = {}
    notes: dict[tuple[int, str], str] = {}
    seen: dict[tuple[int, str], int] = {}
    for row in reader:
        line = reader.line_num
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line a spreadsheet left at the end
        if (row["sheet"] or "").strip() != key.sheet:
            raise InputError(f"sheet {row['sheet']!r} is not the sheet of this key ({key.sheet}): ratings of "
                             "another export", path=where, line=line, field="sheet")
        name = (row["rater"] or "").strip()
        if not name:
            raise InputError("empty: write the rater's name in every row", path=where, line=line, field="rater")
        if rater is None:
            rater = (name, line)
        elif name != rater[0]:
            raise InputError(f"{name!r}, but line {rater[1]} says {rater[0]!r}: one rater per file",
                             path=where, line=line, field="rater")
        try:
            item = items[int((row["item"] or "").strip())]
        except (ValueError, KeyError):
            raise InputError(f"{row['item']!r} is not an item of this sheet (1-{len(items)})", path=where,
                             line=line, field="item") from None
        letter = (row["letter"] or "").strip().upper()
        if letter not in item.letters:
            raise InputError(f"{row['letter']!r} is not a reply of item {item.item} "
                             f"({', '.join(sorted(item.letters))})", path=where, line=line, field="letter")
        cell = (item.item, letter)
        if cell in seen:
            raise InputError(f"item {item.item} reply {letter} is rated twice (also on line {seen[cell]})",
                             path=where, line=line, field="letter")
        seen[cell] = line
        scores[cell] = _score(row["score"] or "", where, line)
        notes[cell] = (row.get("note") or "").strip()
    if rater is None:
        raise InputError("no ratings in the file", path=where)
    unrated = [(k.item, letter) for k in key.items for letter in sorted(k.letters) if (k.item, letter) not in scores]
    if unrated:
        item, letter = unrated[0]
        raise InputError(f"item {item} reply {letter} is not rated ({len(unrated)} of "
                         f"{sum(len(k.letters) for k in key.items)} replies missing)", path=where, field="item")
    return RaterSheet(path=where, rater=rater[0], rater_line=rater[1], scores=scores, notes=notes)


def read_all(paths: Sequence[str | Path], key: RatingKey) -> list[RaterSheet]:
    """Every file's ratings; a rater who appears in two files is refused (names compared ignoring case)."""
    sheets: list[RaterSheet] = []
    for path in paths:
        sheet = read_ratings(path, key)
        twin = next((s for s in sheets if s.rater.casefold() == sheet.rater.casefold()), None)
        if twin is not None:
            raise InputError(f"rater {sheet.rater!r} also rated in {twin.path}: one file per rater", path=str(path),
                             line=sheet.rater_line, field="rater")
        sheets.append(sheet)
    return sheets
