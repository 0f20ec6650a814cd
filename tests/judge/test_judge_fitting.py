"""`socratic judge-train` as a stage (socratic.judge.fitting): its flags fill JudgeTrainConfig, a saved judge is
kept unless --force or extra labels ask for a fit, and a bad request fails before the fit. The fit itself is the
stores' (tests/judge/test_judge_learned.py, test_judge_pairwise.py): here it is faked, apart from one slow test
that fits a real judge through the command line and then keeps it.

    .venv/bin/python -m pytest -q tests/judge/test_judge_fitting.py -m "not slow"
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from socratic.cli import app
from socratic.errors import SocraticError
from socratic.judge import fitting, store
from socratic.judge.fitting import JudgeTrainConfig, SavedJudge
from socratic.judge.learned import store as learned_store
from socratic.judge.pairwise import store as pairwise_store

LABELS = Path(__file__).resolve().parents[2] / "src/socratic/datasets/socratic_llm/mathdial_human_eval_dev.json"


def saved_learned_judge(path: Path) -> Path:
    """A well-formed saved learned judge, written by hand (a real fit takes minutes)."""
    from socratic.judge.learned.features import FEATURES_VERSION
    from socratic.judge.learned.fit import BINARY, LEARNED_VERSION, LEVELS, FitConfig
    from socratic.scores import CRITERIA

    config = FitConfig(features="signals")
    columns = config.columns()
    payload = {"version": LEARNED_VERSION, "features_version": FEATURES_VERSION, "config": config.__dict__,
               "mean": [0.0] * columns, "scale": [1.0] * columns, "pca_mean": [], "pca_components": [],
               "heads": {c: [[[0.1] * columns, 0.0]] * (1 if c in BINARY else len(LEVELS) - 1) for c in CRITERIA},
               "data_hash": "d" * 64, "item_keys": [], "groups": [], "n_train": {}, "extra_files": []}
    path.write_text(json.dumps({"model": payload, "checksum": store.checksum(payload)}))
    return path


def no_fit(monkeypatch) -> None:
    for saved in (learned_store, pairwise_store):
        monkeypatch.setattr(saved, "train", lambda *a, **k: pytest.fail("fitted a judge"))


@pytest.mark.parametrize("args, expected", [
    ([], JudgeTrainConfig()),
    (["--labels", "a.jsonl", "--labels", "b.json", "-o", "j.json", "--force"],
     JudgeTrainConfig(labels=[Path("a.jsonl"), Path("b.json")], out=Path("j.json"), force=True)),
    (["--reward", "--out", "r.json"], JudgeTrainConfig(reward=True, out=Path("r.json"))),
    (["--reward", "--restating"], JudgeTrainConfig(reward=True, restating=True)),
], ids=["none", "learned", "reward", "restating"])
def test_the_flags_fill_the_config(monkeypatch, args, expected):
    given = []
    monkeypatch.setattr(fitting, "run", lambda config: given.append(config) or SavedJudge(
        "learned", Path("j.json"), True, "m" * 64, "d" * 64))
    result = CliRunner().invoke(app, ["judge-train", *args])
    assert result.exit_code == 0, result.output
    assert given == [expected] and result.output == f"learned judge {'m' * 12} saved to j.json\n"


def test_a_saved_judge_is_kept_without_a_fit(tmp_path, monkeypatch):
    no_fit(monkeypatch)
    path = saved_learned_judge(tmp_path / "mine.json")
    saved = fitting.run(JudgeTrainConfig(out=path))
    assert saved == SavedJudge("learned", path, False, learned_store.model_hash(learned_store.load(path)), "d" * 64)
    assert saved.summary() == f"{path} already holds a learned judge (training data {'d' * 12}); --force refits it"


@pytest.mark.parametrize("asked, extra", [({"force": True}, None), ({"labels": [LABELS]}, [LABELS])],
                         ids=["force", "labels"])
def test_force_or_extra_labels_refit_a_saved_judge(tmp_path, monkeypatch, asked, extra):
    path = saved_learned_judge(tmp_path / "mine.json")
    model = learned_store.load(path)
    calls = []
    monkeypatch.setattr(learned_store, "train", lambda *a, **k: calls.append((a, k)) or (model, a[0]))
    saved = fitting.run(JudgeTrainConfig(out=path, **asked))
    assert calls == [((path,), {"extra": extra} if extra else {})]
    assert saved == SavedJudge("learned", path, True, learned_store.model_hash(model), "d" * 64)
    assert saved.summary() == f"learned judge {learned_store.model_hash(model)[:12]} saved to {path}"


@pytest.mark.parametrize("reward, kind, name", [(False, "learned", "learned.json"), (True, "pairwise", "reward.json")])
def test_each_kind_is_fitted_by_its_store_into_its_default_file(tmp_path, monkeypatch, reward, kind, name):
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path))
    for saved in (learned_store, pairwise_store):
        monkeypatch.delenv(saved.ENV, raising=False)
        monkeypatch.setattr(saved, "train", lambda path, saved=saved: (SimpleNamespace(data_hash=saved.__name__), path))
        monkeypatch.setattr(saved, "model_hash", lambda model: "m" * 64)
    saved = fitting.run(JudgeTrainConfig(reward=reward))
    assert saved.kind == kind and saved.path == tmp_path / "judges" / name and saved.fitted
    assert saved.data_hash == (pairwise_store if reward else learned_store).__name__


def test_restating_fits_the_pairwise_judge_with_restating(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(pairwise_store, "train", lambda *a, **k: calls.append(a) or (SimpleNamespace(data_hash="d"), a[0]))
    monkeypatch.setattr(pairwise_store, "model_hash", lambda model: "m" * 64)
    saved = fitting.run(JudgeTrainConfig(reward=True, restating=True, out=tmp_path / "r.json"))
    assert saved.fitted and calls == [(tmp_path / "r.json", replace(pairwise_store.DEFAULT_REWARD, restating=True))]


@pytest.mark.parametrize("asked, why", [
    ({"out": "a_folder"}, "-o/--out {tmp}/a_folder: is a folder"),
    ({"reward": True, "labels": [LABELS]}, "--labels: the pairwise judge learns from the shipped labels only"),
    ({"labels": ["empty.jsonl"]}, "{tmp}/empty.jsonl: no labelled replies in the file (--labels)"),
    ({"restating": True}, "--restating: a setting of the pairwise judge; add --reward"),
], ids=["out-folder", "reward-labels", "empty-labels", "restating-learned"])
def test_a_bad_request_fails_before_the_fit(tmp_path, monkeypatch, asked, why):
    no_fit(monkeypatch)
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "empty.jsonl").write_text("")
    asked = {k: tmp_path / v if k == "out" else [tmp_path / p for p in v] if k == "labels" else v
             for k, v in asked.items()}
    with pytest.raises(SocraticError) as raised:
        fitting.run(JudgeTrainConfig(**asked))
    assert why.format(tmp=tmp_path) in str(raised.value)
    assert list((tmp_path / "a_folder").iterdir()) == []


@pytest.mark.slow
def test_the_command_fits_a_real_judge_then_keeps_it(tmp_path):
    path = tmp_path / "learned.json"
    fitted = CliRunner().invoke(app, ["judge-train", "-o", str(path)])
    assert fitted.exit_code == 0, fitted.output
    model = learned_store.load(path)
    assert f"learned judge {learned_store.model_hash(model)[:12]} saved to {path}\n" in fitted.output
    kept = CliRunner().invoke(app, ["judge-train", "-o", str(path)])
    assert kept.exit_code == 0 and learned_store.load(path).data_hash == model.data_hash
    assert f"{path} already holds a learned judge (training data {model.data_hash[:12]}); --force refits it\n" \
        in kept.output
