"""Write a report Document (socratic.report.document) as GitHub-flavoured Markdown.

    markdown = to_markdown(document, src=lambda name: f"report_files/{name}.png")

Model text is written as it is (Markdown has no safe escape for all of it, and the report never did);
inside a table a '|' is escaped and a line break becomes a space, so a reply cannot break the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from socratic.report import document as doc


def text(value: doc.Text) -> str:
    out = []
    for piece in doc.inlines(value):
        if isinstance(piece, str):
            out.append(piece)
        elif isinstance(piece, doc.Code):
            out.append(f"`{piece.text}`")
        elif isinstance(piece, (doc.Bold, doc.Flag)):
            out.append(f"**{piece.text}**")
        elif isinstance(piece, doc.Italic):
            out.append(f"*{piece.text}*")
        elif isinstance(piece, doc.Muted):
            out.append(piece.text)
        elif isinstance(piece, doc.Break):
            out.append("<br>")
    return "".join(out)


def cell(value: doc.Text | doc.Cell) -> str:
    written = text(value.text if isinstance(value, doc.Cell) else value)
    return written.replace("\n", " ").replace("|", "\\|")


def table(block: doc.Table) -> str:
    lines = ["| " + " | ".join(cell(c.title) for c in block.columns) + " |",
             "|" + "".join("---:|" if c.numeric else "---|" for c in block.columns)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in block.rows]
    return "\n".join(lines)


def quote(lines: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in lines.split("\n"))


def fence(text: str, language: str = "") -> str:
    """`text` as a fenced code block, the fence longer than any run of backticks inside it."""
    ticks = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{ticks}{language}\n{text if text.endswith(chr(10)) else text + chr(10)}{ticks}"


def details(summary: str, body: str) -> str:
    # GitHub renders the HTML element, and Markdown inside it once blank lines set it apart.
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def exchange(block: doc.Exchange) -> str:
    # The context (a problem, a student's code) verbatim: as Markdown, a "# comment" would become a heading.
    parts = [details("context", fence(block.context))] if block.context else []
    parts.append("\n".join(f"> **{role}:** {said.replace(chr(10), ' ')}\n>" for role, said in block.turns))
    headings, replies = zip(*block.replies)
    parts.append(table(doc.Table(doc.columns(headings), [replies])))
    return "\n\n".join(parts)


def block(value: doc.Block | doc.Section, src: Callable[[str], str], depth: int) -> str:
    if isinstance(value, doc.Section):
        return section(value, src, depth + 1)
    if isinstance(value, doc.Paragraph):
        return text(value.text)
    if isinstance(value, doc.Callout):
        return quote(text(value.text))
    if isinstance(value, doc.Table):
        return table(value)
    if isinstance(value, doc.Figure):
        return f"![{value.alt}]({src(value.name)})"
    if isinstance(value, doc.BulletList):
        return "\n".join(f"- {text(item)}" for item in value.items)
    if isinstance(value, doc.CodeBlock):
        return fence(value.text, value.language)
    if isinstance(value, doc.Details):
        return details(value.summary, "\n\n".join(block(b, src, depth) for b in value.blocks))
    if isinstance(value, doc.Exchange):
        return exchange(value)
    raise TypeError(f"no Markdown for {type(value).__name__}")


def section(value: doc.Section, src: Callable[[str], str], depth: int = 1) -> str:
    heading = "#" * (depth + 1) + " " + text(value.title)
    return "\n\n".join([heading] + [block(b, src, depth) for b in value.blocks])


def to_markdown(document: doc.Document, src: Callable[[str], str]) -> str:
    """The whole report; `src(name)` is where figure `name` lies, relative to the Markdown file."""
    parts = [f"# {document.title}", text(document.intro)] + [section(s, src) for s in document.sections]
    return "\n\n".join(parts) + "\n"
