"""`socratic rate export`: the sheet is blind (no model name or spec anywhere raters look), self-contained,
seeded (the same seed gives the same sheet; an item's reply order does not depend on the sample), and an
existing key of another sheet is never overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest
from ratekit import MODELS, eval_replies, write_evaluation

from socratic.errors import SocraticError
from socratic.evaluate.result import EvalReply
from socratic.rate.scale import SCALE, scale_markdown
from socratic.rate.sheet import RatingKey, blind_sheet
from socratic.store.jsonl import read_jsonl, write_jsonl

REPO = Path(__file__).resolve().parents[2]


def _export(rate, evaluation, out, *options) -> tuple[str, str, RatingKey]:
    code, _, err = rate("rate", "export", evaluation, "-o", out, *options)
    assert code == 0, err
    return ((out / "sheet.html").read_text(encoding="utf-8"), (out / "sheet.csv").read_text(encoding="utf-8"),
            RatingKey.read(out / "key.json"))


def test_the_sheet_names_no_source_and_loads_nothing(rate, evaluation, tmp_path):
    html, blank, key = _export(rate, evaluation, tmp_path / "sheet")
    assert key.sources == list(MODELS) and key.specs == MODELS and len(key.items) == 4
    for text in (html, blank):
        for name, spec in MODELS.items():
            if name != "teacher":  # the instructions speak of "an experienced teacher": checked below
                assert name not in text and spec not in text
        assert str(evaluation) not in text and "key.json" not in text
        assert "mathdial" not in text and "debugging" not in text
    # "teacher" is only in the instructions and the scale ("an experienced teacher", "a good teacher").
    assert "teacher" not in html.replace("experienced teacher", "").replace("good teacher", "")
    # Self-contained: no link, no script or style from anywhere, no address at all.
    assert "://" not in html and "<link" not in html and " src=" not in html
    for level in SCALE:
        assert level.anchor in html.replace("&#39;", "'")
    assert blank.splitlines()[0] == "sheet,rater,item,letter,score,note"
    assert len(blank.splitlines()) == 1 + 12 and all(row.startswith(f"{key.sheet},,") for row in blank.splitlines()[1:])


def test_the_same_seed_gives_the_same_sheet_and_the_order_is_per_item(rate, evaluation, tmp_path):
    html, _, key = _export(rate, evaluation, tmp_path / "a", "--seed", "7")
    again, _, same = _export(rate, evaluation, tmp_path / "b", "--seed", "7")
    assert html == again and key.sheet == same.sheet
    _, _, other = _export(rate, evaluation, tmp_path / "c", "--seed", "8")
    assert other.sheet != key.sheet
    _, _, sample = _export(rate, evaluation, tmp_path / "d", "--seed", "7", "--items", "2")
    assert len(sample.items) == 2 and sample.sheet != key.sheet
    letters = {item.dialogue_id: item.letters for item in key.items}
    assert all(item.letters == letters[item.dialogue_id] for item in sample.items)


def test_reply_orders_are_shuffled_across_items():
    dialogue = eval_replies()[0].dialogue
    replies = [EvalReply(model=m, spec=m, dataset="set", dialogue=dialogue.model_copy(update={"id": f"x{i}"}),
                         reply=f"{m} {i}", settings="s") for i in range(30) for m in ("p", "q", "r")]
    sheet, key = blind_sheet(replies, evaluation="eval", seed=0)
    orders = {tuple(item.letters.values()) for item in key.items}
    assert len(orders) >= 4  # of the 6 possible
    assert {item.letters["A"] for item in key.items} == {"p", "q", "r"}
    for blind, keyed in zip(sheet.items, key.items, strict=True):
        assert [r.text.split()[0] for r in blind.replies] == [keyed.letters[r.letter] for r in blind.replies]


def test_an_item_without_every_sources_reply_is_left_out():
    replies = [r for r in eval_replies() if not (r.model == "teacher" and r.dialogue.id == "d2")]
    _, key = blind_sheet(replies, evaluation="eval")
    assert sorted(item.dialogue_id for item in key.items) == ["d0", "d1", "d3"] and key.left_out == 1
    _, key = blind_sheet(replies, evaluation="eval", models=["zzbase", "zztuned"])
    assert len(key.items) == 4 and key.sources == ["zzbase", "zztuned"]


def test_datasets_and_sources_are_chosen_by_name(rate, evaluation, tmp_path):
    _, _, key = _export(rate, evaluation, tmp_path / "s", "--dataset", "debugging", "--model", "teacher")
    assert {item.dataset for item in key.items} == {"debugging"} and len(key.items) == 2
    assert key.sources == ["teacher"] and all(item.letters == {"A": "teacher"} for item in key.items)


@pytest.mark.parametrize(("options", "words"), [
    (("--model", "gpt9"), "--model 'gpt9' is not in the evaluation; it has: zzbase, zztuned, teacher"),
    (("--dataset", "tutorchat"), "--dataset 'tutorchat' is not in the evaluation"),
    (("--items", "5"), "--items 5: the evaluation has 4 items"),
    (("--items", "0"), "field 'items'"),
])
def test_bad_export_options_are_one_line(rate, evaluation, tmp_path, options, words):
    code, _, err = rate("rate", "export", evaluation, "-o", tmp_path / "sheet", *options)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "sheet").exists()


def test_a_folder_that_is_not_an_evaluation_is_one_line(rate, tmp_path):
    code, _, err = rate("rate", "export", tmp_path, "-o", tmp_path / "sheet")
    assert code == 2 and "replies.jsonl: not found" in err


def test_a_key_of_another_sheet_is_never_overwritten(rate, evaluation, tmp_path):
    _, _, key = _export(rate, evaluation, tmp_path / "sheet", "--seed", "1")
    before = (tmp_path / "sheet" / "key.json").read_bytes()
    code, _, err = rate("rate", "export", evaluation, "-o", tmp_path / "sheet", "--seed", "2")
    assert code == 2 and f"key of another sheet ({key.sheet})" in err
    assert (tmp_path / "sheet" / "key.json").read_bytes() == before
    _export(rate, evaluation, tmp_path / "sheet", "--seed", "1")  # the same sheet again: harmless


def test_reply_text_cannot_break_out_of_the_page(rate, tmp_path):
    evaluation = write_evaluation(tmp_path / "eval")
    replies = read_jsonl(evaluation / "replies.jsonl", EvalReply)
    hostile = "</script><script>document.title='owned'</script><img src=x onerror=alert(1)>"
    write_jsonl(evaluation / "replies.jsonl", [r.model_copy(update={"reply": hostile}) if i == 0 else r
                                               for i, r in enumerate(replies)])
    html, _, _ = _export(rate, evaluation, tmp_path / "sheet")
    assert "<script>document.title" not in html and "<img src=x" not in html
    assert "&lt;/script&gt;&lt;script&gt;document.title=&#39;owned&#39;" in html


def test_blind_sheet_refuses_a_source_it_does_not_have():
    with pytest.raises(SocraticError, match="--model 'nobody'"):
        blind_sheet(eval_replies(), evaluation="eval", models=["nobody"])


def test_the_docs_print_the_scale_of_the_code():
    assert scale_markdown() in (REPO / "docs" / "rating.md").read_text(encoding="utf-8")
