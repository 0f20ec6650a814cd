"""Pair selection rules on hand-made judgments (exact cases), the TRL output format and the card."""

from __future__ import annotations

import json

import pytest

from socratic.errors import InputError
from socratic.preference.pairs import PairsConfig, histogram, rank_key, run, select_dialogue, select_pairs
from socratic.records import Dialogue, Turn
from socratic.scores import Judgment, Scores
from socratic.store.jsonl import write_jsonl


def dialogue(did: str = "d1", source: str = "mathdial") -> Dialogue:
    return Dialogue(id=did, source=source, split="train", context="2 + 3 = ?",
                    turns=(Turn(role="student", text="Is it 6?"),), reference="5")


def judged(reply: str, q: bool = True, on: int = 5, helpful: int = 5, reveal: bool = False, *,
           index: int = 0, did: str = "d1", error: str | None = None) -> Judgment:
    if error:
        return Judgment(dialogue=dialogue(did), reply=reply, judge="rubric", error=error,
                        meta={"index": index, "model": "fake"})
    scores = Scores(questions=q, on_topic=on, helpful=helpful, reveal_answer=reveal)
    return Judgment(dialogue=dialogue(did), reply=reply, judge="rubric", scores=scores,
                    meta={"index": index, "model": "fake"})


def test_best_worst_picks_extremes():
    js = [judged("mid", q=False, index=0), judged("best?", index=1), judged("worst", q=False, reveal=True, index=2)]
    pairs, dropped = select_pairs(js, "best-worst")
    assert dropped == {}
    assert [(p.chosen.reply, p.rejected.reply, p.chosen_score, p.rejected_score) for p in pairs] == [
        ("best?", "worst", 1.0, 0.5)]


def test_any_failed_judgment_skips_the_dialogue():
    js = [judged("a?", index=0), judged("b", q=False, index=1), judged("c", index=2, error="bad json")]
    assert select_pairs(js) == ([], {"d1": "judge_failed"})


def test_too_few_candidates_and_identical_texts():
    assert select_pairs([judged("only?")]) == ([], {"d1": "too_few_candidates"})
    # Same text (up to whitespace) with different scores (an LLM judge can disagree with itself): never a pair.
    same = [judged("Why 6?", index=0), judged(" Why  6? ", q=False, index=1)]
    assert select_pairs(same) == ([], {"d1": "too_few_candidates"})
    # A duplicate does not stop the distinct worst reply from being rejected.
    js = [judged("Why 6?", index=0), judged("Why 6?", q=False, index=1), judged("It is 5.", q=False, reveal=True,
                                                                             index=2)]
    (pair,), _ = select_pairs(js)
    assert (pair.chosen.meta["index"], pair.rejected.meta["index"]) == (0, 2)


def test_min_chosen_and_min_margin():
    js = [judged("a", q=False, on=3, helpful=3, index=0), judged("b", q=False, on=1, helpful=1, index=1)]
    # chosen 0.5 = (0 + 1 + 0.5 + 0.5) / 4, rejected 0.25: margin 0.25
    assert select_pairs(js, min_chosen=0.51) == ([], {"d1": "chosen_too_low"})
    assert select_pairs(js, min_chosen=0.5, min_margin=0.26) == ([], {"d1": "margin_too_small"})
    (pair,), dropped = select_pairs(js, min_chosen=0.5, min_margin=0.25)  # both bounds inclusive
    assert dropped == {} and pair.margin == 0.25
    # chosen_too_low is checked before the margin
    assert select_pairs(js, min_chosen=0.9, min_margin=0.9)[1] == {"d1": "chosen_too_low"}


def test_equal_scores_never_pair_even_with_zero_margin():
    js = [judged("a?", index=0), judged("b?", index=1)]
    assert select_pairs(js, min_margin=0.0) == ([], {"d1": "margin_too_small"})


def test_reference_formula_margin_tolerates_float_steps():
    # reference: 0.25q + 0.25(1-r) + 0.05 on + 0.05 helpful; one on_topic step is 0.05 (not exact in floats)
    js = [judged("a?", on=4, helpful=4, index=0), judged("b?", on=3, helpful=4, index=1)]
    (pair,), _ = select_pairs(js, min_margin=0.05, formula="reference")
    assert pair.chosen.reply == "a?" and pair.margin == pytest.approx(0.05)


def test_tie_breaking_is_deterministic():
    # Same summary 0.75 three ways; criteria order: questions first, then on_topic, helpful, reveal.
    no_question = judged("x", q=False, index=0)                   # 0 + 1 + 1 + 1 = 3 -> 0.75
    reveals = judged("y?", reveal=True, index=1)                  # 1 + 0 + 1 + 1 -> 0.75
    low_topic = judged("z?", on=1, helpful=5, index=2)            # 1 + 1 + 0 + 1 -> 0.75
    low_help = judged("w?", on=5, helpful=1, index=3)             # 1 + 1 + 1 + 0 -> 0.75
    order = sorted([no_question, reveals, low_topic, low_help], key=rank_key)
    assert [j.reply for j in order] == ["y?", "w?", "z?", "x"]
    # Full tie on scores: shorter reply first, then lower index; input order never matters.
    a, b, c = judged("long reply?", index=0), judged("short?", index=2), judged("short!", index=1)
    assert [j.reply for j in sorted([a, b, c], key=rank_key)] == ["short!", "short?", "long reply?"]
    worst = judged("bad", q=False, reveal=True, on=1, helpful=1, index=4)
    for order in ([a, b, c, worst], [worst, c, b, a]):
        (pair,), _ = select_pairs(order)
        assert (pair.chosen.reply, pair.rejected.reply) == ("short!", "bad")


def test_all_pairs_strategy():
    js = [judged("s1?", index=0),                               # 1.0
          judged("s2", q=False, index=1),                       # 0.75
          judged("s3", q=False, on=4, index=2),                 # 0.6875
          judged("s4", q=False, reveal=True, index=3)]          # 0.5
    pairs, dropped = select_pairs(js, "all-pairs", min_margin=0.1)
    assert dropped == {}
    assert [(p.chosen.reply, p.rejected.reply) for p in pairs] == [
        ("s1?", "s2"), ("s1?", "s3"), ("s1?", "s4"), ("s2", "s4"), ("s3", "s4")]  # s2-s3 margin 0.0625 < 0.1
    pairs, _ = select_pairs(js, "all-pairs", min_chosen=0.7, min_margin=0.0)
    assert [(p.chosen.reply, p.rejected.reply) for p in pairs] == [
        ("s1?", "s2"), ("s1?", "s3"), ("s1?", "s4"), ("s2", "s3"), ("s2", "s4")]  # s3 as chosen is 0.6875 < 0.7
    assert select_pairs(js, "all-pairs", min_margin=0.6) == ([], {"d1": "margin_too_small"})


def test_dialogues_are_grouped_and_kept_in_order():
    js = [judged("a?", did="d2", index=0), judged("b", q=False, did="d1", index=0),
          judged("c", q=False, reveal=True, did="d2", index=1), judged("d?", did="d1", index=1),
          judged("e", did="d3", error="timeout")]
    pairs, dropped = select_pairs(js)
    assert [(p.chosen.dialogue.id, p.chosen.reply, p.rejected.reply) for p in pairs] == [
        ("d2", "a?", "c"), ("d1", "d?", "b")]
    assert dropped == {"d3": "judge_failed"}


def test_select_dialogue_reports_reason_of_best_vs_worst():
    js = [judged("a?", index=0), judged("b?", on=4, index=1), judged("c?", on=3, index=2)]
    assert select_dialogue(js, "all-pairs", 0.0, 0.2) == ([], "margin_too_small")


def test_histogram_bins():
    assert histogram([0.0, 0.05, 0.1, 0.99, 1.0, 0.3]) == [
        ("0.0-0.1", 2), ("0.1-0.2", 1), ("0.2-0.3", 0), ("0.3-0.4", 1), ("0.4-0.5", 0), ("0.5-0.6", 0),
        ("0.6-0.7", 0), ("0.7-0.8", 0), ("0.8-0.9", 0), ("0.9-1.0", 2)]


def sample_judgments() -> list[Judgment]:
    return [
        judged("What did you add first?", did="d1", index=0),
        judged("The answer is 5.", q=False, reveal=True, did="d1", index=1),
        judged("Why?", did="d2", index=0), judged("Why?", did="d2", index=1),               # identical
        judged("ok", did="d3", index=0, error="judge returned invalid JSON 3 times"),
        judged("Check again?", did="d3", index=1),
        judged("Hmm.", q=False, on=2, helpful=1, did="d4", index=0),
        judged("Hm.", q=False, on=1, helpful=1, did="d4", index=1),                           # chosen too low
    ]


def test_run_writes_trl_format_loadable_by_datasets_and_a_card(tmp_path):
    from datasets import load_dataset

    write_jsonl(tmp_path / "judgments.jsonl", sample_judgments())
    out = run(PairsConfig(judgments=tmp_path / "judgments.jsonl", out=tmp_path / "pairs.jsonl"))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert row["prompt"][0]["role"] == "system" and "2 + 3 = ?" in row["prompt"][0]["content"]
    assert row["prompt"][1:] == [{"role": "user", "content": "Is it 6?"}]
    assert row["chosen"] == [{"role": "assistant", "content": "What did you add first?"}]
    assert row["rejected"] == [{"role": "assistant", "content": "The answer is 5."}]
    assert (row["chosen_score"], row["rejected_score"], row["dialogue_id"], row["source"]) == (1.0, 0.5, "d1",
                                                                                                 "mathdial")

    dataset = load_dataset("json", data_files=str(out), split="train")
    assert {"prompt", "chosen", "rejected"} <= set(dataset.column_names)
    assert dataset[0]["prompt"][0]["role"] == "system"
    assert dataset[0]["chosen"][0]["content"] == "What did you add first?"

    card = (tmp_path / "README.md").read_text()
    assert card.startswith("---\n")
    assert "| **pairs kept** | **1** |" in card
    for reason, count in [("judge_failed", 1), ("too_few_candidates", 1), ("chosen_too_low", 1),
                          ("margin_too_small", 0)]:
        assert f"| dropped: `{reason}` | {count} |" in card
    assert "min_chosen_score: 0.5" in card  # the config is in the card
    # The card's front matter is valid metadata, and the folder loads as a dataset by itself.
    from huggingface_hub import DatasetCard

    assert DatasetCard.load(tmp_path / "README.md").data.configs[0]["data_files"][0]["path"] == "pairs.jsonl"
    assert load_dataset(str(tmp_path), split="train").num_rows == 1


def test_with_the_answer_key_the_pair_prompts_carry_it_as_generation_had_it(tmp_path):
    from socratic.render import render_messages

    write_jsonl(tmp_path / "judgments.jsonl", sample_judgments())
    out = run(PairsConfig(judgments=tmp_path / "judgments.jsonl", out=tmp_path / "pairs.jsonl", answer_key=True))
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["prompt"] == render_messages(dialogue(), answer_key=True)
    assert row["prompt"][0]["content"].endswith("the student went wrong):\n5")


def test_run_rejects_bad_judgments_naming_the_line(tmp_path):
    path = tmp_path / "judgments.jsonl"
    lines = [judged("a?").model_dump_json(), '{"dialogue": {}, "reply": "x", "judge": "rubric"}']
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"judgments.jsonl:2: field 'dialogue.id'"):
        run(PairsConfig(judgments=path, out=tmp_path / "pairs.jsonl"))
    assert not (tmp_path / "pairs.jsonl").exists()


def test_cli_pairs(tmp_path):
    from typer.testing import CliRunner

    from socratic.cli import app

    write_jsonl(tmp_path / "judgments.jsonl", sample_judgments())
    out = tmp_path / "out" / "pairs.jsonl"
    result = CliRunner().invoke(app, ["pairs", "--judgments", str(tmp_path / "judgments.jsonl"), "-o", str(out),
                                      "--strategy", "all-pairs", "--min-chosen", "0", "--min-margin", "0.05"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["dialogue_id"] for line in out.read_text().splitlines()] == ["d1", "d4"]
    assert "strategy: all-pairs" in (tmp_path / "out" / "README.md").read_text()
    bad = CliRunner().invoke(app, ["pairs", "--judgments", str(tmp_path / "judgments.jsonl"), "-o", str(out),
                                   "--strategy", "random"])
    assert bad.exit_code != 0


def rewarded(reply: str, summary: float, q: bool, index: int) -> Judgment:
    """A reward judge's judgment: its summary is its mapped utility, not the formula over the criteria."""
    judgment = judged(reply, q=q, index=index)
    return judgment.model_copy(update={"meta": {**judgment.meta, "judge_notes": {"reward": {"summary": summary}}}})


def test_question_filter_chooses_the_best_reply_that_asks():
    js = [rewarded("Let's see: 2 + 3.", 0.9, q=False, index=0), rewarded("What is 2 + 3?", 0.7, q=True, index=1),
          rewarded("It is 5.", 0.2, q=False, index=2)]
    (pair,), _ = select_pairs(js)  # without the filter the reward's best is chosen, question or not
    assert pair.chosen.reply == "Let's see: 2 + 3."
    (pair,), _ = select_pairs(js, chosen_asks_question=True)
    assert (pair.chosen.reply, pair.rejected.reply, pair.chosen_score) == ("What is 2 + 3?", "It is 5.", 0.7)
    # all-pairs: only askers are chosen, over every lower-ranked reply
    pairs, _ = select_pairs(js, "all-pairs", chosen_asks_question=True)
    assert [(p.chosen.reply, p.rejected.reply) for p in pairs] == [("What is 2 + 3?", "It is 5.")]


def test_question_filter_drops_dialogues_without_a_usable_asker():
    no_asker = [rewarded("a", 0.9, q=False, index=0), rewarded("b", 0.1, q=False, index=1)]
    assert select_pairs(no_asker, chosen_asks_question=True) == ([], {"d1": "chosen_no_question"})
    assert len(select_pairs(no_asker)[0]) == 1
    # the only asker is the worst reply: nothing below it to reject
    worst_asks = [rewarded("a", 0.9, q=False, index=0), rewarded("b?", 0.1, q=True, index=1)]
    assert select_pairs(worst_asks, chosen_asks_question=True) == ([], {"d1": "margin_too_small"})
