"""Style perturbations (socratic.judge.labels.perturb): each changes only the surface, deterministically, and says
None where it does not apply."""

from __future__ import annotations

from collections import Counter

import pytest

from socratic.judge.labels import perturb


def test_case_changes():
    assert perturb.perturb("lowercase", "Okay. What is 3 x 4?") == "okay. what is 3 x 4?"
    assert perturb.perturb("lowercase", "already lower") is None
    assert perturb.perturb("sentence_case", "okay. so what is 3 x 4? i think so.") == "Okay. So what is 3 x 4? I think so."
    assert perturb.perturb("sentence_case", "Okay. What now?") is None


def test_typos_are_added_deterministically_and_keep_the_word_ends():
    text = "Could you multiply the number of apples by three first?"
    once, again = perturb.add_typos(text, seed=1), perturb.add_typos(text, seed=1)
    assert once == again and once != text
    before, after = text.split(), once.split()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert 1 <= len(changed) <= 2
    for a, b in changed:  # two neighbouring inner letters swapped
        assert sorted(a) == sorted(b) and a[0] == b[0] and a[-1] == b[-1]
    assert perturb.perturb("add_typos", "a b c") is None  # no word of 4+ letters


def test_typos_are_fixed_against_known_words():
    counts = Counter({"together": 50, "numbers": 40, "the": 500, "multiply": 30})
    assert perturb.fix_typos("multiply the numbers togther", counts) == "multiply the numbers together"
    assert perturb.fix_typos("Togther we go", counts) == "Together we go"
    assert perturb.fix_typos("zzyzx", counts) == "zzyzx"  # no common word one edit away: unchanged


def test_fix_typos_uses_the_shipped_training_dialogues():
    assert perturb.perturb("fix_typos", "what do you get when you mutliply them?") == \
        "what do you get when you multiply them?"


def test_neutral_sentences_are_added_and_dropped():
    added = perturb.perturb("add_neutral", "What is 3 x 4?")
    assert added and added.endswith(" What is 3 x 4?") and added.split(" What")[0] in perturb.NEUTRAL_SENTENCES
    assert perturb.perturb("drop_neutral", "Hi Steven! What did you get?") == "What did you get?"
    assert perturb.perturb("drop_neutral", "Okay. Let's see. So 12 apples?") == "So 12 apples?"
    assert perturb.perturb("drop_neutral", "Okay great. What now?") is None  # praise is not neutral
    assert perturb.perturb("drop_neutral", "Okay.") is None  # nothing would remain


def test_unknown_perturbation():
    with pytest.raises(ValueError, match="unknown perturbation"):
        perturb.perturb("shout", "hi")
