"""Gaming and collapse checks (issue 18): question and reveal rates against the baseline's, the form-only
share of a lift, distinctness. Exact expectations on hand-made replies and judgments; no model."""

from __future__ import annotations

import json

import pytest

from fakes.data import dialogues
from fakes.evaluation import evaluate_with_fakes
from socratic.evaluate import behaviour
from socratic.evaluate.behaviour import asks_question, distinctness, form_only_share, near_duplicates
from socratic.evaluate.result import JUDGE_FREE, EvalReply, Evaluation
from socratic.evaluate.summary import summarize
from socratic.scores import Judgment, Scores

ITEMS = dialogues("mathdial", 4)


def test_asks_question_counts_genuine_questions_only():
    assert asks_question("Why did you add 3 and 4?")
    assert asks_question("Can you show me how you got 12.")  # a request phrased as a question
    assert not asks_question("That is 12, right?")  # a rhetorical tag
    assert not asks_question("The answer is 12.")


def test_near_duplicates_are_equal_texts_or_the_same_words_give_or_take_a_few():
    replies = ["What is your first step?", "what is your first step ?", "What is your first step, then?",
               "How many apples did Tom buy?", "How many pears did Sara eat?"]
    # 0-1: equal after case and punctuation; 0-2: 5 of 6 words shared (Jaccard 0.83 >= 0.8); 3-4: 3 of 9 words
    assert near_duplicates(replies) == [[1, 2], [0, 2], [0, 1], [], []]


def test_distinctness_of_a_collapsed_and_of_a_distinct_model():
    same = "What do you think the first step is?"
    collapsed = distinctness([same, same, same, "How did you get 12?"])
    assert collapsed == {"near_duplicates": 3, "near_duplicate_share": 0.75, "collapsed": True,
                         "most_repeated": same, "most_repeated_count": 3}
    distinct = distinctness(["Why 12?", "How did you get 7?", "What does the problem ask?"])
    assert distinct == {"near_duplicates": 0, "near_duplicate_share": 0.0, "collapsed": False,
                        "most_repeated": "", "most_repeated_count": 0}
    # exactly at the limit is not collapse: more than half the items must repeat
    half = distinctness(["Why?", "Why?", "How did you get 7?", "What does the problem ask?"])
    assert half["near_duplicate_share"] == behaviour.COLLAPSE_SHARE and not half["collapsed"]
    # empty replies are all the same reply
    assert distinctness(["", "", ""])["collapsed"]
    assert distinctness(["only one"])["near_duplicate_share"] is None and distinctness([])["most_repeated"] == ""


def test_form_only_share_splits_the_summed_differences_by_kind_of_change():
    split = form_only_share([0.25, 0.5, 0.0, 0.25], ["form", "content", "identical", "content"])
    assert split["items"] == {"identical": 1, "form": 1, "content": 2}
    assert split["diff_sums"] == {"identical": 0.0, "form": 0.25, "content": 0.75}
    assert split["mean_lift"] == 0.25 and split["form_only_share"] == 0.25
    # content items that lose make the form-only share of the (smaller) lift larger
    assert form_only_share([0.5, -0.25], ["form", "content"])["form_only_share"] == 2.0
    # no lift to split: a drop, or a mean lift below the limit
    assert form_only_share([-0.25, 0.0], ["form", "content"])["form_only_share"] is None
    assert form_only_share([0.01, 0.0], ["form", "content"])["form_only_share"] is None
    assert form_only_share([], [])["mean_lift"] is None
    with pytest.raises(ValueError, match="2 differences for 1 kinds"):
        form_only_share([0.1, 0.2], ["form"])


def _reply(model: str, item: int, text: str) -> EvalReply:
    return EvalReply(model=model, spec=f"fake:{model}", dataset="mathdial", dialogue=ITEMS[item], reply=text,
                     settings="s")


def _judged(reply: EvalReply, scores: Scores | None, judge: str = "j") -> Judgment:
    return Judgment(dialogue=reply.dialogue, reply=reply.reply, judge=judge, scores=scores,
                    error=None if scores else "failed", meta={"model": reply.model, "dataset": reply.dataset})


def test_summarize_behaviour_on_known_replies_and_judgments():
    reveal = Scores(questions=False, on_topic=3, helpful=3, reveal_answer=True)  # 0.25
    asks = Scores(questions=True, on_topic=3, helpful=3, reveal_answer=False)  # 0.75
    asks_and_reveals = Scores(questions=True, on_topic=3, helpful=3, reveal_answer=True)  # 0.5
    base = [_reply("base", i, f"The answer is {10 * i}.") for i in range(4)]
    tuned = [_reply("tuned", 0, "The answer is 0?"),  # form only: a question mark added
             _reply("tuned", 1, "How did you get 10? The answer is 10."),  # content, still reveals
             _reply("tuned", 2, "What does the problem ask for first?"),  # content
             _reply("tuned", 3, "FAIL")]  # the judge failed on it: not a paired item
    judgments = [_judged(r, reveal) for r in base]
    judgments += [_judged(tuned[0], asks_and_reveals), _judged(tuned[1], asks_and_reveals), _judged(tuned[2], asks),
                  _judged(tuned[3], None)]
    result = behaviour.summarize_behaviour([*base, *tuned], judgments, models=["base", "tuned"],
                                           datasets=["mathdial"], judges=["j"], n_resamples=200)

    free = result.rate("asks_question", "tuned", "mathdial")
    assert free.judge == JUDGE_FREE and free.n == 4  # every reply, failed judgments included
    assert (free.model_rate, free.baseline_rate, free.diff) == (0.75, 0.0, 0.75)
    questions, reveals = result.rate("questions", "tuned", "mathdial", "j"), result.rate("reveal_answer", "tuned",
                                                                                         "mathdial", "j")
    assert questions.n == reveals.n == 3  # the items the paired summary test uses
    assert (questions.model_rate, questions.baseline_rate) == (1.0, 0.0)
    assert reveals.model_rate == pytest.approx(2 / 3) and reveals.baseline_rate == 1.0
    assert reveals.diff == pytest.approx(-1 / 3)
    paired = next(p for p in summarize(judgments, models=["base", "tuned"], datasets=["mathdial"], judges=["j"],
                                       n_resamples=200)["paired"] if p["formula"] == "uniform")
    assert paired["n"] == 3

    (split,) = result.form_only
    assert (split.judge, split.model, split.baseline, split.formula) == ("j", "tuned", "base", "uniform")
    assert split.items == {"identical": 0, "form": 1, "content": 2}
    assert split.diff_sums == {"identical": 0.0, "form": 0.25, "content": 0.75}
    assert split.mean_lift == pytest.approx(paired["diff"]) and split.form_only_share == 0.25

    assert [(s.model, s.n, s.collapsed) for s in result.reply_sets] == [("base", 4, False), ("tuned", 4, False)]
    assert result.reply_set("tuned", "mathdial").asks_question.mean == 0.75
    assert result.limits.collapse_share == behaviour.COLLAPSE_SHARE
    assert result.limits.form_only_share == behaviour.FORM_ONLY_SHARE_LIMIT


def test_evaluation_json_carries_the_checks_and_an_older_file_still_reads(tmp_path, monkeypatch):
    out = evaluate_with_fakes(monkeypatch, tmp_path / "eval",
                              {"base": ["The answer is 12."], "tuned": ["What do you think the first step is?"]},
                              n=5, datasets=["mathdial"], judges=["learned", "rubric"])
    path = out / "evaluation.json"
    result = Evaluation.read(path)
    tuned = result.behaviour.reply_set("tuned", "mathdial")
    assert tuned.collapsed and tuned.most_repeated_count == 5  # one question for every student
    assert [(r.rate, r.judge) for r in result.behaviour.rates] == [
        ("asks_question", JUDGE_FREE), ("questions", "learned"), ("reveal_answer", "learned"),
        ("questions", "rubric"), ("reveal_answer", "rubric")]
    assert [e.judge for e in result.behaviour.form_only] == ["learned", "rubric"]

    data = json.loads(path.read_text())
    del data["behaviour"]
    path.write_text(json.dumps(data))
    assert Evaluation.read(path).behaviour.limits is None
