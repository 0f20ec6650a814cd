"""`socratic rate export` -> filled CSVs -> `socratic rate import`: known ratings in, known numbers out;
and every kind of bad input refused with one line naming file, line and field, exit 2, nothing overwritten."""

from __future__ import annotations

import json

import pytest
from ratekit import SCORES, write_ratings

from socratic.rate.result import RatingResult
from socratic.rate.sheet import RatingKey
from socratic.scores import Judgment
from socratic.store.jsonl import read_jsonl, write_jsonl


@pytest.fixture
def sheet(rate, evaluation, tmp_path):
    code, out, err = rate("rate", "export", evaluation, "-o", tmp_path / "sheet", "--seed", "3")
    assert code == 0, err
    assert "4 items, 12 replies" in out
    return tmp_path / "sheet"


@pytest.fixture
def filled(sheet):
    key = RatingKey.read(sheet / "key.json")
    return [write_ratings(sheet / f"ratings-{rater}.csv", key, rater, scores) for rater, scores in SCORES.items()]


def test_known_ratings_give_known_numbers(rate, sheet, filled):
    code, out, err = rate("rate", "import", *filled, "--bootstrap", "500")
    assert code == 0, err
    result = RatingResult.read(sheet / "ratings.json")
    assert result.raters == ["ann", "bo"] and result.items == 4
    assert result.sources == ["zzbase", "zztuned", "teacher"]

    # Per-item means over the two raters, then the mean over the 4 items (worked out in conftest's SCORES).
    base, tuned, teacher = (result.source(s) for s in result.sources)
    assert base.mean.mean == pytest.approx(1.25) and tuned.mean.mean == pytest.approx(2.625)
    assert teacher.mean.mean == pytest.approx(4.0)
    assert (base.acceptable.mean, tuned.acceptable.mean, teacher.acceptable.mean) == pytest.approx((0, 0.5, 1))
    assert (base.harmful.mean, tuned.harmful.mean, teacher.harmful.mean) == pytest.approx((0.75, 0, 0))
    assert base.ratings == 8 and base.items == 4
    assert base.mean.low <= 1.25 <= base.mean.high and base.mean.low < base.mean.high

    # Ties count half: on d2 ann gave base and tuned 2 each.
    assert result.win("zztuned", "zzbase").rate.mean == pytest.approx(0.9375)
    assert result.win("zzbase", "zztuned").rate.mean == pytest.approx(0.0625)
    assert result.win("teacher", "zztuned").rate.mean == pytest.approx(0.875)
    everywhere = result.win("teacher", "zzbase").rate
    assert (everywhere.mean, everywhere.low, everywhere.high, everywhere.n) == (1.0, 1.0, 1.0, 4)

    # Quadratic-weighted kappa of ann and bo on the 12 replies: 1 - 13 / (119/3) = 80/119.
    (pair,) = result.rater_pairs
    assert pair.raters == ("ann", "bo") and pair.n == 12
    assert pair.kappa == pytest.approx(80 / 119) and result.mean_kappa == pytest.approx(80 / 119)
    assert pair.exact == pytest.approx(5 / 12) and pair.within_one == pytest.approx(10 / 12)

    # flat-a orders base < tuned < teacher on every item, as the raters do; flat-b ties base with tuned on
    # d0 (half), puts tuned above the teacher (wrong on every item) and failed on the teacher's d3 reply.
    judges = {j.judge: j for j in result.judges}
    assert (judges["flat-a"].replies, judges["flat-a"].pairs, judges["flat-a"].pair_agreement) == (12, 12, 1.0)
    assert judges["flat-a"].spearman == pytest.approx(0.952786, abs=1e-6)
    assert (judges["flat-b"].replies, judges["flat-b"].unjudged, judges["flat-b"].pairs) == (11, 1, 10)
    assert judges["flat-b"].pair_agreement == pytest.approx(5.5 / 10)
    assert judges["flat-b"].spearman == pytest.approx(0.181687, abs=1e-6)

    # Every score, unblinded: back to the dialogue and source each was given to.
    assert len(result.ratings) == 24
    assert {(r.rater, r.dialogue_id, r.source, r.score) for r in result.ratings} == {
        (rater, d, source, scores[d][i]) for rater, scores in SCORES.items() for d in scores
        for i, source in enumerate(["zzbase", "zztuned", "teacher"])}

    assert "blind ratings" in out and "zztuned" in out and "80/119" not in out
    assert f"{80 / 119:.2f}" in out


def test_one_rater_gives_no_agreement_and_says_so(rate, sheet, filled):
    code, _out, err = rate("rate", "import", filled[0], "--bootstrap", "200")
    assert code == 0, err
    result = RatingResult.read(sheet / "ratings.json")
    assert result.rater_pairs == [] and result.mean_kappa is None
    assert any("one rater" in w for w in result.warnings)
    assert result.source("teacher").mean.mean == pytest.approx(3.75)


def _rewrite(path, change):
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(change(lines)) + "\n", encoding="utf-8")


def _set_cell(line: str, column: int, value: str) -> str:
    # The fixture's notes are empty, so a plain split is exact here.
    cells = line.split(",")
    cells[column] = value
    return ",".join(cells)


BAD_INPUTS = [
    # (what, change to ann's file, expected line, expected field, words of the message)
    ("a score above 5", lambda ls: [*ls[:3], _set_cell(ls[3], 4, "6"), *ls[4:]], 4, "score", "outside the scale"),
    ("a score below 1", lambda ls: [*ls[:3], _set_cell(ls[3], 4, "0"), *ls[4:]], 4, "score", "outside the scale"),
    ("a word for a score", lambda ls: [*ls[:2], _set_cell(ls[2], 4, "good"), *ls[3:]], 3, "score", "not a whole"),
    ("a fraction", lambda ls: [*ls[:2], _set_cell(ls[2], 4, "3.5"), *ls[3:]], 3, "score", "not a whole"),
    ("an empty score", lambda ls: [*ls[:5], _set_cell(ls[5], 4, ""), *ls[6:]], 6, "score", "empty"),
    ("a missing item", lambda ls: ls[:-1], None, "item", "is not rated"),
    ("another sheet", lambda ls: [*ls[:2], _set_cell(ls[2], 0, "0123456789abcdef"), *ls[3:]], 3, "sheet",
     "another export"),
    ("an unknown letter", lambda ls: [*ls[:4], _set_cell(ls[4], 3, "Q"), *ls[5:]], 5, "letter", "not a reply"),
    ("an unknown item", lambda ls: [*ls[:4], _set_cell(ls[4], 2, "99"), *ls[5:]], 5, "item", "not an item"),
    ("a reply rated twice", lambda ls: [*ls, ls[1]], 14, "letter", "rated twice"),
    ("two raters in a file", lambda ls: [*ls[:7], _set_cell(ls[7], 1, "carl"), *ls[8:]], 8, "rater",
     "one rater per file"),
    ("no rater name", lambda ls: [*ls[:2], _set_cell(ls[2], 1, " "), *ls[3:]], 3, "rater", "name"),
    ("no score column", lambda ls: [ls[0].replace("score", "points"), *ls[1:]], 1, "score", "no column"),
]


@pytest.mark.parametrize(("what", "change", "line", "field", "words"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_ratings_are_one_line_exit_2_and_nothing_overwritten(rate, sheet, filled, what, change, line, field,
                                                                words):
    assert rate("rate", "import", *filled, "--bootstrap", "200")[0] == 0
    before = (sheet / "ratings.json").read_bytes()
    _rewrite(filled[0], change)
    code, out, err = rate("rate", "import", *filled, "--bootstrap", "200")
    assert code == 2, (what, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    where = f"{filled[0]}:{line}" if line else f"{filled[0]}:"
    assert lines[0].startswith(f"error: {where}") and f"field '{field}'" in lines[0] and words in lines[0], lines[0]
    assert (sheet / "ratings.json").read_bytes() == before


def test_a_rater_twice_is_refused(rate, sheet, filled):
    again = write_ratings(sheet / "ratings-ANN-again.csv", RatingKey.read(sheet / "key.json"), "ANN", SCORES["bo"])
    code, _, err = rate("rate", "import", *filled, again)
    assert code == 2 and not (sheet / "ratings.json").exists()
    assert f"error: {again}:2: field 'rater': rater 'ANN' also rated in {filled[0]}" in err


def test_ratings_of_another_export_are_refused_by_its_key(rate, evaluation, sheet, filled, tmp_path):
    assert rate("rate", "export", evaluation, "-o", tmp_path / "other", "--items", "3")[0] == 0
    code, _, err = rate("rate", "import", filled[0], "--key", tmp_path / "other" / "key.json")
    assert code == 2 and "field 'sheet'" in err and "another export" in err
    assert not (tmp_path / "other" / "ratings.json").exists()


def test_the_blank_csv_is_refused_until_filled(rate, sheet):
    code, _, err = rate("rate", "import", sheet / "sheet.csv")
    assert code == 2 and f"{sheet / 'sheet.csv'}:2: field 'rater'" in err


def test_a_missing_key_is_one_line(rate, filled, tmp_path):
    code, _, err = rate("rate", "import", filled[0], "--key", tmp_path / "nowhere.json")
    assert code == 2 and "nowhere.json" in err and len(err.strip().splitlines()) == 1


def test_an_evaluation_that_moved_is_named_with_evaluation(rate, sheet, filled, evaluation, tmp_path):
    moved = evaluation.rename(tmp_path / "moved")
    assert rate("rate", "import", *filled, "--bootstrap", "200")[0] == 0
    result = json.loads((sheet / "ratings.json").read_text())
    assert result["judges"] == [] and "not found" in result["warnings"][0]
    assert rate("rate", "import", *filled, "--bootstrap", "200", "--evaluation", moved)[0] == 0
    assert [j.judge for j in RatingResult.read(sheet / "ratings.json").judges] == ["flat-a", "flat-b"]


def test_a_key_from_a_newer_socratic_is_refused_by_its_version(rate, sheet, filled):
    key = json.loads((sheet / "key.json").read_text())
    (sheet / "key.json").write_text(json.dumps({**key, "version": 99}))
    code, _, err = rate("rate", "import", *filled)
    assert code == 2 and f"{sheet / 'key.json'}: field 'version'" in err and "newer" in err
    assert not (sheet / "ratings.json").exists()


def test_a_real_evaluation_folder_round_trips(rate, monkeypatch, tmp_path):
    # `socratic evaluate` itself (scripted models, a fake judge) writes the folder: the kit reads what it writes.
    from fakes.evaluation import evaluate_with_fakes

    folder = evaluate_with_fakes(monkeypatch, tmp_path / "eval", {"base": ["The answer is 4."] * 8,
                                                                  "tuned": ["What did you try first?"] * 8},
                                 datasets=["mathdial", "debugging"], judges=["fake-judge"], n=4)
    assert rate("rate", "export", folder, "-o", tmp_path / "sheet", "--items", "6", "--seed", "1")[0] == 0
    key = RatingKey.read(tmp_path / "sheet" / "key.json")
    assert key.sources == ["base", "tuned"] and len(key.items) == 6
    assert {item.dataset for item in key.items} <= {"mathdial", "debugging"}
    scores = {item.dialogue_id: (2, 4) for item in key.items}
    ann = write_ratings(tmp_path / "sheet" / "ratings-ann.csv", key, "ann", scores, sources=key.sources)
    code, _, err = rate("rate", "import", ann, "--bootstrap", "200")
    assert code == 0, err
    result = RatingResult.read(tmp_path / "sheet" / "ratings.json")
    assert result.win("tuned", "base").rate.mean == 1.0
    (judge,) = result.judges
    # The fake judge gives a question 4/4 and a stated answer 2/2 and a reveal: it orders every pair as ann does.
    assert (judge.judge, judge.replies, judge.pairs, judge.pair_agreement) == ("fake-judge", 12, 6, 1.0)


def test_judgments_of_another_text_than_the_sheet_showed_are_left_out(rate, sheet, filled, evaluation):
    # The evaluation re-run after the export (a model retrained into the same folder): its judgments
    # judge replies the raters never saw, so they must not be compared with the ratings.
    judgments = read_jsonl(evaluation / "judgments.jsonl", Judgment)
    write_jsonl(evaluation / "judgments.jsonl",
                [j.model_copy(update={"reply": "a new reply"}) if j.meta["model"] == "zztuned" else j
                 for j in judgments])
    assert rate("rate", "import", *filled, "--bootstrap", "200")[0] == 0
    result = RatingResult.read(sheet / "ratings.json")
    flat_a = next(j for j in result.judges if j.judge == "flat-a")
    assert (flat_a.replies, flat_a.unjudged, flat_a.pairs) == (8, 4, 4)
    assert "8 judgments are of another text" in result.warnings[0]
