"""The learned judge (socratic.judge.learned, learned_fit, learned_store, labels), MRBench loading and the honest agreement protocol."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from socratic.agreement import cv as agreement_cv
from socratic.data import load_labelled
from socratic.data.location import data_file
from socratic.data.mrbench import load_mrbench, load_mrbench_files, parse_history
from socratic.errors import InputError, SocraticError
from socratic.judge import load_judge, store
from socratic.judge.labels.human import group_key, item_key
from socratic.judge.learned import fit as learned_fit
from socratic.judge.learned import judge as learned
from socratic.judge.learned import store as learned_store
from socratic.judge.learned.fit import FitConfig, fit
from socratic.judge.learned.store import model_hash
from socratic.store.cache import NoCache

# --------------------------------------------------------------------------- MRBench / BEA loading (pure)


def test_parse_history_takes_the_problem_and_alternating_turns():
    problem, turns = parse_history("Tutor: Hi! The question is: What is 2+3?\u00a0\n\u00a0Student: 6\u00a0\n"
                                   "\u00a0Tutor: How?\n Student: I added.")
    assert problem == "What is 2+3?"
    assert [t.role for t in turns] == ["tutor", "student", "tutor", "student"]
    assert turns[-1].text == "I added."


def test_mrbench_mapping_and_masking(shared_data):
    v2 = load_mrbench(data_file("mrbench", "MRBench_V2_dev.json"))
    bea = load_mrbench(data_file("mrbench", "bea2025_dev.json"))
    assert all(x.labels.questions is None for x in v2 + bea)  # no such label: masked, not guessed
    assert all(x.labels.reveal_answer is None and x.labels.on_topic is None for x in bea)
    assert {x.labels.helpful for x in v2} == {1, 3, 5} and {x.labels.on_topic for x in v2} == {1, 3, 5}
    raw = v2[0].dialogue.meta["mrbench"]
    assert v2[0].labels.helpful == {"Yes": 5, "To some extent": 3, "No": 1}[raw["Providing_Guidance"]]
    assert v2[0].labels.reveal_answer == raw["Revealing_of_the_Answer"].startswith("Yes")
    both = load_mrbench_files([data_file("mrbench", "MRBench_V2_dev.json"), data_file("mrbench", "bea2025_dev.json")])
    # the files overlap: 1,343 distinct (conversation, student turn, reply) once BEA ids "<id>_N" are mapped back
    assert 1300 <= len(both) < len(v2) + len(bea)
    # BEA's "<id>_1" is MRBench's "<id>": one group, so one fold
    assert not any(x.dialogue.meta["group"].rsplit("_", 1)[-1].isdigit() and "_" in x.dialogue.meta["group"]
                   for x in both)


def test_agreement_labels_accept_mrbench_json(shared_data):
    items = load_labelled(data_file("mrbench", "MRBench_V2_dev.json"))
    assert len(items) > 700 and items[0].dialogue.source == "mrbench"


def test_bad_mrbench_label_names_the_file_and_field(tmp_path):
    bad = [{"conversation_id": "c1", "conversation_history": "Tutor: Hi\n Student: 3",
            "tutor_responses": {"X": {"response": "Why 3?", "annotation": {"Providing_Guidance": "Maybe"}}}}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(InputError, match=r"bad\.json.*Providing_Guidance.*Maybe"):
        load_labelled(path)


# --------------------------------------------------------------------------- fitting, saving, loading


def _small_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    from socratic.judge.learned.features import EMBEDDING_DIM, SIGNAL_NAMES

    X = rng.normal(size=(60, len(SIGNAL_NAMES) + EMBEDDING_DIM)).astype(np.float32)
    y = {"questions": (X[:, 0] > 0).astype(float), "reveal_answer": (X[:, 1] > 0).astype(float),
         "on_topic": np.clip(np.round(3 + X[:, 2]), 1, 5), "helpful": np.clip(np.round(3 + X[:, 3]), 1, 5)}
    y["questions"][:30] = np.nan  # masked for "another source"
    sources = ["socratic_llm"] * 30 + ["mrbench"] * 30
    return X, y, sources


def test_fitting_is_deterministic_and_masked_rows_stay_out():
    X, y, sources = _small_problem()
    a, b = fit(X, y, sources), fit(X, y, sources)
    assert model_hash(a) == model_hash(b)
    assert a.n_train["questions"] == 30 and a.n_train["helpful"] == 60
    proba = a.predict(X)
    assert np.allclose(proba["helpful"].sum(axis=1), 1) and (proba["helpful"] >= 0).all()
    assert ((proba["questions"] >= 0) & (proba["questions"] <= 1)).all()


def test_questions_head_on_question_signals_is_monotone_and_sees_nothing_else():
    from socratic.judge.learned.features import QUESTION_SIGNALS, SIGNAL_NAMES

    X, y, sources = _small_problem()
    columns = [SIGNAL_NAMES.index(name) for name in QUESTION_SIGNALS]
    # the label falls as the first question signal rises: an unconstrained head would learn a negative weight
    y["questions"] = (X[:, columns[0]] < 0).astype(float)
    y["questions"][:30] = np.nan
    model = fit(X, y, sources, FitConfig(questions_head="question_signals", questions_c=1.0))
    coef, _ = model.heads["questions"][0]
    assert (coef[columns] >= 0).all()
    assert not np.delete(coef, columns).any()  # no other column, no embedding
    more = X.copy()
    more[:, columns] += 1.0  # more of every question signal
    assert (model.predict(more)["questions"] >= model.predict(X)["questions"] - 1e-12).all()
    with pytest.raises(ValueError, match="questions_head"):
        FitConfig(questions_head="everything")


def test_level_balanced_weights_give_each_mrbench_level_the_same_total():
    values = np.array([1, 1, 1, 1, 3, 5, 5, 4, 2, 5])  # socratic_llm's 2 and 4 count as 3 and 5
    weights = learned_fit._level_balance(values)
    levels = learned_fit.three_levels(values)
    totals = [weights[levels == level].sum() for level in (1, 3, 5)]
    assert np.allclose(totals, totals[0]) and np.isclose(weights.sum(), len(values))


def test_save_load_roundtrip_and_corruption_is_an_error(tmp_path):
    X, y, sources = _small_problem()
    model = fit(X, y, sources, FitConfig())
    path = learned_store.save(model, tmp_path / "learned.json")
    again = learned_store.load(path)
    assert model_hash(again) == model_hash(model)
    assert np.allclose(again.predict(X)["helpful"], model.predict(X)["helpful"])
    document = json.loads(path.read_text())
    document["model"]["heads"]["helpful"][0][1] += 1.0  # a silently changed weight
    path.write_text(json.dumps(document))
    with pytest.raises(SocraticError, match="corrupt"):
        learned_store.load(path)
    path.write_text(path.read_text()[:100])  # a truncated file
    with pytest.raises(SocraticError, match="cannot read"):
        learned_store.load(path)


def test_the_payload_round_trip_is_exact_and_the_judges_share_one_home(tmp_path, monkeypatch):
    """from_payload(to_payload(m)) is m (the reward judge stores its criteria heads this way), and both
    fitted judges live under SOCRATIC_HOME/judges unless the user names the file."""
    from socratic.judge.pairwise import store as reward

    X, y, sources = _small_problem()
    model = fit(X, y, sources, FitConfig())
    model.extra_files = ["/data/mine.jsonl"]
    again = learned_store.from_payload(json.loads(json.dumps(learned_store.to_payload(model))))
    assert model_hash(again) == model_hash(model) and again.extra_files == model.extra_files
    assert all(np.array_equal(again.predict(X)[c], model.predict(X)[c]) for c in model.heads)
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path))
    for env in ("SOCRATIC_LEARNED_JUDGE", "SOCRATIC_REWARD_JUDGE"):
        monkeypatch.delenv(env, raising=False)
    assert learned_store.default_path() == tmp_path / "judges" / "learned.json"
    assert reward.default_path() == tmp_path / "judges" / "reward.json"
    assert store.is_default(None, "SOCRATIC_LEARNED_JUDGE")
    assert not store.is_default(tmp_path / "mine.json", "SOCRATIC_LEARNED_JUDGE")
    monkeypatch.setenv("SOCRATIC_LEARNED_JUDGE", "~/judge.json")
    assert learned_store.default_path() == Path("~/judge.json").expanduser()
    assert not store.is_default(None, "SOCRATIC_LEARNED_JUDGE")
    assert reward.default_path() == tmp_path / "judges" / "reward.json"


def _saved_by_an_older_version(path):
    X, y, sources = _small_problem()
    learned_store.save(fit(X, y, sources, FitConfig()), path)
    document = json.loads(path.read_text())
    document["model"]["version"] = "learned_v1"
    document["checksum"] = store.checksum(document["model"])
    path.write_text(json.dumps(document))


def test_an_older_version_is_refitted_at_the_default_location_and_an_error_at_a_users_path(tmp_path, monkeypatch):
    default = tmp_path / "judges" / "learned.json"
    default.parent.mkdir()
    _saved_by_an_older_version(default)
    monkeypatch.delenv("SOCRATIC_LEARNED_JUDGE", raising=False)  # set for the session by the shared fixture
    monkeypatch.setattr(learned_store, "default_path", lambda: default)
    refits = []
    monkeypatch.setattr(learned_store, "train", lambda path: refits.append(path) or ("refitted", path))
    assert learned_store.load_or_train() == "refitted" and refits == [default]
    users = tmp_path / "mine.json"
    _saved_by_an_older_version(users)
    with pytest.raises(SocraticError, match="another version"):
        learned_store.load_or_train(users)
    default.write_text("{not json")  # corrupt, not stale: an error even at the default location
    with pytest.raises(SocraticError, match="cannot read"):
        learned_store.load_or_train()


def test_cli_corrupt_saved_judge_exits_2_with_one_line(tmp_path, shared_data):
    path = tmp_path / "learned.json"
    path.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-c", "from socratic.cli import main; main()", "judge", "--input",
         str(data_file("socratic_llm", "mathdial_human_eval_dev.json")), "--limit", "1", "--judge", f"learned:{path}",
         "-o", str(tmp_path / "o.jsonl")], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "cannot read the saved learned judge" in result.stderr and str(path) in result.stderr
    assert not (tmp_path / "o.jsonl").exists()


# --------------------------------------------------------------------------- the real judge (fitted once)


def test_learned_judge_scores_with_probabilities(learned_model_path):
    judge = load_judge("learned", cache=NoCache())
    dev = load_labelled(data_file("socratic_llm", "mathdial_human_eval_dev.json"))[:5]
    judgments = judge.judge_many([(x.dialogue, x.reply) for x in dev], progress=False)
    for j in judgments:
        notes = j.meta["judge_notes"]
        assert 0 <= notes["expected"]["questions"] <= 1 and 1 <= notes["expected"]["helpful"] <= 5
        assert len(notes["proba"]["on_topic"]) == 5 and abs(sum(notes["proba"]["on_topic"]) - 1) < 1e-3
        assert 0 <= j.summary <= 1
    # the saved file knows its training data: every shipped dev item is in it
    model = learned_store.load(learned_model_path)
    assert {item_key(x) for x in dev} <= set(model.item_keys)


def test_a_reply_without_any_question_gets_a_low_questions_probability(learned_model_path):
    """The quickstart's base model answers in statements; the judge must not credit them with questions
    (learned_v1's head on every feature credited 25-50% of the quickstart's base replies with questions)."""
    judge = load_judge("learned", cache=NoCache())
    dialogue = load_labelled(data_file("socratic_llm", "mathdial_human_eval_dev.json"))[0].dialogue
    statements = [
        "To solve this, first work out each part of the problem, then add the results together.",
        "Let's think about the problem step by step. The student needs to find the total first.",
        "Great job! You're on the right track. Keep working on it.",
        "Check your multiplication again, and remember to include the units in your final answer.",
    ]
    asking = ["What did you get when you added the first two amounts?", "How did you find that number?"]
    judgments = judge.judge_many([(dialogue, reply) for reply in statements + asking], progress=False)
    p = [j.meta["judge_notes"]["expected"]["questions"] for j in judgments]
    assert max(p[:len(statements)]) < 0.2, p
    assert min(p[len(statements):]) > 0.5, p
    assert not any(j.scores.questions for j in judgments[:len(statements)])


def test_cross_validation_never_scores_an_item_with_a_judge_fitted_on_its_group(learned_model_path, monkeypatch):
    judge = load_judge("learned", cache=NoCache())
    labelled = load_labelled(data_file("socratic_llm", "mathdial_human_eval_dev.json"))[:12]
    seen = agreement_cv.overlap(judge, labelled)
    assert seen["items"] == 12
    fitted_groups: list[set[str]] = []
    real_fit = learned_fit.fit_items

    def recording_fit(items, config, X=None):
        fitted_groups.append({group_key(i) for i in items} | {item_key(i) for i in items})
        return real_fit(items, config, X=X)

    monkeypatch.setattr(learned_fit, "fit_items", recording_fit)
    judgments, held = agreement_cv.out_of_fold_judgments(judge, labelled, k=3)
    assert len(judgments) == 12 and all(j.scores is not None for j in judgments)
    assert len(fitted_groups) == len(held["folds"]) >= 2
    for fold, trained in zip(held["folds"], fitted_groups, strict=True):
        scored = [x for x in labelled if agreement_cv.fold_of(group_key(x), 3) == fold["fold"]]
        assert scored and not ({group_key(x) for x in scored} | {item_key(x) for x in scored}) & trained


@pytest.mark.parametrize(("reply", "count"), [
    ("What did you use to find the value of x?", 1),  # a plain question the rubric's `questions` misses
    ("Why?", 1),
    ("Can you show me how you got 12.", 1),
    ("That is 12 pencils, right?", 0),  # a rhetorical tag
    ('The book asks "what is 3 + 4?" and you wrote 8.', 0),  # quoted text
    ("Great work. Let's check the units.", 0),
])
def test_genuine_questions_have_high_recall_without_tags_or_quotes(reply, count):
    from socratic.signals import genuine_questions

    assert len(genuine_questions(reply)) == count


def test_gates_for_text_no_label_shows():
    notes = {"expected": {"questions": 0.9, "reveal_answer": 0.1, "on_topic": 4.6, "helpful": 4.2}, "proba": {}}
    assert learned.apply_gates(notes, "How many pencils fit in one box?") is notes
    spanish = learned.apply_gates(notes, "¿Cuántos lápices caben en una caja? Piénsalo con calma, señorita Núñez.")
    assert spanish["expected"]["helpful"] == 1.0 and spanish["expected"]["on_topic"] == 2.0
    role_play = learned.apply_gates(notes, "How many fit in one box?\nStudent: 8!\nTutor: Great.")
    assert role_play["expected"]["helpful"] == pytest.approx(3.2) and role_play["gates"] == ["role-play"]


def test_made_up_arithmetic_is_gated_when_the_dialogue_is_known():
    from socratic.records import Dialogue, Turn

    dialogue = Dialogue(id="m", source="test", context="Problem: 3 bags of rice weigh 15 kg each. How many kg?",
                        turns=(Turn(role="student", text="I added 3 and 15 and got 18 kg."),),
                        reference="3 x 15 = 45 kg\nFinal answer: 45")
    notes = {"expected": {"questions": 0.9, "reveal_answer": 0.1, "on_topic": 4.6, "helpful": 4.2}, "proba": {}}
    reply = "So 15 divided by 3 is 7. What do you get for the 3 bags then?"
    assert learned.apply_gates(notes, reply) is notes  # without the dialogue nothing can be checked
    gated = learned.apply_gates(notes, reply, dialogue)
    assert gated["expected"]["helpful"] == 1.0 and gated["gates"] == ["made-up arithmetic"]
    assert learned.apply_gates(notes, "Why did you add the 3 and the 15?", dialogue) is notes
