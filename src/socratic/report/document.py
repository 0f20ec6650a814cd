"""The report as data: a title, an opening line and sections of blocks (paragraphs, tables, figures, ...).

socratic.report.build and the section builders next to their numbers (lifts.py, checks.py, ...) make one
`Document`; socratic.report.to_markdown and socratic.report.to_html write it out, so the two formats carry
the same sections, in the same order, with the same words, and cannot drift apart.

    doc = Document("Run", [Bold("uniform")], [Section("Models", [Table([Column("name")], [["base"]])])])

Text is a sequence of inline pieces: plain strings (never markup: the renderers escape them) and the few
styles below; a single string or piece stands for a sequence of one. `prose` writes the report's own
sentences with Markdown's inline marks, filling in values (model text, names, numbers) as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Styled:
    """A piece of text in one style; the subclasses below name the style."""

    text: str


class Code(Styled):
    """Code, a name or a spec: monospace."""


class Bold(Styled):
    """Emphasis: a significant difference, a label the reader must not miss."""


class Italic(Styled):
    """A term being defined."""


class Muted(Styled):
    """A side note inside a line (a sample size, a CI): as it is in Markdown, grey in HTML."""


class Flag(Styled):
    """A missed target: bold in Markdown, bold and orange in HTML."""


@dataclass(frozen=True)
class Break:
    """A line break inside a table cell."""


Inline = str | Styled | Break
Text = Inline | Sequence[Inline]


def inlines(text: Text) -> tuple[Inline, ...]:
    """The pieces of `text` (a lone string or piece is a sequence of one)."""
    if isinstance(text, (str, Styled, Break)):
        return (text,)
    return tuple(text)


def plain(text: Text) -> str:
    """The words of `text` without any style (section titles compared across formats, HTML alt text)."""
    return "".join("" if isinstance(p, Break) else p if isinstance(p, str) else p.text for p in inlines(text))


_MARKS = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\*([^*]+)\*")


def prose(template: str, **values: object) -> tuple[Inline, ...]:
    """The report's own sentence with `code`, **bold** and *italic* marks read into pieces; then each
    {field} is filled from `values` (str.format), so a value is plain text even if it holds a mark.

        prose("Target: a reveal rate not higher than *{model}*'s.", model="base")
    """
    pieces: list[Inline] = []
    start = 0
    for mark in _MARKS.finditer(template):
        pieces.append(template[start:mark.start()].format(**values))
        code, bold, italic = mark.groups()
        pieces.append(Code(code.format(**values)) if code is not None else
                      Bold(bold.format(**values)) if bold is not None else Italic(italic.format(**values)))
        start = mark.end()
    pieces.append(template[start:].format(**values))
    return tuple(p for p in pieces if p != "")


@dataclass(frozen=True)
class Paragraph:
    """Running text; `note` (the default): an explanation next to a table, grey in HTML."""

    text: Text
    note: bool = True


@dataclass(frozen=True)
class Callout:
    """A warning or a flag that must not be missed (a quote in Markdown, a yellow box in HTML)."""

    text: Text


@dataclass(frozen=True)
class Column:
    title: Text
    numeric: bool = False  # right-aligned, tabular figures


def columns(names: Sequence[Text], numbers: Sequence[Text] = ()) -> list[Column]:
    """Text columns, then numeric ones: the usual shape of a report table (who, then how much)."""
    return [Column(title) for title in names] + [Column(title, numeric=True) for title in numbers]


GOOD, BAD = "good", "bad"


@dataclass(frozen=True)
class Cell:
    """A table cell with a tone: GOOD (a clear lift, a significant difference) or BAD (above a target);
    HTML colours it, Markdown cannot (make the text Bold where Markdown should show it too)."""

    text: Text
    tone: str | None = None


@dataclass(frozen=True)
class Table:
    columns: Sequence[Column]
    rows: Sequence[Sequence[Text | Cell]]

    def __post_init__(self) -> None:
        # A row one cell short would shift every later cell under the wrong column, silently.
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"a table row has {len(row)} cells for {len(self.columns)} columns: {row!r}")


@dataclass(frozen=True)
class Figure:
    """One of the report's PNG figures by name (report_files/NAME.png; inlined in HTML)."""

    name: str
    alt: str


@dataclass(frozen=True)
class BulletList:
    items: Sequence[Text]


@dataclass(frozen=True)
class CodeBlock:
    text: str
    language: str = ""


@dataclass(frozen=True)
class Details:
    """Blocks folded away behind a one-line summary."""

    summary: str
    blocks: Sequence[Block]


@dataclass(frozen=True)
class Exchange:
    """An example dialogue: its context (folded), its last turns, and the compared replies side by side."""

    context: str
    turns: Sequence[tuple[str, str]]  # (role, text)
    replies: Sequence[tuple[str, str]]  # (heading, reply text)


Block = Paragraph | Callout | Table | Figure | BulletList | CodeBlock | Details | Exchange


@dataclass(frozen=True)
class Section:
    """A titled part of the report; `anchor`: its HTML id, and `short` its name in the HTML page's
    navigation (a section without an anchor stays out of it). Subsections are Sections among the blocks."""

    title: Text
    blocks: Sequence[Block | Section] = field(default_factory=list)
    anchor: str | None = None
    short: str | None = None


@dataclass(frozen=True)
class Document:
    title: str
    intro: Text
    sections: Sequence[Section]


def section_titles(document: Document) -> list[tuple[int, str]]:
    """(depth, plain title) of every section in reading order, depth 1 for the top level."""
    found: list[tuple[int, str]] = []

    def walk(section: Section, depth: int) -> None:
        found.append((depth, plain(section.title)))
        for block in section.blocks:
            if isinstance(block, Section):
                walk(block, depth + 1)

    for section in document.sections:
        walk(section, 1)
    return found
