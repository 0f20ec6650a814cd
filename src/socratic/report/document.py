"""The report as data: a title, an opening line and sections of blocks (paragraphs, tables, figures, ...).

socratic.report.build and the section builders next to their numbers (lifts.py, checks.py, ...) make one
`Document`; socratic.report.to_markdown and socratic.report.to_html write it out, so the two formats carry
the same sections, in the same order, with the same words, and cannot drift apart.

    doc = Document("Run", [Bold("uniform")], [Section("Models", [Table([Column("name")], [["base"]])])])

Text is a sequence of inline pieces: plain strings (never markup: the renderers escape them) and the few
styles below; a single string or piece stands for a sequence of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Bold:
    text: str


@dataclass(frozen=True)
class Italic:
    text: str


@dataclass(frozen=True)
class Muted:
    """A side note inside a line (a sample size, a CI): as it is in Markdown, grey in HTML."""

    text: str


@dataclass(frozen=True)
class Flag:
    """A missed target: bold in Markdown, bold and orange in HTML."""

    text: str


@dataclass(frozen=True)
class Break:
    """A line break inside a table cell."""


Inline = str | Code | Bold | Italic | Muted | Flag | Break
Text = Inline | Sequence[Inline]


def inlines(text: Text) -> tuple[Inline, ...]:
    """The pieces of `text` (a lone string or piece is a sequence of one)."""
    if isinstance(text, (str, Code, Bold, Italic, Muted, Flag, Break)):
        return (text,)
    return tuple(text)


def plain(text: Text) -> str:
    """The words of `text` without any style (section titles compared across formats, HTML alt text)."""
    return "".join("" if isinstance(p, Break) else p if isinstance(p, str) else p.text for p in inlines(text))


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
