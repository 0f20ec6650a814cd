"""Write a report Document (socratic.report.document) as one self-contained HTML page.

    page = to_html(document, src=lambda name: "data:image/png;base64,...")

Every string of the document is text, never markup: it is escaped here (html.escape, quotes included),
so a model reply such as "<b>see</b>" shows as written. The page fetches nothing: inline style, figures
as data URIs, a navigation line built from the sections' anchors.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from socratic.report import document as doc

STYLE = """\
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1180px;
         padding: 1.5rem 2rem 4rem; color: #1d232a; line-height: 1.45; }
  h1 { margin-bottom: .2rem; } h2 { border-bottom: 2px solid #e3e7ec; padding-bottom: .25rem; margin-top: 2.4rem; }
  .muted { color: #5b6570; font-size: .92rem; }
  table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
  th, td { border: 1px solid #d6dbe1; padding: .3rem .55rem; text-align: left; vertical-align: top; }
  td { white-space: pre-line; }
  th { background: #f2f4f7; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  img { max-width: 100%; height: auto; border: 1px solid #eef0f3; margin: .5rem 0; }
  .warn { background: #fff6e0; border-left: 4px solid #e0a100; padding: .6rem .9rem; margin: .8rem 0; }
  li { margin: .3rem 0; }
  .example { border: 1px solid #d6dbe1; border-radius: 6px; padding: .8rem 1rem; margin: 1rem 0; }
  .turn { margin: .25rem 0; white-space: pre-wrap; } .role { font-weight: 600; }
  .side { display: grid; grid-template-columns: 1fr 1fr; gap: .8rem; margin-top: .6rem; }
  .reply { background: #f6f8fa; padding: .6rem .8rem; border-radius: 5px; white-space: pre-wrap; }
  .sig { font-weight: 600; color: #0a6b2f; } pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; }
  nav a { margin-right: .8rem; } .flag { color: #a34700; }
"""
TONES = {doc.GOOD: "sig", doc.BAD: "flag"}


def text(value: doc.Text) -> str:
    out = []
    for piece in doc.inlines(value):
        if isinstance(piece, str):
            out.append(escape(piece))
        elif isinstance(piece, doc.Code):
            out.append(f"<code>{escape(piece.text)}</code>")
        elif isinstance(piece, doc.Bold):
            out.append(f"<b>{escape(piece.text)}</b>")
        elif isinstance(piece, doc.Flag):
            out.append(f'<b class="flag">{escape(piece.text)}</b>')
        elif isinstance(piece, doc.Italic):
            out.append(f"<i>{escape(piece.text)}</i>")
        elif isinstance(piece, doc.Muted):
            out.append(f'<span class="muted">{escape(piece.text)}</span>')
        elif isinstance(piece, doc.Break):
            out.append("<br>")
    return "".join(out)


def _classes(*names: str | None) -> str:
    present = " ".join(n for n in names if n)
    return f' class="{present}"' if present else ""


def table(block: doc.Table) -> str:
    head = "".join(f"<th>{text(c.title)}</th>" for c in block.columns)
    rows = []
    for row in block.rows:
        cells = []
        for column, value in zip(block.columns, row):
            found = value if isinstance(value, doc.Cell) else doc.Cell(value)
            cells.append(f"<td{_classes('num' if column.numeric else None, TONES.get(found.tone))}>"
                         f"{text(found.text)}</td>")
        rows.append("  <tr>" + "".join(cells) + "</tr>")
    return "\n".join(["<table>", f"  <tr>{head}</tr>", *rows, "</table>"])


def exchange(block: doc.Exchange) -> str:
    lines = ['<div class="example">']
    if block.context:
        lines.append(f'  <details><summary class="muted">context</summary><div class="turn">{escape(block.context)}'
                     "</div></details>")
    lines += [f'  <div class="turn"><span class="role">{escape(role)}:</span> {escape(said)}</div>'
              for role, said in block.turns]
    lines.append('  <div class="side">')
    lines += [f'    <div><div class="muted">{escape(heading)}</div><div class="reply">{escape(reply)}</div></div>'
              for heading, reply in block.replies]
    lines += ["  </div>", "</div>"]
    return "\n".join(lines)


def block(value: doc.Block | doc.Section, src: Callable[[str], str], depth: int) -> str:
    if isinstance(value, doc.Section):
        return section(value, src, depth + 1)
    if isinstance(value, doc.Paragraph):
        return f"<p{_classes('muted' if value.note else None)}>{text(value.text)}</p>"
    if isinstance(value, doc.Callout):
        return f'<div class="warn">{text(value.text)}</div>'
    if isinstance(value, doc.Table):
        return table(value)
    if isinstance(value, doc.Figure):
        return f'<img alt="{escape(value.alt)}" src="{escape(src(value.name))}">'
    if isinstance(value, doc.BulletList):
        return "<ul>" + "".join(f"<li>{text(item)}</li>" for item in value.items) + "</ul>"
    if isinstance(value, doc.CodeBlock):
        return f"<pre>{escape(value.text)}</pre>"
    if isinstance(value, doc.Details):
        inner = "".join(block(b, src, depth) for b in value.blocks)
        return f"<details><summary>{escape(value.summary)}</summary>{inner}</details>"
    if isinstance(value, doc.Exchange):
        return exchange(value)
    raise TypeError(f"no HTML for {type(value).__name__}")


def section(value: doc.Section, src: Callable[[str], str], depth: int = 1) -> str:
    tag = f"h{depth + 1}"
    anchor = f' id="{escape(value.anchor)}"' if value.anchor else ""
    return "\n".join([f"<{tag}{anchor}>{text(value.title)}</{tag}>"] + [block(b, src, depth) for b in value.blocks])


def navigation(document: doc.Document) -> str:
    links = "".join(f'<a href="#{escape(s.anchor)}">{escape(s.short or doc.plain(s.title))}</a>'
                    for s in document.sections if s.anchor)
    return f'<nav class="muted">{links}</nav>'


def to_html(document: doc.Document, src: Callable[[str], str]) -> str:
    """The whole page; `src(name)` is figure `name` as a URL (a data URI keeps the page self-contained)."""
    body = "\n\n".join(section(s, src) for s in document.sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(document.title)}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{escape(document.title)}</h1>\n<p class=\"muted\">{text(document.intro)}</p>\n"
            f"{navigation(document)}\n\n{body}\n</body>\n</html>\n")
