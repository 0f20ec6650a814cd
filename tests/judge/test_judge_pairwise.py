"""The `pairwise` judge (socratic.judge.pairwise): fitted on a small subset of the shipped labels
(once per module), deterministic, saved and loaded with a checksum, a corrupt file refitted at the
default path and an error (exit 2) elsewhere; one summary; specs, versions and shared detectors."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from socratic.data.location import data_file
from socratic.errors import SocraticError
from socratic.judge import judge_version, load_judge, shared_detectors, store
from socratic.judge.labels.human import training_items
from socratic.judge.labels.human_order import preference_pairs
from socratic.judge.labels.teacher_vs_model import load_teacher_pairs
from socratic.judge.pairwise import features as reward_features
from socratic.judge.pairwise import fit as reward_fit
from socratic.judge.pairwise import judge as reward_judge
from socratic.judge.pairwise import store as reward_store
from socratic.scores import judgment_summary
from socratic.specs import parse_judge_spec
from socratic.store.cache import Cache, NoCache


@pytest.fixture(scope="module")
def small():
    """Five MRBench conversations (every reply), eight socratic_llm dev items and four teacher pairs, featurized
    once."""
    items = training_items()
    mrbench = [i for i in items if i.dialogue.source == "mrbench"]
    groups = list(dict.fromkeys(i.dialogue.meta["group"] for i in mrbench))[:5]
    subset = [i for i in mrbench if i.dialogue.meta["group"] in groups] + \
        [i for i in items if i.dialogue.source != "mrbench"][:8]
    data = reward_fit.training_data(subset, teacher=load_teacher_pairs()[:4])
    return data, reward_fit.fit(data)


def test_training_pairs_are_human_pairs_and_honest_over_train_dodges(small):
    data, model = small
    human = [(a, b) for a, b, w, kind in data.pairs if kind == "human" and w == 1.0]
    synthetic = [(a, b, w) for a, b, w, kind in data.pairs if kind == "synthetic"]
    dev = [(a, b, w) for a, b, w, kind in data.pairs if kind == "dev"]
    assert sorted(human) == sorted(preference_pairs(data.items))
    assert synthetic and all(w == reward_fit.DEFAULT_REWARD.synthetic_weight for *_, w in synthetic)
    assert all(a < len(data.items) <= b for a, b, _ in synthetic)  # an item over a dodge, never the reverse
    assert model.n_pairs == {"human": len(human), "dev": len(dev), "synthetic": len(synthetic),
                             "teacher": sum(kind == "teacher" for *_, kind in data.pairs)}
    assert len(data.pairs) == len(human) + len(dev) + len(synthetic)
    # dev pairs: socratic_llm replies to different conversations, the better one (by people) first
    from socratic.judge.labels.human_order import human_preference

    config = reward_fit.RewardConfig(dev_pairs_weight=2.0, synthetic_weight=0.0)
    pairs = reward_fit.training_pairs(data.items, data.dodges, config)
    dev = [(a, b, w) for a, b, w, kind in pairs if kind == "dev"]
    assert dev and not [p for p in pairs if p[3] == "synthetic"] and all(w == 2.0 for *_, w in dev)
    assert all(human_preference(data.items[a].labels) > human_preference(data.items[b].labels) for a, b, _ in dev)
    assert all(data.items[a].dialogue.source != "mrbench" for a, _, _ in dev)
    assert data.X.shape == (len(data.items) + len(data.dodges) + len(data.teacher),
                            reward_fit.N_LEARNED + reward_fit.N_DODGE + len(reward_features.CORRECTNESS_SIGNAL_NAMES)
                            + len(reward_features.RESTATING_SIGNAL_NAMES))


def test_the_problem_question_family_is_fitted_only_with_restating(small):
    data, model = small
    family = {len(data.items) + j for j, (_, name, _) in enumerate(data.dodges) if name == "problem_question"}
    assert family  # built for the MRBench conversations: their problems end on a question
    assert not [p for p in data.pairs if p[1] in family]  # the default reward: left out of its fit,
    without = np.array([r for r in range(len(data.X)) if r not in family])  # its standardisation too
    assert np.array_equal(reward_fit.fit(data, rows=without, criteria=False).weights, model.weights)
    restating = reward_fit.RewardConfig(restating=True)
    pairs = reward_fit.training_pairs(data.items, data.dodges, restating, data.teacher)
    assert {b for _, b, _, kind in pairs if b in family and kind == "synthetic"} == family
    assert len(pairs) == len(data.pairs) + sum(p[1] in family for p in pairs)
    fitted = reward_fit.fit(replace(data, pairs=pairs), restating, criteria=False)
    assert fitted.columns(data.X).shape[1] == reward_fit.column_count(restating) == \
        model.columns(data.X).shape[1] + len(reward_features.RESTATING_SIGNAL_NAMES)


def test_restating_signals_measure_the_problem_question_in_the_reply_questions():
    from socratic.records import Dialogue, Turn

    dialogue = Dialogue(id="r", source="test", turns=(Turn(role="student", text="I got 7 boxes."),),
                        context="Problem: Jam has 3 boxes of pencils. How many boxes do Jam and Meg need?")
    signals = reward_features.restating_signals
    assert signals(dialogue, "So, how many boxes do Jam and Meg need?") == [1.0, 1.0]
    share, jaccard = signals(dialogue, "How many pencils fit in one box?")
    assert 0 < jaccard < share < 1  # "many", "box" are the problem's; "pencil", "fit", "one" are not
    assert signals(dialogue, "Well done. How did you get 7?") == [0.0, 0.0]
    assert signals(dialogue, "Boxes, Jam and Meg need boxes.") == [0.0, 0.0]  # no question asked
    assert signals(dialogue.model_copy(update={"context": "Jam has 3 boxes."}),
                   "How many boxes do Jam and Meg need?") == [0.0, 0.0]  # the problem asks nothing


def test_teacher_pairs_put_the_teacher_over_each_model_sample_of_its_context(small):
    data, _ = small
    assert [side for _, side, _ in data.teacher].count("teacher") == 4
    config = reward_fit.RewardConfig(teacher_weight=2.5)
    pairs = [p for p in reward_fit.training_pairs(data.items, data.dodges, config, data.teacher) if p[3] == "teacher"]
    offset = data.teacher_offset
    expected = [(n, sample) for n, pair in enumerate(data.teacher_pairs) for sample in pair.samples
                if sample.strip() != pair.teacher.strip()]
    assert len(pairs) == len(expected) and all(w == 2.5 for _, _, w, _ in pairs)
    for better, worse, _, _ in pairs:
        (n, side, text), (m, other, sample) = data.teacher[better - offset], data.teacher[worse - offset]
        assert n == m and side == "teacher" and other == "model" and text == data.teacher_pairs[n].teacher
        assert (m, sample) in expected
    assert not [p for p in reward_fit.training_pairs(data.items, data.dodges, reward_fit.RewardConfig(teacher_weight=0.0),
                                                 data.teacher) if p[3] == "teacher"]
    # a fit that weighs the teacher pairs orders them better (in sample) than one that does not
    fitted = reward_fit.fit(replace(data, pairs=data.pairs + pairs), config)
    plain = reward_fit.fit(data, reward_fit.RewardConfig(teacher_weight=0.0))

    def wins(model):
        u = model.utility(data.X)
        return sum(u[a] > u[b] for a, b, _, _ in pairs)

    assert wins(fitted) >= wins(plain) and wins(fitted) > len(pairs) / 2


def test_unused_teacher_rows_do_not_move_the_fit(small):
    data, model = small
    without = replace(data, X=data.X[:data.teacher_offset], groups=data.groups[:data.teacher_offset], teacher=[],
                      teacher_pairs=[])
    assert np.allclose(reward_fit.fit(without).weights, model.weights)


def test_the_fit_is_deterministic_and_the_summary_is_monotone_in_the_utility(small):
    data, model = small
    again = reward_fit.fit(data)
    assert reward_store.model_hash(again) == reward_store.model_hash(model)
    utility = model.utility(data.X)
    order = np.argsort(utility)
    assert np.all(np.diff(model.summary(utility)[order]) >= 0)
    assert model.calibration[0] > 0


def test_save_load_roundtrip_and_a_corrupt_file(small, tmp_path):
    data, model = small
    path = reward_store.save(model, tmp_path / "reward.json")
    loaded = reward_store.load(path)
    assert reward_store.model_hash(loaded) == reward_store.model_hash(model)
    assert np.allclose(loaded.utility(data.X), model.utility(data.X))
    document = json.loads(path.read_text())
    document["model"]["weights"][0] += 1.0  # a silently changed weight
    path.write_text(json.dumps(document))
    with pytest.raises(SocraticError, match="corrupt"):
        reward_store.load(path)
    path.write_text("{not json")
    with pytest.raises(SocraticError, match="cannot read the saved pairwise judge"):
        reward_store.load(path)
    document["model"]["version"] = "reward_v0"
    document["checksum"] = store.checksum(document["model"])
    path.write_text(json.dumps(document))
    with pytest.raises(reward_store.StaleRewardError, match="another version"):
        reward_store.load(path)


def test_a_corrupt_file_is_refitted_at_the_default_path_and_an_error_at_a_users(small, tmp_path, monkeypatch):
    _, model = small
    default = tmp_path / "judges" / "reward.json"
    default.parent.mkdir()
    default.write_text("{not json")
    monkeypatch.delenv("SOCRATIC_REWARD_JUDGE", raising=False)
    monkeypatch.setattr(reward_store, "default_path", lambda: default)
    refits = []
    monkeypatch.setattr(reward_store, "train", lambda path: refits.append(path) or (model, path))
    assert reward_store.load_or_train() is model and refits == [default]
    users = tmp_path / "mine.json"
    users.write_text("{not json")
    with pytest.raises(SocraticError, match="cannot read"):
        reward_store.load_or_train(users)


def test_the_judge_gives_four_criteria_and_one_summary_and_caches(small, tmp_path):
    data, model = small
    judge = reward_judge.PairwiseJudge(cache=Cache(tmp_path / "c.sqlite"), model=model)
    items = [(i.dialogue, i.reply) for i in data.items[:6]]
    first = judge.judge_many(items, progress=False)
    for j in first:
        assert j.ok and 0.0 <= j.summary <= 1.0
        assert j.summary == pytest.approx(j.meta["judge_notes"]["reward"]["summary"])
        assert j.summary == judgment_summary(j)  # the number agreement validates is the one evaluate reports
        assert judgment_summary(j, "reference") == pytest.approx(0.1 + 0.9 * j.summary)
    expected = model.summary(model.utility(data.X[:6]))
    assert np.allclose([j.summary for j in first], expected, atol=1e-5)
    again = judge.judge_many(items, progress=False)
    assert [j.summary for j in again] == [j.summary for j in first]
    assert judge.version.startswith(reward_fit.REWARD_VERSION + ":")


def test_specs_versions_and_shared_detectors(small, tmp_path):
    _, model = small
    assert parse_judge_spec("pairwise") == ("pairwise", "")
    assert parse_judge_spec("pairwise:/x/r.json") == ("pairwise", "/x/r.json")
    assert judge_version("pairwise").startswith(reward_fit.REWARD_VERSION)
    path = reward_store.save(model, tmp_path / "r.json")
    judge = load_judge(f"pairwise:{path}", cache=NoCache())
    assert judge.spec == f"pairwise:{path}" and isinstance(judge, reward_judge.PairwiseJudge)
    old = load_judge(f"reward:{path}", cache=NoCache())  # the kind's old name: the same judge, the spec as written
    assert old.spec == f"reward:{path}" and isinstance(old, reward_judge.PairwiseJudge) and old.version == judge.version
    shared = shared_detectors("pairwise", "rubric")
    assert "find_leaks" in shared and "find_questions" in shared and "dodge_signals" not in shared
    assert set(shared_detectors("pairwise", "learned")) == set(shared) | {"learned_heads"}
    assert shared_detectors("pairwise", "llm:embedded") == () and shared_detectors("qmark", "pairwise") == ()


def test_cli_corrupt_saved_reward_judge_exits_2_with_one_line(tmp_path):
    path = tmp_path / "reward.json"
    path.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-c", "from socratic.cli import main; main()", "judge", "--input",
         str(data_file("socratic_llm", "mathdial_human_eval_dev.json")), "--limit", "1", "--judge", f"pairwise:{path}",
         "-o", str(tmp_path / "o.jsonl")], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "cannot read the saved pairwise judge" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_judge_train_reward_keeps_a_saved_judge_and_refuses_extra_labels(small, tmp_path):
    from typer.testing import CliRunner

    from socratic.cli import app

    _, model = small
    path = reward_store.save(model, tmp_path / "reward.json")
    result = CliRunner().invoke(app, ["judge-train", "--reward", "-o", str(path)])
    assert result.exit_code == 0 and "already holds a pairwise judge" in result.output
    result = CliRunner().invoke(app, ["judge-train", "--reward", "--labels", str(path), "-o", str(path)])
    # the CLI's main() turns a SocraticError into one line and exit 2 (tested above for a corrupt file)
    assert isinstance(result.exception, SocraticError) and "shipped labels only" in str(result.exception)


def test_perturbed_copies_pair_each_side_with_the_other_sides_originals(small):
    data, _ = small
    rows = reward_fit.teacher_rows(data.teacher_pairs, augment=True)
    assert [r for r in rows if "~" not in r[1]] == data.teacher  # the originals, in the same order
    assert {side.split("~")[0] for _, side, _ in rows} == {"teacher", "model"}
    from socratic.judge.labels.perturb import perturb

    for n, side, text in rows:
        if "~" in side:
            original = next(t for m, s, t in rows if m == n and s == side.split("~")[0] and
                            perturb(side.split("~")[1], t, seed=reward_fit.AUGMENT_SEED) == text)
            assert original != text
    config = reward_fit.RewardConfig(teacher_weight=1.0, teacher_augment=True)
    pairs = [(a, b) for a, b, _, kind in reward_fit.training_pairs(data.items, data.dodges, config, rows) if kind == "teacher"]
    offset = data.teacher_offset
    for a, b in pairs:
        (n, better, _), (m, worse, _) = rows[a - offset], rows[b - offset]
        assert n == m and better.startswith("teacher") and worse.startswith("model")
        assert "~" not in better or "~" not in worse  # one side perturbed at a time
    plain = [p for p in reward_fit.training_pairs(data.items, data.dodges, reward_fit.RewardConfig(teacher_weight=1.0), rows)
             if p[3] == "teacher"]
    assert len(pairs) > len(plain) > 0


def test_the_teacher_turn_is_put_over_the_dodges_of_its_own_context(small):
    data, _ = small
    rows = reward_fit.teacher_rows(data.teacher_pairs, dodges=True)
    dodge_rows = [(n, side, text) for n, side, text in rows if side.startswith("dodge~")]
    assert dodge_rows and {side.split("~")[1] for _, side, _ in dodge_rows} <= set(reward_dodge_families())
    config = reward_fit.RewardConfig(teacher_weight=1.0, teacher_dodges=True)
    offset = data.teacher_offset
    over = [(a, b, w) for a, b, w, kind in reward_fit.training_pairs(data.items, data.dodges, config, rows)
            if kind == "synthetic" and b >= offset]
    fitted = [r for r in dodge_rows if r[1].split("~")[1] not in reward_fit.RESTATING_FAMILIES]
    assert len(over) == len(fitted) and all(w == config.synthetic_weight for *_, w in over)
    for a, b, _ in over:
        assert rows[a - offset][1] == "teacher" and rows[a - offset][0] == rows[b - offset][0]
    restating = replace(config, restating=True)  # then the problem's question handed back is put under it too
    assert len([p for p in reward_fit.training_pairs(data.items, data.dodges, restating, rows)
                if p[3] == "synthetic" and p[1] >= offset]) == len(dodge_rows) > len(fitted)


def reward_dodge_families():
    from socratic.judge.labels.dodges import FAMILY_NAMES

    return FAMILY_NAMES
