"""The report's two writers: one Document in, Markdown and HTML out with the same sections and words;
model text escaped in HTML, kept from breaking tables in Markdown."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from socratic.report.document import (
    BAD,
    GOOD,
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
    section_titles,
)
from socratic.report.to_html import to_html
from socratic.report.to_markdown import to_markdown

HOSTILE = 'Let us <b>see</b> | what? & "why" \'not\'\nnext line'


def _src(name: str) -> str:
    return f"report_files/{name}.png"


def _document() -> Document:
    table = Table([Column("model"), Column("score", numeric=True), Column("reply")],
                  [["base", Cell(Bold("+0.10"), GOOD), HOSTILE], ["tuned", Cell("0.20", BAD), "plain"]])
    return Document("Run <1>", ["formula ", Bold("uniform")], [
        Section("Models", [table, Callout([Bold("Warning:"), " careful <here>"])], anchor="models", short="Models"),
        Section(["Judge: ", Code("llm:<x>")], [
            Paragraph([Italic("q"), ": share ", Muted("(n=3)"), " ", Flag("flagged")]),
            Figure("summary_rubric", "summary <bars>"),
            Section("Sub part", [BulletList(["one", ["two ", Code("x|y")]])]),
        ], anchor="judge"),
        Section("Examples", [Exchange("Problem <p>", [("student", HOSTILE)], [("base (summary 0.2)", HOSTILE),
                                                                             ("tuned (summary 0.9)", "Why?")])]),
        Section("Configuration", [Details("config.resolved.yaml", [CodeBlock("a: <1>\n", "yaml")])]),
    ])


class _Page(HTMLParser):
    """Headings (level, text), cells (text), tags seen, and the text of the page."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.cells: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]|td|th", tag):
            self._open.append(tag)
            (self.headings if tag.startswith("h") else self.cells).append(
                (int(tag[1]), "") if tag.startswith("h") else "")

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self._open:
            if self._open[-1].startswith("h"):
                level, text = self.headings[-1]
                self.headings[-1] = (level, text + data)
            else:
                self.cells[-1] += data


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def test_html_escapes_every_string_and_keeps_its_own_markup():
    html = to_html(_document(), _src)
    page = _page(html)
    assert "<b>see</b>" not in html and "&lt;b&gt;see&lt;/b&gt;" in html
    assert 'careful &lt;here&gt;' in html and "<code>llm:&lt;x&gt;</code>" in html
    assert "<title>Run &lt;1&gt;</title>" in html and "<pre>a: &lt;1&gt;\n</pre>" in html
    assert 'alt="summary &lt;bars&gt;"' in html
    # The parsed page gives back the model text exactly as it was written.
    assert HOSTILE in page.cells and 'Let us <b>see</b> | what? & "why" \'not\'\nnext line' in "".join(page.text)
    assert [t for t, _ in page.tags if t == "b"] == ["b"] * 4  # "+0.10", "Warning:", "flagged", and none from text


def test_html_tables_align_numbers_and_carry_the_tone():
    html = to_html(_document(), _src)
    assert '<td class="num sig"><b>+0.10</b></td>' in html
    assert '<td class="num flag">0.20</td>' in html
    assert "<tr><th>model</th><th>score</th><th>reply</th></tr>" in html
    # The anchored sections make the navigation, by their short name or else their title.
    assert '<nav class="muted"><a href="#models">Models</a><a href="#judge">Judge: llm:&lt;x&gt;</a></nav>' in html


def test_markdown_tables_escape_pipes_and_line_breaks():
    markdown = to_markdown(_document(), _src)
    assert "| model | score | reply |\n|---|---:|---|\n" in markdown
    assert "| base | **+0.10** | Let us <b>see</b> \\| what? & \"why\" 'not' next line |" in markdown
    assert "| tuned | 0.20 | plain |" in markdown
    # Outside a table text is left as written; inline code with a pipe is fine in a list.
    assert "- two `x|y`" in markdown
    assert "> **Warning:** careful <here>" in markdown
    assert "*q*: share (n=3) **flagged**" in markdown
    assert "![summary <bars>](report_files/summary_rubric.png)" in markdown
    assert "```yaml\na: <1>\n```" in markdown


def test_markdown_cell_rows_keep_their_column_count():
    markdown = to_markdown(Document("t", "", [Section("s", [Table(
        [Column("a"), Column("b")], [["x | y", ["1", Break(), "2"]]])])]), _src)
    row = markdown.strip().splitlines()[-1]
    assert row == "| x \\| y | 1<br>2 |"
    assert len(re.findall(r"(?<!\\)\|", row)) == 3


def test_both_formats_carry_the_same_section_titles_in_the_same_order():
    document = _document()
    markdown = to_markdown(document, _src)
    in_markdown = [(len(m.group(1)) - 1, m.group(2).replace("`", ""))
                   for m in re.finditer(r"^(#{2,6}) (.*)$", markdown, flags=re.MULTILINE)]
    in_html = [(level - 1, text) for level, text in _page(to_html(document, _src)).headings if level > 1]
    expected = section_titles(document)
    assert expected == [(1, "Models"), (1, "Judge: llm:<x>"), (2, "Sub part"), (1, "Examples"), (1, "Configuration")]
    assert in_markdown == expected and in_html == expected


def test_an_exchange_shows_context_turns_and_both_replies_in_both_formats():
    document = _document()
    markdown, page = to_markdown(document, _src), _page(to_html(document, _src))
    assert "<details><summary>context</summary>\n\n```\nProblem <p>\n```\n\n</details>" in markdown
    assert "> **student:** Let us <b>see</b> | what? & \"why\" 'not' next line\n>" in markdown
    assert "| base (summary 0.2) | tuned (summary 0.9) |" in markdown
    text = "".join(page.text)
    assert "Problem <p>" in text and "base (summary 0.2)" in text and "Why?" in text


def test_prose_reads_the_marks_of_its_template_and_never_of_its_values():
    from socratic.report.document import prose

    pieces = prose("*term*: see `{module}` of **{model}** ({share:.0%})", module="a.b", model="*evil* `x`",
                   share=0.25)
    assert pieces == (Italic("term"), ": see ", Code("a.b"), " of ", Bold("*evil* `x`"), " (25%)")
    assert to_markdown(Document("t", pieces, []), _src).startswith("# t\n\n*term*: see `a.b` of ***evil* `x`** (25%)")
    assert "<i>term</i>: see <code>a.b</code> of <b>*evil* `x`</b> (25%)" in to_html(Document("t", pieces, []), _src)


def test_markdown_keeps_a_context_verbatim_even_with_headings_and_fences_inside():
    context = "# the buggy code\n```\ndef f(): pass\n```"
    markdown = to_markdown(Document("t", "", [Section("Examples", [Exchange(context, [], [("a", "b")])])]), _src)
    assert "\n````\n# the buggy code\n```\ndef f(): pass\n```\n````\n" in markdown
    outside_fences = re.sub(r"^(`{3,})\n.*?^\1$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    assert re.findall(r"^#+ .*$", outside_fences, flags=re.MULTILINE) == ["# t", "## Examples"]  # none leaked


def test_a_row_that_does_not_fit_its_columns_is_refused():
    import pytest

    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        Table([Column("a"), Column("b"), Column("c")], [["1", "2"]])
