"""The gaming and collapse checks in the report (issue 18): rates next to the baseline's with a flag for a
higher reveal rate, the form-only share of a lift flagged at a quarter, collapse. Fakes, no model."""

from __future__ import annotations

import json
import re

import pytest

from fakes.evaluation import evaluate_with_fakes
from socratic.evaluate.result import Evaluation
from socratic.report import build_report
from socratic.report.checks import behaviour_checks, distinctness_rows, form_only_rows, rate_rows

LIMITS = {"form_jaccard": 0.8, "collapse_share": 0.5, "form_only_share": 0.25, "min_lift_to_split": 0.02}


def rate(rate: str, judge: str, model_rate: float, baseline_rate: float, low: float, high: float) -> dict:
    return {"rate": rate, "judge": judge, "dataset": "mathdial", "model": "tuned", "baseline": "base",
            "model_rate": model_rate, "baseline_rate": baseline_rate, "diff": model_rate - baseline_rate,
            "low": low, "high": high, "p_value": 0.5, "n": 40}


def form_only(judge: str, share: float | None, mean_lift: float) -> dict:
    return {"judge": judge, "dataset": "mathdial", "model": "tuned", "baseline": "base", "formula": "uniform",
            "n": 40, "items": {"identical": 2, "form": 10, "content": 28},
            "diff_sums": {"identical": 0.0, "form": 1.0, "content": 3.0}, "mean_lift": mean_lift,
            "form_only_share": share}


def reply_set(model: str, share: float, collapsed: bool, repeated: str = "", count: int = 0) -> dict:
    return {"model": model, "dataset": "mathdial", "n": 40,
            "asks_question": {"mean": 0.5, "low": 0.35, "high": 0.65, "n": 40},
            "near_duplicates": round(40 * share), "near_duplicate_share": share, "collapsed": collapsed,
            "most_repeated": repeated, "most_repeated_count": count}


def evaluation(rates=(), form=(), sets=()) -> Evaluation:
    return Evaluation(models=[{"name": "base", "spec": "embedded"}, {"name": "tuned", "spec": "hf:x"}],
                      datasets=["mathdial"], judges=["learned", "rubric"],
                      behaviour={"limits": LIMITS, "rates": list(rates), "form_only": list(form),
                                 "reply_sets": list(sets)})


def test_a_higher_reveal_rate_is_flagged_with_its_interval():
    rows, flags = rate_rows(evaluation([
        rate("asks_question", "judge-free", 0.6, 0.05, 0.4, 0.7),
        rate("questions", "learned", 0.5, 0.1, 0.3, 0.5), rate("reveal_answer", "learned", 0.25, 0.3, -0.2, 0.1),
        rate("questions", "rubric", 0.6, 0.0, 0.5, 0.7), rate("reveal_answer", "rubric", 0.4, 0.25, 0.05, 0.25)]))
    (row,) = rows
    assert row["asks_question"] == "0.60 (base 0.05)"
    assert [c["questions"] for c in row["cells"]] == ["0.50 (base 0.10)", "0.60 (base 0.00)"]
    assert [c["reveal_higher"] for c in row["cells"]] == [False, True]  # learned: lower; rubric: higher
    assert row["cells"][1]["reveal_diff"] == "+0.15 [+0.05, +0.25]"
    assert flags == [("tuned on mathdial: reveal rate by rubric higher than base's: 0.40 vs 0.25, "
                     "+0.15 [+0.05, +0.25] (its CI lies above 0)")]
    # higher but within noise: still flagged (the target is "not higher"), and said to be unclear
    _, noisy = rate_rows(evaluation([rate("asks_question", "judge-free", 0.6, 0.05, 0.4, 0.7),
                                     rate("reveal_answer", "rubric", 0.3, 0.25, -0.05, 0.15)]))
    assert noisy[0].endswith("(its CI includes 0)")


def test_a_form_only_share_of_a_quarter_or_more_is_flagged():
    rows, flags = form_only_rows(evaluation(form=[form_only("learned", 0.24, 0.1), form_only("rubric", 0.25, 0.1)]))
    assert [c["over"] for c in rows[0]["cells"]] == [False, True]
    assert rows[0]["cells"][0]["text"] == "24% of +0.100 (10/40 items form only)"
    assert flags == [("tuned on mathdial: 25% of the lift by rubric (+0.100) comes from replies that changed "
                     "only their form (target: less than 25%)")]
    rows, flags = form_only_rows(evaluation(form=[form_only("learned", None, 0.01)]))
    assert rows[0]["cells"][0]["text"].startswith("– (lift +0.010, below 0.02") and flags == []
    assert rows[0]["cells"][1]["text"] == "–"  # no entry for rubric


def test_a_collapsed_model_is_named_with_its_most_repeated_reply_the_base_too():
    rows, flags = distinctness_rows(evaluation(sets=[
        reply_set("base", 0.55, True, "You're right, I should have subtracted.", 22),
        reply_set("tuned", 0.5, False, "Why?", 3)]))
    assert [(r["model"], r["share"], r["verdict"]) for r in rows] == [("base", "55%", "collapsed"),
                                                                       ("tuned", "50%", "distinct")]
    assert rows[1]["most_repeated"] == "“Why?” (3 items)"
    assert flags == [("base on mathdial: collapsed: 55% of its 40 replies are near-identical to another item's "
                     "reply (limit 50%); the most repeated: “You're right, I should have subtracted.” (22 items)")]


def test_no_checks_section_for_an_evaluation_without_them():
    assert behaviour_checks(Evaluation(models=[{"name": "base", "spec": "embedded"}], datasets=["mathdial"],
                                       judges=["rubric"])) is None


@pytest.fixture
def gaming_run(tmp_path, monkeypatch):
    """base states the student's number as the answer; 'gamer' adds a question mark to it (form only, the same
    reveals, a distinct reply per item); 'parrot' asks every student the same question."""
    def numbered(text):
        return lambda messages, options: text.format(re.findall(r"\d+", messages[-1]["content"])[-1])

    return evaluate_with_fakes(monkeypatch, tmp_path / "eval",
                               {"base": numbered("The answer is {}."), "gamer": numbered("The answer is {}?"),
                                "parrot": ["What do you think the first step is?"]},
                               n=6, datasets=["mathdial"], judges=["learned", "rubric"], training_judge="rubric")


def test_the_report_shows_and_flags_the_checks(gaming_run):
    html_path, md_path = build_report(gaming_run)
    html, markdown = html_path.read_text("utf-8"), md_path.read_text("utf-8")
    for page in (html, markdown):
        assert "Gaming and collapse checks" in page
        assert "100% of the lift by rubric (+0.375) comes from replies that changed only their form" in page
        assert "parrot on mathdial: collapsed: 100% of its 6 replies" in page
        assert "“What do you think the first step is?” (6 items)" in page
    assert 'id="checks"' in html and "Gaming or collapse check: gamer on mathdial" in markdown  # caveats too
    # gamer reveals as often as base: not flagged; its questions are all new
    assert ("| gamer | mathdial | 1.00 (base 0.00) | 1.00 (base 0.00) | 1.00 (base 1.00) | +0.00 [+0.00, +0.00] | "
            "1.00 (base 0.00) | 1.00 (base 1.00) | +0.00 [+0.00, +0.00] | – |") in markdown
    assert "gamer on mathdial: collapsed" not in markdown  # one reply per item: distinct
    assert "| base | mathdial | 6 | 0.00 [0.00, 0.00] | 0% | distinct | none repeated |" in markdown


def test_an_older_evaluation_still_renders_without_the_checks(gaming_run):
    path = gaming_run / "evaluation.json"
    data = json.loads(path.read_text())
    del data["behaviour"]
    path.write_text(json.dumps(data))
    _, md_path = build_report(gaming_run)
    assert "Gaming and collapse checks" not in md_path.read_text("utf-8")


def test_one_model_alone_shows_its_own_question_rate_and_distinctness(tmp_path, monkeypatch):
    out = evaluate_with_fakes(monkeypatch, tmp_path / "eval", {"base": ["Why did you add them?", "The answer is 3."]},
                              datasets=["tutorchat"])
    markdown = build_report(out)[1].read_text("utf-8")
    assert "One model only: nothing to compare with" in markdown and "One model only: no lift to split." in markdown
    # the first item is asked a question, the other three are told the same answer: 3 of 4 repeat, collapsed
    assert "| base | tutorchat | 4 | 0.25 [0.00, 0.75] | 75% | **collapsed** | “The answer is 3.” (3 items) |" in markdown
