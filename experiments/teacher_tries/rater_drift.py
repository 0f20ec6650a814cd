"""How far two rating sessions of the same replies agree (issue 37): the replies both sheets carry (same item, same
text), each session's mean score per reply, and their agreement, with each session's acceptable and
harmful shares on those replies. Two raters inside one session can agree closely and still sit apart from another
session's pair; this measures that.

    python experiments/teacher_tries/rater_drift.py experiments/teacher_tries/ratings-short \
        experiments/teacher_tries/ratings-test-restating
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import cohen_kappa_score

from socratic.rate.ratings import read_all
from socratic.rate.sheet import RatingKey


def session(folder: Path) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], str]]:
    """(dialogue id, reply hash) -> every rater's score of that reply text in this session (a text two sources
    share counts once per letter), and -> the source that wrote it (one of them)."""
    key = RatingKey.read(folder / "key.json")
    where = {(entry.item, letter): (entry.dialogue_id, entry.replies[letter])
             for entry in key.items for letter in entry.letters}
    sources = {where[(entry.item, letter)]: source for entry in key.items for letter, source in entry.letters.items()}
    scores: dict[tuple[str, str], list[int]] = {}
    for sheet in read_all(sorted(folder.glob("ratings-*.csv")), key):
        for cell, score in sheet.scores.items():
            scores.setdefault(where[cell], []).append(score)
    return scores, sources


def main() -> None:
    (first, sources), (second, _) = (session(Path(arg)) for arg in sys.argv[1:3])
    shared = sorted(first.keys() & second.keys())
    a = np.array([np.mean(first[k]) for k in shared])
    b = np.array([np.mean(second[k]) for k in shared])
    kappa = cohen_kappa_score(np.rint(a).astype(int), np.rint(b).astype(int), weights="quadratic")
    print(f"{len(shared)} replies in both sessions; quadratic-weighted kappa of the rounded session means {kappa:.2f}; "
          f"same rounded score {np.mean(np.rint(a) == np.rint(b)):.0%}; mean {a.mean():.2f} vs {b.mean():.2f}")
    for source in sorted({sources[k] for k in shared}):
        pick = [i for i, k in enumerate(shared) if sources[k] == source]
        firsts = [s for i in pick for s in first[shared[i]]]
        seconds = [s for i in pick for s in second[shared[i]]]
        print(f"  {source:8} acceptable {np.mean(np.array(firsts) >= 3):.0%} vs {np.mean(np.array(seconds) >= 3):.0%}, "
              f"harmful {np.mean(np.array(firsts) == 1):.0%} vs {np.mean(np.array(seconds) == 1):.0%}  ({len(pick)} replies)")


if __name__ == "__main__":
    main()
