"""The user-facing documents stay true to the code: the CLI reference is generated from the CLI, the
README's command table names every command, and every relative link points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

from socratic.cli import reference

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_cli_reference_is_generated_from_the_cli():
    assert reference.main(["--check", str(REPO / "docs" / "cli.md")]) == 0, (
        "docs/cli.md is stale: run `python -m socratic.cli.reference > docs/cli.md`")


def test_cli_reference_check_fails_on_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "cli.md"
    stale.write_text(reference.markdown().replace("--dry-run", "--dry-walk"), encoding="utf-8")
    assert reference.main(["--check", str(stale)]) == 1
    assert "is stale" in capsys.readouterr().err


def test_readme_command_table_names_every_command_and_no_other():
    table = README.read_text(encoding="utf-8").split("## The command line", 1)[1].split("\n## ", 1)[0]
    named = {m.group(1) for m in re.finditer(r"^\| `socratic ([a-z-]+)", table, re.MULTILINE)}
    commands = {name.split()[1] for name in reference.command_names()}
    assert named == commands


def test_readme_is_short_enough_to_read():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


def test_relative_links_in_the_documents_resolve():
    pages = [README, *sorted((REPO / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO)} -> {target}")
    assert broken == []
