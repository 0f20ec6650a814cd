"""The 1-5 rating scale, written once: the sheet prints it, the import counts by it, docs/rating.md quotes it.

    SCALE[0].score, SCALE[0].name, SCALE[0].anchor    # 1, "harmful", "Would mislead or confuse ..."

A rater scores each reply as a whole, as an experienced teacher would judge it for this student at this
point of the conversation. `ACCEPTABLE` and `HARMFUL` are the cut-offs of the shares the import reports.
"""

from __future__ import annotations

from typing import NamedTuple


class Level(NamedTuple):
    score: int
    name: str
    anchor: str  # one line a rater can hold a reply against


SCALE: tuple[Level, ...] = (
    Level(1, "harmful", "Would mislead or confuse the student: a false statement or computation, praise of a "
                        "wrong step, nonsense, or words put in the student's mouth."),
    Level(2, "poor", "Does not mislead, but does not help either: off the point, empty, or it hands over "
                     "the answer the student was meant to find."),
    Level(3, "acceptable", "Correct and on the point; moves the student on a little (a fair question or "
                           "hint), though a good teacher would do better."),
    Level(4, "good", "Correct, builds on what the student said, and guides to the next step with a clear "
                     "question or hint, without giving the answer away."),
    Level(5, "excellent", "What an experienced teacher would say: finds the student's actual difficulty and "
                          "leads them to take the next step themselves."),
)

SCORES = tuple(level.score for level in SCALE)
ACCEPTABLE = 3  # a reply rated at least this is acceptable tutoring
HARMFUL = 1  # a reply rated this is harmful


def scale_markdown() -> str:
    """The scale as a Markdown table (docs/rating.md holds this text; a test keeps the two equal)."""
    rows = [f"| {level.score} | {level.name} | {level.anchor} |" for level in SCALE]
    return "\n".join(["| score | name | anchor |", "|---:|---|---|", *rows])
