"""Teacher-vs-model accuracy and the perturbation check (socratic.agreement.teacher_check): exact numbers on
hand-made pairs, a style-blind scorer flips nothing, a scorer that counts capitals is caught."""

from __future__ import annotations

import pytest

from socratic.agreement import teacher_check
from socratic.judge.labels.teacher_vs_model import TeacherPair, pair_rows
from socratic.records import Dialogue, Turn


def _pair(n: int, teacher_reply: str, *samples: str) -> TeacherPair:
    dialogue = Dialogue(id=f"d{n}", source="mathdial", split="train",
                        context=f"Problem: problem number {n} about apples and pears, long enough to be a group",
                        turns=(Turn(role="student", text="I got 12."),))
    return TeacherPair(dialogue=dialogue, teacher=teacher_reply, model="embedded", samples=samples)


def test_accuracy_counts_ties_half_and_failures_as_losses():
    block = teacher_check.teacher_accuracy(["a", "a", "b", "c"], [0.9, 0.5, 0.2, None], [0.1, 0.5, 0.4, 0.3], n_boot=200)
    assert block["accuracy"] == pytest.approx((1 + 0.5 + 0 + 0) / 4)
    assert block["ties"] == 1 and block["failed"] == 1 and block["groups"] == 3
    assert block["ci_low"] <= block["accuracy"] <= block["ci_high"]
    assert teacher_check.teacher_accuracy(["a"], [1.0], [0.0], n_boot=200)["ci_low"] is None  # one group: no CI


def test_flip_rates_per_kind_and_side():
    base = [1, 1, -1, 0]
    signs = {"lowercase": {"teacher": [(0, 1), (1, -1)], "model": [(2, -1), (3, None)]},
             "add_typos": {"teacher": [(0, 1)]}}
    out = teacher_check.flip_rates(base, signs)
    assert out["kinds"]["lowercase"]["teacher"] == {"cases": 2, "flips": 1, "rate": 0.5}
    assert out["kinds"]["lowercase"]["model"] == {"cases": 2, "flips": 1, "rate": 0.5}  # a failure is a flip
    assert out["kinds"]["add_typos"]["model"] == {"cases": 0, "flips": 0, "rate": None}
    assert out["worst_rate"] == 0.5 and not out["meets_target"]


def test_pair_rows_skip_a_sample_equal_to_the_teacher():
    pairs = [_pair(0, "What is 3 x 4?", "What is 3 x 4?", "The answer is 12."), _pair(1, "Why?", "")]
    assert pair_rows(pairs) == [(0, "What is 3 x 4?", "The answer is 12."), (1, "Why?", "")]


PAIRS = [_pair(0, "Okay. How many apples did Tom have at the start?", "The answer is 12.", "Good job!"),
         _pair(1, "what do you get when you take away the pears?", "I think the answer is 7. Well done."),
         _pair(2, "Hi Sam! Can you tell me what the problem asks for?", "The total is 20 apples.")]


def _questions(texts):
    return [float("?" in text) for _, text in texts]


def test_a_style_blind_scorer_prefers_the_teacher_and_flips_nothing():
    block = teacher_check.measure(_questions, PAIRS, n_boot=100)
    assert block["pairs"] == 3 and block["accuracy"]["n"] == 4 and block["accuracy"]["accuracy"] == 1.0
    flips = block["perturbations"]
    assert set(flips["kinds"]) <= set(teacher_kinds()) and flips["worst_rate"] == 0.0 and flips["meets_target"]
    assert flips["kinds"]["lowercase"]["teacher"]["cases"] == 3  # the lower-case teacher turn does not apply
    assert flips["kinds"]["drop_neutral"]["teacher"]["cases"] == 3  # "Okay." (2 comparisons) and "Hi Sam!" go


def teacher_kinds():
    from socratic.judge.labels.perturb import PERTURBATIONS

    return PERTURBATIONS


def test_a_scorer_that_rewards_capitals_is_caught():
    def capitals(texts):
        return [sum(ch.isupper() for ch in text) / (len(text) or 1) for _, text in texts]

    block = teacher_check.measure(capitals, PAIRS, n_boot=100)
    lowercase = block["perturbations"]["kinds"]["lowercase"]
    assert lowercase["teacher"] == {"cases": 3, "flips": 2, "rate": pytest.approx(2 / 3)}
    assert lowercase["model"] == {"cases": 4, "flips": 2, "rate": 0.5}
    assert not block["perturbations"]["meets_target"]


class _Judge:
    """Scores whether the reply asks a question; counts what it was asked."""

    spec = "fake"

    def __init__(self):
        self.seen = 0

    def judge_many(self, items):
        from socratic.scores import Judgment, Scores

        self.seen += len(items)
        return [Judgment(dialogue=d, reply=r, judge="fake", scores=Scores(
            questions="?" in r, on_topic=3, helpful=3, reveal_answer=False)) for d, r in items]


def test_teacher_block_judges_a_judge_that_never_saw_the_pairs_as_it_is():
    judge = _Judge()
    block = teacher_check.teacher_block(judge, PAIRS, n_boot=50)
    assert block["protocol"].startswith("as it is") and block["accuracy"]["accuracy"] == 1.0
    assert judge.seen > 4  # the originals and the perturbed texts, each once
    assert teacher_check.teacher_block(judge, [])["pairs"] == 0


def test_a_reward_fitted_on_the_pairs_is_scored_out_of_fold(monkeypatch):
    """Each pair judged by a refit that never saw its problem: the fold judges are fitted without it."""
    from dataclasses import replace

    from socratic.judge.labels import human as labels
    from socratic.judge.labels.teacher_vs_model import group_of, load_teacher_pairs
    from socratic.judge.pairwise import fit as reward_fit
    from socratic.judge.pairwise import judge as reward_judge
    from socratic.store.cache import NoCache

    items = labels.training_items()
    mrbench = [i for i in items if i.dialogue.source == "mrbench"]
    groups = list(dict.fromkeys(i.dialogue.meta["group"] for i in mrbench))[:3]
    subset = [i for i in mrbench if i.dialogue.meta["group"] in groups] + \
        [i for i in items if i.dialogue.source != "mrbench"][:6]
    monkeypatch.setattr(labels, "training_items", lambda extra=(): subset)
    pairs = load_teacher_pairs()[:6]
    config = replace(reward_fit.DEFAULT_REWARD, teacher_weight=3.0)
    model = reward_fit.fit(reward_fit.training_data(subset, config, teacher=pairs), config)
    judge = reward_judge.PairwiseJudge(cache=NoCache(), model=model)
    assert teacher_check.learns_from_teacher(judge)
    folds = teacher_check._fold_judges(judge, pairs, 3)
    from socratic.agreement.cv import fold_of

    for fold, fold_judge in folds.items():
        held = {group_of(p) for p in pairs if fold_of(group_of(p), 3) == fold}
        assert fold_judge.model.n_pairs["teacher"] == sum(
            len([s for s in p.samples if s.strip() != p.teacher.strip()]) for p in pairs if group_of(p) not in held)
    block = teacher_check.teacher_block(judge, pairs, folds=3, n_boot=50)
    assert block["protocol"].startswith("out of fold") and block["accuracy"]["n"] == len(pair_rows(pairs))
