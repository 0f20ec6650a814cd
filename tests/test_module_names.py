"""One vocabulary (issue 38): two modules share a file name only where they play the same part in their
packages (each stage's `config.py`, each judge kind's `judge.py`, ...); a module of `commands/` is named
after its command. A new module whose name already means something else elsewhere fails here: rename one."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "socratic"

# name -> the one part every module of that name plays
SAME_PART = {
    "__init__": "a package",
    "base": "the base class of its package (a backend, a judge)",
    "config": "a stage's settings",
    "judge": "a judge kind's Judge class",
    "features": "a fitted judge kind's features",
    "fit": "a fitted judge kind's fit",
    "store": "a fitted judge's saved file (judge/store.py: the checksummed file the kinds' stores share)",
    "result": "a stage's result file",
    "table": "a stage's terminal table",
    "preflight": "what a stage refuses before its first work",
    "teacher": "the win rate against the real teacher: its measure (evaluate/) and its report section (report/)",
    "tutoring": "the judge-free tutoring metrics: their measure (evaluate/) and their report section (report/)",
}


def shared_names() -> dict[str, list[str]]:
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] != "commands":  # named after their commands, beside the stage they call
            by_name[path.stem].append(relative.as_posix())
    return {name: paths for name, paths in by_name.items() if len(paths) > 1}


def test_a_module_name_means_one_thing():
    unexplained = {name: paths for name, paths in shared_names().items()
                   if name not in SAME_PART}
    assert unexplained == {}, "modules sharing a name with another meaning: rename one (or say the part they share)"


def test_the_list_names_only_names_that_are_shared():
    """A name left in the list after a rename would let the next collision of it through unseen."""
    shared = shared_names()
    assert {name for name in SAME_PART if name not in shared} == set()
