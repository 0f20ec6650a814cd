"""Style perturbations of a tutor reply that leave what it does for the student unchanged (issue 36).

    from socratic.judge.labels.perturb import PERTURBATIONS, perturb
    perturb("lowercase", "Okay. What is 3 x 4?")          # "okay. what is 3 x 4?"
    perturb("add_typos", reply, seed=7)                   # letters swapped in some longer words
    perturb("drop_neutral", "Okay. What is 3 x 4?")       # "What is 3 x 4?"; None when nothing to drop

A judge that knows a teacher from a tutor by what the turn does must not change its preference when
the case changes, typos come or go, or a sentence that says nothing ("Okay.", "Take your time.") is
added or removed. `socratic agreement` perturbs each side of every teacher-vs-model pair and counts how
often the judge's preference flips (socratic.agreement.teacher_check).

Pure and deterministic (a perturbation's randomness is seeded by the text and `seed`). `perturb` returns
None where a perturbation does not apply (no typo to fix, no neutral sentence to drop, nothing changes).
Typos are fixed against the words of the shipped training dialogues (`known_words`): a word seen fewer than
3 times there whose one-letter edit is a common word becomes the most common such word.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from functools import lru_cache

PERTURBATIONS: tuple[str, ...] = ("lowercase", "sentence_case", "add_typos", "fix_typos", "add_neutral",
                                  "drop_neutral")
# Sentences that carry nothing for the student: what is added, and what may be dropped.
NEUTRAL_SENTENCES: tuple[str, ...] = ("Okay.", "Alright.", "Let's see.", "Take your time.", "Thanks.",
                                      "Let's look at this together.")
_NEUTRAL = re.compile(r"^(?i:ok(?:ay)?|alright|all right|hi|hello|hey|thanks?(?: you)?|let'?s see|"
                      r"take your time|let'?s look at this together|hmm+|i see)"
                      r"(?:,?\s+[A-Z][a-z]+)?[.!,]*$")  # an optional name: "Hi Steven!"
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)|\n")
_WORD = re.compile(r"[A-Za-z]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _rng(text: str, seed: int, kind: str) -> random.Random:
    return random.Random(int(hashlib.sha1(f"{kind}\x00{seed}\x00{text}".encode()).hexdigest()[:12], 16))


def sentences(text: str) -> list[str]:
    """The text cut after . ! ? and at newlines, each piece with its own spacing kept."""
    return [piece for piece in _SENTENCE.findall(text) if piece]


def sentence_case(text: str) -> str:
    """Each sentence's first letter capitalised and a lone "i" made "I" (how a careful writer types)."""
    out = []
    for piece in sentences(text):
        match = re.search(r"[A-Za-z]", piece)
        if match:
            piece = piece[:match.start()] + piece[match.start()].upper() + piece[match.start() + 1:]
        out.append(re.sub(r"\bi\b", "I", piece))
    return "".join(out)


def add_typos(text: str, seed: int = 0, rate: float = 0.15) -> str:
    """Two neighbouring letters swapped in a share `rate` (at least one) of the words of 4+ letters."""
    words = [m for m in _WORD.finditer(text) if len(m.group()) >= 4]
    if not words:
        return text
    rng = _rng(text, seed, "typos")
    chosen = sorted(rng.sample(words, max(1, round(rate * len(words)))), key=lambda m: m.start())
    out, last = [], 0
    for match in chosen:
        word = match.group()
        i = rng.randrange(1, len(word) - 2)  # keep the first and last letters: the typo of a fast typist
        out += [text[last:match.start()], word[:i] + word[i + 1] + word[i] + word[i + 2:]]
        last = match.end()
    return "".join(out) + text[last:]


@lru_cache(maxsize=1)
def known_words() -> Counter[str]:
    """Word counts over the shipped training dialogues (MathDial and Debugging train): the dictionary
    `fix_typos` corrects against, so no word list outside the repository is needed."""
    from socratic.data import load_dialogues

    counts: Counter[str] = Counter()
    for source in ("mathdial", "debugging"):
        for dialogue in load_dialogues(source, "train"):
            for text in (dialogue.context, *(t.text for t in dialogue.turns)):
                counts.update(w.lower() for w in _WORD.findall(text))
    return counts


def _edits(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b} | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
            | {a + c + b for a, b in splits for c in _LETTERS})


def fix_typos(text: str, counts: Counter[str] | None = None, rare: int = 3, common: int = 20) -> str:
    """Each word seen fewer than `rare` times whose one-letter edit was seen `common`+ times becomes
    the most frequent such edit (case of the first letter kept)."""
    counts = known_words() if counts is None else counts

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        lower = word.lower()
        if len(lower) < 3 or counts[lower] >= rare:
            return word
        best = max((e for e in _edits(lower) if counts[e] >= common), key=lambda e: (counts[e], e), default=None)
        if best is None:
            return word
        return best[0].upper() + best[1:] if word[0].isupper() else best

    return _WORD.sub(fix, text)


def add_neutral(text: str, seed: int = 0) -> str:
    """A neutral sentence put before the reply (chosen by the text's hash)."""
    return f"{_rng(text, seed, 'neutral').choice(NEUTRAL_SENTENCES)} {text.lstrip()}"


def drop_neutral(text: str) -> str:
    """The reply without its neutral sentences ("Okay.", "Hi Steven!"), when something else remains."""
    pieces = sentences(text)
    kept = [p for p in pieces if not _NEUTRAL.match(p.strip())]
    if not "".join(kept).strip():
        return text
    return "".join(kept).strip()


def perturb(kind: str, text: str, seed: int = 0) -> str | None:
    """`text` under the perturbation `kind`; None when it does not apply (the text would not change)."""
    if kind not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {kind!r}: expected one of {PERTURBATIONS}")
    changed = {"lowercase": lambda: text.lower(), "sentence_case": lambda: sentence_case(text),
               "add_typos": lambda: add_typos(text, seed), "fix_typos": lambda: fix_typos(text),
               "add_neutral": lambda: add_neutral(text, seed), "drop_neutral": lambda: drop_neutral(text)}[kind]()
    return changed if changed.strip() and changed != text else None
