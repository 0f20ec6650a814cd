"""Within-conversation pairwise accuracy, the dodge suite, and the human order they rest on
(socratic.agreement.ranking, socratic.judge.labels.human_order): exact expectations on tiny hand-made data."""

from __future__ import annotations

import pytest

from socratic.agreement.ranking import dodge_suite, pairwise_accuracy, suite_items
from socratic.judge.labels import human_order
from socratic.records import Dialogue, LabelledReply, Labels, Turn


def test_pairwise_accuracy_counts_pairs_inside_conversations_only():
    keys = ["a", "a", "a", "b", "b", "c"]
    human = [1.0, 0.5, 0.0, 0.2, 0.9, 0.7]
    judge = [0.9, 0.3, 0.5, 0.1, 0.1, 0.0]
    # a: (0>1) right, (0>2) right, (1>2) wrong -> 2 of 3; b: (4>3) a judge tie -> 1/2; c: no pair
    out = pairwise_accuracy(keys, human, judge, n_boot=200, seed=1)
    assert out["n_pairs"] == 4 and out["n_conversations"] == 2
    assert out["accuracy"] == pytest.approx(2.5 / 4)
    assert 0.0 <= out["ci_low"] <= out["accuracy"] <= out["ci_high"] <= 1.0


def test_pairwise_accuracy_skips_equal_human_values_and_missing_values():
    out = pairwise_accuracy(["a", "a", "a"], [0.5, 0.5, None], [0.1, 0.9, 0.3])
    assert out["n_pairs"] == 0 and out["accuracy"] is None and "note" in out


def test_dodge_suite_wins_need_the_margin():
    cases = [("c1", "echo", 0.9, 0.79), ("c1", "echo", 0.9, 0.85), ("c2", "echo", 0.6, 0.5),
             ("c1", "generic", 0.9, 0.2), ("c2", "generic", 0.6, None)]
    out = dodge_suite(cases, margin=0.10, target=0.95)
    echo, generic = out["families"]["echo"], out["families"]["generic"]
    assert echo["cases"] == 3 and echo["conversations"] == 2
    assert echo["win_rate"] == pytest.approx(2 / 3)  # 0.11 and 0.10 win, 0.05 does not
    assert echo["conversations_won"] == pytest.approx(0.5)  # c1 lost one phrasing
    assert echo["mean_gap"] == pytest.approx((0.11 + 0.05 + 0.10) / 3)
    assert generic["win_rate"] == pytest.approx(0.5)  # a failed judgment is a loss
    assert out["worst_family"] == "generic" and out["all_families_meet_target"] is False
    assert dodge_suite([("c", "echo", 0.9, 0.1)])["all_families_meet_target"] is True


DIALOGUE = Dialogue(id="x", source="mrbench", context="Tom has 58 apples and gives 40 away. How many are left?",
                    turns=(Turn(role="tutor", text="What did you do first?"),
                           Turn(role="student", text="I added 58 and 40 and got 98.")),
                    meta={"group": "mrbench:x"})
OTHER = DIALOGUE.model_copy(update={"id": "y", "turns": (Turn(role="student", text="I got 98."),)})


def labelled(dialogue: Dialogue, reply: str, helpful: int, reveal: bool, raw: str = "No") -> LabelledReply:
    meta = {**dialogue.meta, "mrbench": {"Revealing_of_the_Answer": raw}}
    return LabelledReply(dialogue=dialogue.model_copy(update={"meta": meta}), reply=reply,
                         labels=Labels(helpful=helpful, on_topic=5, reveal_answer=reveal))


ITEMS = [labelled(DIALOGUE, "What does 'gives away' mean for the number of apples?", 5, False),
         labelled(DIALOGUE, "It is 18 because 58 - 40 = 18.", 3, True, "Yes (and the answer is correct)"),
         labelled(DIALOGUE, "Good try!", 1, False),
         labelled(OTHER, "Good.", 1, False)]


def test_human_preference_and_pairs():
    assert human_order.human_preference(Labels(helpful=5, on_topic=5, reveal_answer=False)) == 1.0
    assert human_order.human_preference(Labels(helpful=3, on_topic=5, reveal_answer=True)) == pytest.approx(0.5)
    assert human_order.human_preference(Labels(questions=True, helpful=1, on_topic=1, reveal_answer=False)) == 0.5
    assert human_order.human_preference(Labels()) is None
    # The three replies to DIALOGUE: 1.0, 0.5, 2/3 -> every pair differs; OTHER has a single reply.
    assert sorted(human_order.preference_pairs(ITEMS)) == [(0, 1), (0, 2), (2, 1)]


def test_the_suite_pits_the_honest_reply_against_eval_phrasings():
    cases = suite_items(ITEMS)
    assert {c.honest for c in cases} == {0}  # OTHER has no honest reply
    families = {c.family for c in cases}
    assert {"hidden_answer", "praise_wrong", "repeat_tutor", "off_topic"} <= families
    hidden = [c.dodge for c in cases if c.family == "hidden_answer"]
    assert "Don't you think it should be 18?" in hidden  # the answer a revealing reply stated
    assert human_order.revealed_answer(ITEMS, [0, 1, 2]) == "18"
