"""The clean test set (issue 27): test items an evaluation judge was fitted or calibrated on are left out of
the headline's paired tests and shown apart; the questions part of a lift."""

from __future__ import annotations

import pytest

from fakes.judges import FakeJudge
from socratic.backends import FakeBackend
from socratic.evaluate import evaluation as evaluate
from socratic.evaluate.behaviour import lift_parts, questions_part, questions_weight
from socratic.evaluate.clean import clean_set, dialogue_group, is_excluded, seen_groups
from socratic.evaluate.result import Evaluation
from socratic.records import Dialogue, Turn
from socratic.scores import Judgment, Scores


def problem(i: int, text: str | None = None) -> Dialogue:
    return Dialogue(id=f"m{i}", source="mathdial", context=f"Problem: {text or f'Tom has {i} apples and buys more.'}",
                    turns=(Turn(role="student", text="I think it is 7."),))


def test_a_test_item_overlaps_a_judge_when_its_problem_is_among_the_judges_groups():
    sets = {"mathdial": [problem(i) for i in range(4)], "tutorchat": [problem(9)]}
    seen = {"learned": ({dialogue_group(problem(1)), dialogue_group(problem(3))}, "was fitted on"),
            "rubric": ({dialogue_group(problem(3))}, "was calibrated by hand on"), "llm:x": None}
    clean = clean_set(sets, seen)
    assert clean.excluded == {"mathdial": ["m1", "m3"]} and clean.totals == {"mathdial": 4, "tutorchat": 1}
    assert clean.n_excluded() == 2
    assert clean.judges["learned"] == "was fitted on replies to the problems/conversations of 2 of 4 mathdial test items"
    assert "no test item excluded" in clean.judges["llm:x"]
    assert is_excluded(clean, "mathdial", "m1") and not is_excluded(clean, "mathdial", "m0")
    assert not is_excluded(clean, "tutorchat", "m1")
    # the same problem under another id and other turns is still the same group
    other = problem(1).model_copy(update={"id": "copy", "turns": (Turn(role="student", text="Hi"),)})
    assert clean_set({"mathdial": [other]}, seen).excluded == {"mathdial": ["copy"]}


def test_judges_without_labels_see_nothing_and_the_rubric_saw_the_dev_file():
    assert seen_groups(FakeJudge("fake-judge")) is None
    groups, verb = seen_groups(FakeJudge("rubric"))
    assert len(groups) == 50 and "calibrated" in verb  # the socratic_llm dev file's 50 problems


def _judgment(model: str, i: int, questions: bool, helpful: int = 3) -> Judgment:
    scores = Scores(questions=questions, on_topic=3, helpful=helpful, reveal_answer=False)
    return Judgment(dialogue=problem(i), reply="r", judge="j", scores=scores, meta={"model": model,
                                                                                    "dataset": "mathdial"})


def test_the_questions_part_of_a_lift_is_its_weight_times_the_flips():
    assert questions_weight("uniform") == pytest.approx(0.25) and questions_weight("reference") == pytest.approx(0.25)
    # 4 items: questions flips on 2 (0.25 each), helpful rises one level on all (0.0625 each)
    judgments = [_judgment("base", i, False) for i in range(4)]
    judgments += [_judgment("tuned", i, i < 2, helpful=4) for i in range(4)]
    parts = {p.items: p for p in lift_parts(judgments, models=["base", "tuned"], datasets=["mathdial"], judges=["j"],
                                            excluded={"mathdial": ["m0"]})}
    assert parts["all"].n == 4 and parts["all"].mean_lift == pytest.approx(0.125 + 0.0625)
    assert parts["all"].questions_part == pytest.approx(0.125)
    assert parts["all"].questions_share == pytest.approx(0.125 / 0.1875)
    assert parts["clean"].n == 3 and parts["clean"].questions_part == pytest.approx(0.25 / 3)
    flat = questions_part([(a, a) for a in judgments[:2]], "uniform")
    assert flat["mean_lift"] == 0 and flat["questions_share"] is None  # no lift: nothing to split


def test_evaluate_leaves_overlapping_items_out_of_the_headline_paired_tests(tmp_path, monkeypatch):
    items = [problem(i) for i in range(6)]
    # base asks no question; tuned asks on items 0-2 only, which the judge has seen
    backends = {"fake:base": FakeBackend(responder=lambda m, o: "Add them.", spec="fake:base"),
                "fake:tuned": FakeBackend(responder=lambda m, o: "How many?" if any(
                    f"Tom has {i} apples" in x["content"] for x in m for i in range(3)) else "Add them.",
                    spec="fake:tuned")}
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: backends[spec])
    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: FakeJudge(spec))
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: items)
    monkeypatch.setattr(evaluate, "seen_groups", lambda judge: ({dialogue_group(d) for d in items[:3]},
                                                                "was fitted on"))
    config = evaluate.EvaluateConfig(models={"base": "fake:base", "tuned": "fake:tuned"}, datasets=["mathdial"],
                                     judges=["fake-judge"], out=tmp_path / "eval", n_resamples=200, no_cache=True)
    evaluation = Evaluation.read(evaluate.run(config))
    assert evaluation.clean.excluded == {"mathdial": ["m0", "m1", "m2"]}
    everything = next(p for p in evaluation.paired if p.formula == "uniform")
    clean = next(p for p in evaluation.paired_clean if p.formula == "uniform")
    assert everything.n == 6 and everything.diff > 0  # the lift lives on the items the judge has seen
    assert clean.n == 3 and clean.diff == 0
    assert evaluation.headline_paired() == evaluation.paired_clean
    assert evaluation.lift_part("tuned", "mathdial", "fake-judge", "all").questions_part == pytest.approx(0.125)
    assert evaluation.lift_part("tuned", "mathdial", "fake-judge").questions_part == 0


def test_an_llm_judge_is_not_loaded_again_to_check_the_overlap(tmp_path, monkeypatch):
    loaded = []

    def load(spec, cache):
        loaded.append(spec)
        return FakeJudge(spec)

    monkeypatch.setattr(evaluate, "_load_judge", load)
    config = evaluate.EvaluateConfig(models={"base": "fake:x"}, judges=["llm:embedded", "rubric", "qmark", "pairwise"],
                                     out=tmp_path)
    clean = evaluate.clean_test_set(config, {"mathdial": [problem(0)]}, cache=None)
    # reward is fitted on human labels like learned: its items are looked up too (they were not before)
    assert loaded == ["rubric", "pairwise"] and "no test item excluded" in clean.judges["llm:embedded"]
