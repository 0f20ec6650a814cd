"""Every evaluation judge side by side in the report, with the flags: judges that disagree on the direction
of a lift, and a lift seen only by the reward judge (issue 17). Fake evaluation results, no model."""

from __future__ import annotations

import pytest

from fakes.evaluation import evaluate_with_fakes
from socratic.evaluate.result import Evaluation, Paired
from socratic.report import build_report
from socratic.report.lifts import direction, judge_lifts, lift_flags
from socratic.scores import Judgment, Scores, summary_score


def paired(judge: str, diff: float, low: float, high: float, model: str = "tuned", dataset: str = "mathdial"):
    return Paired(judge=judge, dataset=dataset, model=model, baseline="base", formula="uniform", diff=diff,
                  low=low, high=high, p_value=0.01, n=20)


def test_direction_needs_the_whole_interval_on_one_side():
    assert direction(paired("a", 0.10, 0.02, 0.18)) == "up"
    assert direction(paired("a", -0.10, -0.18, -0.02)) == "down"
    assert direction(paired("a", 0.10, -0.01, 0.2)) == "unclear"


def test_agreeing_judges_raise_no_flag():
    tests = {"rubric": paired("rubric", 0.1, 0.05, 0.15), "learned": paired("learned", 0.08, 0.01, 0.15)}
    assert lift_flags(tests, "rubric") == []


def test_a_lift_seen_only_by_the_reward_judge_is_flagged():
    tests = {"rubric": paired("rubric", 0.1, 0.05, 0.15), "learned": paired("learned", 0.02, -0.05, 0.09)}
    assert lift_flags(tests, "rubric") == ["lift seen only by the reward judge rubric (not by learned)"]
    # the same numbers with the independent judge as the reward: nothing is seen only by the reward
    assert lift_flags(tests, "learned") == []
    # no other evaluation judge: nothing to compare with, no flag (the evaluation's own warning covers it)
    assert lift_flags({"rubric": tests["rubric"]}, "rubric") == []


def test_judges_pointing_opposite_ways_are_flagged():
    tests = {"rubric": paired("rubric", 0.1, 0.05, 0.15), "learned": paired("learned", -0.03, -0.09, 0.02)}
    flags = lift_flags(tests, None)
    assert flags == ["judges disagree on the direction: rubric sees a clear lift, learned a drop"]
    drop = {"rubric": paired("rubric", -0.1, -0.15, -0.05), "learned": paired("learned", 0.01, -0.02, 0.05)}
    assert lift_flags(drop, None) == ["judges disagree on the direction: rubric sees a clear drop, learned a lift"]
    # unclear both ways, even with opposite estimates: no evidence either way, no flag
    noise = {"rubric": paired("rubric", 0.02, -0.05, 0.09), "learned": paired("learned", -0.02, -0.09, 0.05)}
    assert lift_flags(noise, None) == []


def test_judge_lifts_has_one_cell_per_judge_in_the_evaluations_order():
    evaluation = Evaluation(models=[{"name": "base", "spec": "embedded"}, {"name": "tuned", "spec": "hf:x"}],
                            datasets=["mathdial", "debugging"], judges=["learned", "rubric"], training_judge="rubric",
                            paired=[paired("rubric", 0.1, 0.05, 0.15), paired("learned", -0.04, -0.1, -0.01),
                                    paired("rubric", 0.0, -0.1, 0.1, dataset="debugging"),
                                    paired("learned", 0.0, -0.1, 0.1, dataset="debugging")])
    rows, flags = judge_lifts(evaluation)
    assert [(r["model"], r["dataset"]) for r in rows] == [("tuned", "mathdial"), ("tuned", "debugging")]
    assert [c["judge"] for c in rows[0]["cells"]] == ["learned", "rubric"]
    assert [c["direction"] for c in rows[0]["cells"]] == ["down", "up"] and rows[0]["cells"][1]["reward"]
    assert len(rows[0]["flags"]) == 2 and rows[1]["flags"] == []
    assert flags[0].startswith("tuned on mathdial: judges disagree") and "only by the reward judge" in flags[1]


class ContraryJudge:
    """Likes statements and dislikes questions: an evaluation judge that sees the opposite of FakeJudge."""

    def __init__(self, spec: str):
        self.spec = spec

    def judge_many(self, items, metas=None, progress=True):
        out = []
        for (dialogue, reply), meta in zip(items, metas or [{}] * len(items), strict=True):
            scores = Scores(questions=False, on_topic=4, helpful=2 if "?" in reply else 5, reveal_answer=False)
            out.append(Judgment(dialogue=dialogue, reply=reply, judge=self.spec, scores=scores,
                                summary=summary_score(scores), meta=dict(meta)))
        return out


@pytest.fixture
def disagreeing_run(tmp_path, monkeypatch):
    return evaluate_with_fakes(monkeypatch, tmp_path / "eval",
                               {"base": ["The answer is 3."], "tuned": ["Why?"]},
                               fake_judges={"learned": ContraryJudge("learned")}, judges=["learned", "rubric"],
                               datasets=["tutorchat"], training_judge="rubric")


def test_the_report_shows_both_judges_side_by_side_and_flags_them(disagreeing_run):
    html_path, md_path = build_report(disagreeing_run)
    html, markdown = html_path.read_text("utf-8"), md_path.read_text("utf-8")
    for page in (html, markdown):
        assert "Judges side by side" in page
        assert "lift seen only by the reward judge rubric (not by learned)" in page
        assert "judges disagree on the direction: learned sees a clear drop, rubric a lift" in page
    row = next(line for line in markdown.splitlines() if line.startswith("| tuned | tutorchat |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2].endswith("↓") and cells[3].endswith("↑")  # learned first (the evaluation's order), rubric
    assert "| `learned` | `rubric` (reward) | flags |" in markdown
    assert "Judges do not agree: tuned on tutorchat" in markdown  # in the caveats too


def test_agreeing_judges_leave_no_flag_in_the_report(tmp_path, monkeypatch):
    out = evaluate_with_fakes(monkeypatch, tmp_path / "eval",
                              {"base": ["The answer is 3."], "tuned": ["Why?"]},
                              judges=["learned", "rubric"],
                              datasets=["tutorchat"], training_judge="rubric")
    _, md_path = build_report(out)
    markdown = md_path.read_text("utf-8")
    assert "Judges side by side" in markdown and "Judges do not agree" not in markdown


def test_the_terminal_headline_shows_every_judges_lift_the_rates_and_the_flags(monkeypatch, tmp_path):
    from rich.console import Console

    from socratic.report.headline import print_headline

    out = evaluate_with_fakes(monkeypatch, tmp_path / "ev", {"base": ["The answer is 12."],
                                                             "tuned": ["What is the first step here?"]},
                              fake_judges={"rubric": None, "contrary": ContraryJudge("contrary")},
                              judges=["rubric", "contrary"], training_judge="rubric", n=20,
                              trained_on={"tuned": "mathdial"})
    console = Console(record=True, width=240)
    print_headline(Evaluation.read(out / "evaluation.json"), console)
    text = console.export_text()
    assert "lift by rubric (reward)" in text and "lift by contrary" in text
    assert "mathdial (own)" in text and "0.00 → 1.00" in text  # the judge-free question rate, base → tuned
    assert "flag: tuned on mathdial: judges disagree on the direction" in text


def _evaluation(judges: list[str], reward: str | None) -> Evaluation:
    return Evaluation(models=[{"name": "base", "spec": "embedded"}, {"name": "tuned", "spec": "fake"}],
                      datasets=["mathdial"], judges=judges, training_judge=reward)


def test_an_evaluation_judge_that_shares_the_rewards_detectors_is_flagged_as_not_independent():
    from socratic.report.lifts import independence_flags

    (flag,) = independence_flags(_evaluation(["learned", "rubric"], "rubric"))
    assert flag.startswith("learned is not independent of the reward judge (rubric): they share ")
    assert "find_leaks" in flag  # the rubric's answer-leak detector feeds the learned judge's features
    # an LLM judge shares no detector with the rubric: nothing to flag; no reward named: nothing either
    assert independence_flags(_evaluation(["llm:openai:gpt-4o", "rubric"], "rubric")) == []
    assert independence_flags(_evaluation(["learned", "rubric"], None)) == []
    # a judge this version does not know (a custom one in an old evaluation.json) declares nothing
    assert independence_flags(_evaluation(["contrary", "rubric"], "rubric")) == []
