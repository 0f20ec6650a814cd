"""Write a report Document (socratic.report.document) as GitHub-flavoured Markdown.

    markdown = to_markdown(document, src=lambda name: f"report_files/{name}.png")

Model text is written as it is (Markdown has no safe escape for all of it, and the report never did);
inside a table a '|' is escaped and a line break becomes a space, so a reply cannot break the table.
"""

from __future__ import annotations

from collections.abc import Callable

from socratic.report.document import (
    Block,
    Bold,
    Break,
    BulletList,
    Callout,
    Cell,
    Code,
    CodeBlock,
    Column,
    Details,
    Document,
    Exchange,
    Figure,
    Flag,
    Italic,
    Muted,
    Paragraph,
    Section,
    Table,
    Text,
    inlines,
)


def text(value: Text) -> str:
    out = []
    for piece in inlines(value):
        if isinstance(piece, str):
            out.append(piece)
        elif isinstance(piece, Code):
            out.append(f"`{piece.text}`")
        elif isinstance(piece, (Bold, Flag)):
            out.append(f"**{piece.text}**")
        elif isinstance(piece, Italic):
            out.append(f"*{piece.text}*")
        elif isinstance(piece, Muted):
            out.append(piece.text)
        elif isinstance(piece, Break):
            out.append("<br>")
    return "".join(out)


def cell(value: Text | Cell) -> str:
    written = text(value.text if isinstance(value, Cell) else value)
    return written.replace("\n", " ").replace("|", "\\|")


def table(block: Table) -> str:
    lines = ["| " + " | ".join(cell(c.title) for c in block.columns) + " |",
             "|" + "".join("---:|" if c.numeric else "---|" for c in block.columns)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in block.rows]
    return "\n".join(lines)


def quote(lines: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in lines.split("\n"))


def details(summary: str, body: str) -> str:
    # GitHub renders the HTML element, and Markdown inside it once blank lines set it apart.
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def exchange(block: Exchange) -> str:
    parts = [details("context", block.context)] if block.context else []
    parts.append("\n".join(f"> **{role}:** {said.replace(chr(10), ' ')}\n>" for role, said in block.turns))
    parts.append(table(Table([Column(heading) for heading, _ in block.replies], [[r for _, r in block.replies]])))
    return "\n\n".join(parts)


def block(value: Block | Section, src: Callable[[str], str], depth: int) -> str:
    if isinstance(value, Section):
        return section(value, src, depth + 1)
    if isinstance(value, Paragraph):
        return text(value.text)
    if isinstance(value, Callout):
        return quote(text(value.text))
    if isinstance(value, Table):
        return table(value)
    if isinstance(value, Figure):
        return f"![{value.alt}]({src(value.name)})"
    if isinstance(value, BulletList):
        return "\n".join(f"- {text(item)}" for item in value.items)
    if isinstance(value, CodeBlock):
        body = value.text if value.text.endswith("\n") else value.text + "\n"
        return f"```{value.language}\n{body}```"
    if isinstance(value, Details):
        return details(value.summary, "\n\n".join(block(b, src, depth) for b in value.blocks))
    if isinstance(value, Exchange):
        return exchange(value)
    raise TypeError(f"no Markdown for {type(value).__name__}")


def section(value: Section, src: Callable[[str], str], depth: int = 1) -> str:
    heading = "#" * (depth + 1) + " " + text(value.title)
    return "\n\n".join([heading] + [block(b, src, depth) for b in value.blocks])


def to_markdown(document: Document, src: Callable[[str], str]) -> str:
    """The whole report; `src(name)` is where figure `name` lies, relative to the Markdown file."""
    parts = [f"# {document.title}", text(document.intro)] + [section(s, src) for s in document.sections]
    return "\n\n".join(parts) + "\n"
