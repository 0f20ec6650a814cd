"""The shipped teacher-vs-model pairs (socratic.judge.labels.teacher_vs_model): valid, from training dialogues only,
each one a teacher turn the project's own `load_teacher_turns` holds, none on a test problem."""

from __future__ import annotations

from socratic.data import load_dialogues
from socratic.data.overlap import problem_of
from socratic.data.teacher_turns import load_teacher_turns, validation_problems
from socratic.judge.labels.human import group_key
from socratic.judge.labels.teacher_vs_model import group_of, load_teacher_pairs, pair_rows
from socratic.records import LabelledReply


def _context(dialogue):
    return dialogue.context.strip(), tuple((t.role, t.text) for t in dialogue.turns)


def test_the_pairs_are_teacher_turns_of_training_dialogues():
    pairs = load_teacher_pairs()
    assert len(pairs) == 118 and {p.dialogue.source for p in pairs} == {"mathdial", "debugging"}
    assert all(p.dialogue.split == "train" and p.model == "embedded" and len(p.samples) == 2 for p in pairs)
    official = {(_context(t.dialogue), t.reply) for t in load_teacher_turns(("mathdial", "debugging"))}
    # The pairs were sampled before 60 MathDial training problems were held out for validation: the 16 pairs on
    # those problems are the only ones whose turn imitation no longer uses (no shipped judge fits on the pairs).
    held = validation_problems()
    on_validation = [p for p in pairs if problem_of(p.dialogue) in held]
    assert len(on_validation) == 16
    assert all((_context(p.dialogue), p.teacher) in official for p in pairs if p not in on_validation)
    assert len(pair_rows(pairs)) == 236


def test_no_pair_is_on_a_test_problem():
    test = {group_key(LabelledReply(dialogue=d, reply="")) for source in ("mathdial", "mathdial-raw")
            for d in load_dialogues(source, "test")}
    test_code = {d.context.strip() for source in ("debugging", "debugging-raw") for d in load_dialogues(source, "test")}
    for pair in load_teacher_pairs():
        assert group_of(pair) not in test
        assert pair.dialogue.context.strip() not in test_code
