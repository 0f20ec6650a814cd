"""Judge validation: statistics against hand-computed values, missing labels and judge failures, run() end
to end with a fake judge, and the real `socratic agreement` command with the rubric judge on the human-eval file.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fakes.judges import NoisyJudge
from socratic.agreement import measure as agreement
from socratic.agreement.measure import (
    AgreementConfig,
    binary_agreement,
    compare,
    disagreements,
    gain,
    ordinal_agreement,
    paired_values,
    summary_agreement,
)
from socratic.records import Dialogue, LabelledReply, Labels, Turn
from socratic.scores import Judgment, Scores, summary_score
from socratic.store.jsonl import write_jsonl

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _dialogue(i: int) -> Dialogue:
    return Dialogue(id=f"d{i}", source="test", turns=(Turn(role="student", text=f"What is {i} + {i}?"),),
                    reference=str(2 * i))


def _item(i: int, **labels) -> LabelledReply:
    return LabelledReply(dialogue=_dialogue(i), reply=f"reply {i}", labels=Labels(**labels))


def _ok(item: LabelledReply, **scores) -> Judgment:
    s = Scores(**scores)
    return Judgment(dialogue=item.dialogue, reply=item.reply, judge="fake", scores=s, summary=summary_score(s))


def _failed(item: LabelledReply) -> Judgment:
    return Judgment(dialogue=item.dialogue, reply=item.reply, judge="fake", error="bad JSON after 3 tries",
                    attempts=3)


# --------------------------------------------------------------------------- yes/no criteria

def test_binary_perfect_agreement():
    block = binary_agreement([True, False, True, True], [True, False, True, True])
    assert block["n"] == 4
    assert block["accuracy"] == 1.0 and block["kappa"] == pytest.approx(1.0)
    assert (block["precision"], block["recall"], block["f1"]) == (1.0, 1.0, 1.0)
    assert block["confusion"]["matrix"] == [[1, 0], [0, 3]]
    assert block["human_mean"] == block["judge_mean"] == 0.75


def test_binary_hand_computed_kappa():
    # human rows (no, yes) x judge columns (no, yes) = [[3, 1], [2, 4]]:
    # p_o = 7/10, p_e = 0.4*0.5 + 0.6*0.5 = 0.5, kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    human = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    judge = [0, 0, 0, 1, 0, 0, 1, 1, 1, 1]
    block = binary_agreement([bool(x) for x in human], [bool(x) for x in judge])
    assert block["confusion"]["matrix"] == [[3, 1], [2, 4]]
    assert block["accuracy"] == pytest.approx(0.7)
    assert block["kappa"] == pytest.approx(0.4)
    assert block["precision"] == pytest.approx(4 / 5)
    assert block["recall"] == pytest.approx(4 / 6)
    assert block["f1"] == pytest.approx(8 / 11)


def test_binary_independent_labels_kappa_zero():
    block = binary_agreement([True, True, False, False], [True, False, True, False])
    assert block["accuracy"] == 0.5 and block["kappa"] == pytest.approx(0.0)


def test_binary_single_identical_class_is_null_with_note():
    block = binary_agreement([False] * 5, [False] * 5)
    assert block["accuracy"] == 1.0
    assert block["kappa"] is None and block["precision"] is None and block["recall"] is None
    assert any("kappa" in note for note in block["notes"])
    json.dumps(block, allow_nan=False)


def test_binary_empty():
    block = binary_agreement([], [])
    assert block["n"] == 0 and block["accuracy"] is None and block["kappa"] is None
    assert block["notes"]


# --------------------------------------------------------------------------- 1-5 criteria

def test_ordinal_perfect_agreement():
    block = ordinal_agreement([1, 2, 3, 4, 5, 3], [1, 2, 3, 4, 5, 3])
    assert block["pearson"]["estimate"] == pytest.approx(1.0)
    assert block["spearman"]["estimate"] == pytest.approx(1.0)
    assert block["qwk"] == pytest.approx(1.0)
    assert block["mae"] == 0.0 and block["exact"] == 1.0


def test_ordinal_hand_computed_qwk():
    # weights (i-j)^2; observed sum w*O = 1/3 * 1 = 1/3; expected with marginals human (1/3 each of 1,2,3),
    # judge (1/3 of 1, 2/3 of 3): sum w*E = 1/9*(0+1+4) + 2/9*(4+1+0) = 15/9; qwk = 1 - (1/3)/(15/9) = 0.8
    block = ordinal_agreement([1, 2, 3], [1, 3, 3])
    assert block["qwk"] == pytest.approx(0.8)
    assert block["mae"] == pytest.approx(1 / 3)
    assert block["human_mean"] == pytest.approx(2.0) and block["judge_mean"] == pytest.approx(7 / 3)


def test_ordinal_independent_labels():
    block = ordinal_agreement([1, 1, 5, 5], [1, 5, 1, 5])
    assert block["pearson"]["estimate"] == pytest.approx(0.0, abs=1e-12)
    assert block["qwk"] == pytest.approx(0.0, abs=1e-12)


def test_ordinal_constant_labels_give_null_correlation_with_note():
    block = ordinal_agreement([5, 5, 5, 5], [2, 4, 5, 3])
    assert block["pearson"]["estimate"] is None and block["spearman"]["estimate"] is None
    assert any("human labels are constant" in note for note in block["notes"])
    assert block["mae"] == pytest.approx(1.5)
    json.dumps(block, allow_nan=False)


def test_ordinal_too_few_items():
    block = ordinal_agreement([1, 5], [2, 4])
    assert block["pearson"]["estimate"] is None
    assert any("n=2" in note for note in block["notes"])


# --------------------------------------------------------------------------- summary score

SUMMARY_H = [0.1, 0.3, 0.35, 0.5, 0.55, 0.6, 0.8, 0.9, 0.95, 1.0, 0.2, 0.7]
SUMMARY_J = [0.2, 0.25, 0.5, 0.4, 0.7, 0.5, 0.75, 1.0, 0.8, 0.9, 0.4, 0.6]


def test_summary_bootstrap_ci_contains_estimate_and_is_deterministic():
    a = summary_agreement(SUMMARY_H, SUMMARY_J, n_boot=500, seed=7)
    b = summary_agreement(SUMMARY_H, SUMMARY_J, n_boot=500, seed=7)
    c = summary_agreement(SUMMARY_H, SUMMARY_J, n_boot=500, seed=8)
    assert a == b
    assert a["pearson"] != c["pearson"]
    for name in ("pearson", "spearman"):
        block = a[name]
        assert block["ci_low"] < block["estimate"] < block["ci_high"] <= 1.0
    from scipy.stats import pearsonr
    assert a["pearson"]["estimate"] == pytest.approx(pearsonr(SUMMARY_H, SUMMARY_J).statistic)


def test_summary_perfect_and_constant():
    perfect = summary_agreement(SUMMARY_H, SUMMARY_H, n_boot=200)
    assert perfect["pearson"]["estimate"] == pytest.approx(1.0) and perfect["mae"] == 0.0
    assert perfect["pearson"]["ci_low"] == pytest.approx(1.0)
    constant = summary_agreement(SUMMARY_H, [0.5] * len(SUMMARY_H), n_boot=200)
    assert constant["pearson"]["estimate"] is None and constant["pearson"]["ci_low"] is None
    assert any("judge values are constant" in n for n in constant["notes"])
    json.dumps(constant, allow_nan=False)


def test_summary_ci_drops_degenerate_resamples():
    # Mostly-constant humans: many resamples are all 1.0 on the human side and have no correlation.
    human = [1.0] * 8 + [0.5, 0.75]
    judge = [1.0, 0.9, 0.8, 1.0, 1.0, 0.7, 0.9, 1.0, 0.4, 0.8]
    block = summary_agreement(human, judge, n_boot=300, seed=0)
    assert block["pearson"]["estimate"] is not None
    assert block["pearson"]["ci_low"] is not None and block["pearson"]["ci_low"] <= block["pearson"]["ci_high"]
    assert any("resamples had a constant side" in n for n in block["notes"])


# --------------------------------------------------------------------------- a judge against the baseline

def _accuracy(h, j, axis=-1):
    return (h == j).mean(axis=axis)


def test_gain_says_better_worse_or_no_clear_difference():
    rng = np.random.default_rng(1)
    human = rng.integers(0, 2, 60).astype(float)
    noisy = np.where(rng.random(60) < 0.4, 1 - human, human)
    better = gain("acc", _accuracy, human, human, noisy, n_boot=500)
    assert better["judge"] == 1.0 and better["baseline"] == pytest.approx(_accuracy(human, noisy))
    assert better["difference"] > 0 and better["ci_low"] > 0 and better["verdict"] == "better"
    worse = gain("acc", _accuracy, human, noisy, human, n_boot=500)
    assert worse["difference"] == pytest.approx(-better["difference"]) and worse["verdict"] == "worse"
    same = gain("acc", _accuracy, human, noisy, noisy, n_boot=500)
    assert same["difference"] == 0.0 and (same["ci_low"], same["ci_high"]) == (0.0, 0.0)
    assert same["verdict"] == "no clear difference"
    assert gain("acc", _accuracy, human, human, noisy, n_boot=500) == better  # deterministic for a seed


def test_kappa_stat_matches_sklearn_and_is_vectorised():
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(2)
    h, j = rng.integers(0, 2, (2, 40)).astype(float)
    assert agreement._kappa_stat(h, j) == pytest.approx(cohen_kappa_score(h, j))
    stacked = agreement._kappa_stat(np.stack([h, h]), np.stack([j, h]), axis=-1)
    assert stacked == pytest.approx([cohen_kappa_score(h, j), 1.0])


def test_gain_too_few_items_or_constant_side_is_null_with_note():
    few = gain("acc", _accuracy, [1.0, 0.0], [1.0, 0.0], [0.0, 0.0])
    assert few["difference"] is None and few["verdict"] is None and "fewer than 3" in few["notes"][0]
    flat = gain("Pearson", agreement._pearson_stat, [0.1, 0.5, 0.9], [0.2, 0.4, 0.8], [0.5, 0.5, 0.5])
    assert flat["difference"] is None and flat["baseline"] is None and "constant" in flat["notes"][0]


# --------------------------------------------------------------------------- records

def test_missing_labels_and_judge_failures_counted_and_excluded():
    items = [
        _item(0, questions=True, on_topic=5, helpful=4, reveal_answer=False),
        _item(1, questions=None, on_topic=3, helpful=None, reveal_answer=False),
        _item(2),  # no labels at all
        _item(3, questions=False, on_topic=2, helpful=2, reveal_answer=True),
        _item(4, questions=True, on_topic=4, helpful=3, reveal_answer=False),
    ]
    judgments = [
        _ok(items[0], questions=True, on_topic=5, helpful=4, reveal_answer=False),
        _ok(items[1], questions=False, on_topic=3, helpful=1, reveal_answer=False),
        _failed(items[2]),  # label missing too: counted as missing_label
        _failed(items[3]),
        _ok(items[4], questions=True, on_topic=2, helpful=3, reveal_answer=True),
    ]
    human, judge, left_out = paired_values(items, judgments, "questions")
    assert (human, judge, left_out) == ([True, True], [True, True], {"missing_label": 2, "judge_failed": 1})
    result = compare(items, judgments, n_boot=100)
    assert result["failures"] == 2 and result["failure_examples"][0]["id"] == "d2"
    assert result["criteria"]["on_topic"]["n"] == 3
    assert result["criteria"]["on_topic"]["left_out"] == {"missing_label": 1, "judge_failed": 1}
    assert result["criteria"]["helpful"]["left_out"] == {"missing_label": 2, "judge_failed": 1}
    assert result["criteria"]["reveal_answer"]["confusion"]["matrix"] == [[2, 1], [0, 0]]
    assert result["summary"]["n"] == 2
    assert result["summary"]["left_out"] == {"missing_label": 2, "judge_failed": 1}
    assert result["summary"]["pearson"]["estimate"] is None  # n=2
    json.dumps(result, allow_nan=False)


def test_disagreements_sorted_with_differing_criteria():
    items = [_item(i, questions=True, on_topic=5, helpful=5, reveal_answer=False) for i in range(4)]
    judgments = [
        _ok(items[0], questions=True, on_topic=5, helpful=5, reveal_answer=False),  # agrees: not listed
        _ok(items[1], questions=False, on_topic=5, helpful=5, reveal_answer=True),  # diff -0.5
        _ok(items[2], questions=True, on_topic=5, helpful=1, reveal_answer=False),  # diff -0.25
        _failed(items[3]),
    ]
    found = disagreements(items, judgments, "uniform", top_k=10)
    assert [d["id"] for d in found] == ["d1", "d2"]
    assert found[0]["diff"] == pytest.approx(-0.5)
    assert found[0]["differ"] == {"questions": {"human": True, "judge": False},
                                  "reveal_answer": {"human": False, "judge": True}}
    assert found[1]["differ"] == {"helpful": {"human": 5, "judge": 1}}
    assert found[0]["student"] == "What is 1 + 1?" and found[0]["reference"] == "2"
    assert [d["id"] for d in disagreements(items, judgments, top_k=1)] == ["d1"]


# --------------------------------------------------------------------------- run() with a fake judge

def _labelled_file(tmp_path: Path) -> Path:
    replies = ["What is the sum of 2 and 3?", "The answer is 5.", "Can you add them?", "FAIL here",
               "Think about the sum again?", "The answer is 12, done.", "Why?", "Let's check the sum.",
               "Good sum work. What next?", "Hmm."]
    records = []
    for i, reply in enumerate(replies):
        labels = Labels(questions="?" in reply, on_topic=5 if "sum" in reply else 3,
                        helpful=len(reply) % 5 + 1, reveal_answer="answer is" in reply)
        if i == 9:
            labels = Labels(questions=False, on_topic=None, helpful=None, reveal_answer=False)
        records.append(LabelledReply(dialogue=_dialogue(i), reply=reply, labels=labels))
    return write_jsonl(tmp_path / "labels.jsonl", records)


@pytest.fixture
def fake_judges(monkeypatch):
    made = {}
    real = agreement._load_judge

    def load(spec, cache):
        made[spec] = real(spec, cache) if spec == agreement.BASELINE else NoisyJudge(spec, noise=0 if spec == "fake-a" else 2)
        return made[spec]

    monkeypatch.setattr(agreement, "_load_judge", load)
    return made


def test_run_end_to_end_with_fake_judges(tmp_path, fake_judges):
    out = tmp_path / "out"
    config = AgreementConfig(labels=_labelled_file(tmp_path), judges=["fake-a", "fake-b"], out=out,
                             bootstrap=200, top_k=3)
    result = agreement.run(config)

    on_disk = json.loads((out / "agreement.json").read_text())
    assert on_disk == json.loads(json.dumps(result))
    json.dumps(on_disk, allow_nan=False)
    assert on_disk["config"]["judges"] == ["fake-a", "fake-b"] and on_disk["anchor"]["pearson"] == 0.78
    assert on_disk["labels"]["n_items"] == 10 and on_disk["labels"]["labelled"]["on_topic"] == 9
    a, b, baseline = on_disk["judges"]
    assert (a["spec"], b["spec"], baseline["spec"]) == ("fake-a", "fake-b", "qmark")  # the baseline is added
    assert "versus_baseline" not in baseline
    # fake-a and the '?' baseline both reproduce the human `questions` labels (they are '?' in the reply)
    versus = a["versus_baseline"]["questions_accuracy"]
    assert versus["judge"] == versus["baseline"] == 1.0 and versus["difference"] == 0.0
    assert versus["n"] == 9 and versus["verdict"] == "no clear difference"
    assert a["versus_baseline"]["summary_pearson"]["n"] == 8
    assert a["versus_baseline"]["reveal_kappa"]["baseline"] == 0.0  # the baseline never says "reveals"
    assert a["versus_baseline"]["helpful_spearman"]["n"] == 8
    assert a["failures"] == 1 and a["failure_examples"] == [{"id": "d3", "error": "parse error"}]
    # fake-a reproduces the human questions/reveal labels exactly
    assert a["criteria"]["questions"]["kappa"] == pytest.approx(1.0)
    assert a["criteria"]["questions"]["n"] == 9 and a["criteria"]["questions"]["left_out"]["judge_failed"] == 1
    assert a["criteria"]["helpful"]["n"] == 8
    assert a["criteria"]["helpful"]["left_out"] == {"missing_label": 1, "judge_failed": 1}
    assert a["criteria"]["helpful"]["qwk"] == pytest.approx(1.0)
    assert b["criteria"]["helpful"]["mae"] > 0
    assert a["summary"]["n"] == 8 and len(a["items"]) == 10
    assert len(b["disagreements"]) <= 3
    assert set(on_disk["figures"]) == {"summary_scatter.png", "summary_scatter.svg",
                                       "criteria_means.png", "criteria_means.svg"}
    for stem in ("summary_scatter", "criteria_means"):
        assert (out / f"{stem}.png").read_bytes()[:8] == PNG_MAGIC
        assert ET.parse(out / f"{stem}.svg").getroot().tag.endswith("svg")


def test_run_missing_labels_file_is_a_user_error(tmp_path, fake_judges):
    from socratic.errors import InputError

    with pytest.raises(InputError, match="not found"):
        agreement.run(AgreementConfig(labels=tmp_path / "nope.jsonl", judges=["fake-a"], out=tmp_path / "o"))


def test_cli_with_fake_judge_prints_table(tmp_path, fake_judges):
    from socratic.cli import app

    labels = _labelled_file(tmp_path)
    result = CliRunner().invoke(app, ["agreement", "--labels", str(labels), "--judge", "fake-a", "--judge",
                                      "fake-b", "-o", str(tmp_path / "o"), "--top", "2", "--bootstrap", "100"])
    assert result.exit_code == 0, result.output
    for text in ("Judge vs human agreement", "fake-a", "fake-b", "Cohen's kappa", "quadratic kappa",
                 "Largest disagreements", "Published anchor", "0.78", "fake-b vs the '?' baseline (qmark)"):
        assert text in result.output
    assert (tmp_path / "o" / "agreement.json").exists()


def test_cli_rejects_unknown_formula(tmp_path, fake_judges):
    from socratic.cli import app

    result = CliRunner().invoke(app, ["agreement", "--labels", str(_labelled_file(tmp_path)), "--formula", "nope",
                                      "-o", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert "formula" in str(result.exception) or "formula" in result.output


# --------------------------------------------------------------------------- the real rubric judge

@pytest.mark.slow
def test_real_command_rubric_on_human_eval(tmp_path, shared_data):
    from socratic.cli import app

    labels = shared_data / "socratic_llm" / "mathdial_human_eval_dev.json"
    out = tmp_path / "agreement"
    result = CliRunner().invoke(app, ["agreement", "--labels", str(labels), "--judge", "rubric", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "agreement.json").read_text())
    judge = data["judges"][0]
    assert judge["spec"] == "rubric" and judge["n_items"] == 50 and judge["failures"] == 0
    assert data["labels"]["complete"] == 50
    summary = judge["summary"]
    assert summary["n"] == 50
    assert summary["pearson"]["ci_low"] <= summary["pearson"]["estimate"] <= summary["pearson"]["ci_high"]
    assert not math.isnan(summary["mae"])
    # A useful offline judge must at least correlate positively with humans.
    assert summary["pearson"]["estimate"] > 0
    for name in ("summary_scatter.png", "summary_scatter.svg", "criteria_means.png", "criteria_means.svg"):
        assert (out / name).stat().st_size > 0
    assert "Published anchor" in result.output


def test_cli_yaml_config_and_flags_win(tmp_path, fake_judges):
    from socratic.cli import app
    from socratic.errors import ConfigError

    labels = _labelled_file(tmp_path)
    yaml_file = tmp_path / "agreement.yaml"
    yaml_file.write_text(f"labels: {labels}\nout: {tmp_path / 'o'}\njudges: [fake-a]\nbootstrap: 50\n"
                         "formula: reference\n")
    result = CliRunner().invoke(app, ["agreement", "--config", str(yaml_file), "--formula", "uniform"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "o" / "agreement.json").read_text())
    assert data["config"]["judges"] == ["fake-a"] and data["config"]["bootstrap"] == 50
    assert data["config"]["formula"] == "uniform"
    missing = CliRunner().invoke(app, ["agreement", "-o", str(tmp_path / "o2")])
    assert isinstance(missing.exception, ConfigError) and "labels" in str(missing.exception)


def test_run_adds_pairwise_accuracy_and_the_dodge_suite_per_judge(tmp_path, fake_judges):
    from socratic.agreement.table import ranking_lines, teacher_lines

    dialogue = Dialogue(id="c", source="test", context="Tom has 58 apples and gives 40 away. How many are left?",
                        turns=(Turn(role="tutor", text="What did you do with the two numbers first?"),
                               Turn(role="student", text="I added 58 and 40 and got 98.")),
                        reference="58 - 40 = 18\nFinal answer: 18")
    records = [LabelledReply(dialogue=dialogue, reply="What does 'gives away' mean for the sum?",
                             labels=Labels(questions=True, on_topic=5, helpful=5, reveal_answer=False)),
               LabelledReply(dialogue=dialogue, reply="The answer is 18.",
                             labels=Labels(questions=False, on_topic=3, helpful=1, reveal_answer=True)),
               LabelledReply(dialogue=dialogue, reply="Can you check the sum?",
                             labels=Labels(questions=True, on_topic=5, helpful=3, reveal_answer=False))]
    path = write_jsonl(tmp_path / "labels.jsonl", records)
    result = agreement.run(AgreementConfig(labels=path, judges=["fake-a"], out=tmp_path / "out", bootstrap=50,
                                           teacher_pairs=5))
    for block in result["judges"]:  # fake-a and the '?' baseline
        assert block["teacher"]["pairs"] == 5 and block["teacher"]["protocol"].startswith("as it is")
        assert block["teacher"]["accuracy"]["n"] >= 5 and len(teacher_lines(block)) == 2
        assert block["pairwise"]["n_pairs"] == 3 and block["pairwise"]["n_conversations"] == 1
        assert 0.0 <= block["pairwise"]["accuracy"] <= 1.0
        suite = block["dodge_suite"]
        assert suite["margin"] == 0.10 and suite["families"]["off_topic"]["cases"] == 3
        assert {"praise_wrong", "repeat_tutor", "hidden_answer"} <= set(suite["families"])
        assert len(ranking_lines(block)) == 2
    on_disk = json.loads((tmp_path / "out" / "agreement.json").read_text())
    assert on_disk["judges"][0]["dodge_suite"] == json.loads(json.dumps(result["judges"][0]["dodge_suite"]))
