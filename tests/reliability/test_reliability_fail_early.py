"""Bad input a new user would try, refused before any work is done (issue 30): one line, exit 2, nothing written.

- `socratic run`: a test set or split that does not exist, `out:` pointing at a file; both in the dry
  run too, before a real run trains anything;
- a relative `labels:` / `system_prompt:` path in a run config is read from the config file's folder;
- a UTF-8 byte-order mark at the start of a JSON/JSONL file is accepted, not answered with Python's advice;
- a hand-edited learned judge with a valid checksum but wrong shapes or NaN is an error naming the file,
  and the fix it suggests for `learned:PATH` refits PATH, not the default judge;
- `socratic export`: a non-empty target without --force, missing llama-cpp-python, a read-only target;
- a reply's features (and so its learned and rubric scores) do not depend on what else shares its
  embedding batch: a resumed run scores every record as an uninterrupted one does.

    .venv/bin/python -m pytest -q tests/reliability/test_reliability_fail_early.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_reliability_bad_input import check_error, cli, dialogue, labelled, lines, state

from socratic.errors import SocraticError
from socratic.judge import store

SOCRATIC = Path(sys.executable).with_name("socratic")
BOM = b"\xef\xbb\xbf"


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # messages name files as given: relative names keep expectations exact
    return tmp_path


def succeeds(capsys, monkeypatch, *args: str) -> None:
    """Run `socratic ARGS` in-process and expect success (main returns, or exits 0)."""
    from socratic.cli import main

    monkeypatch.setattr(sys, "argv", ["socratic", *map(str, args)])
    try:
        main()
    except SystemExit as exited:
        assert exited.code in (0, None), capsys.readouterr().err


def run_config(path: Path, *, test: str = "{source: mathdial, split: test, limit: 2}", extra: str = "") -> Path:
    path.write_text("name: early\n"
                    "out: runs/early\n"
                    "model: embedded\n"
                    "datasets:\n"
                    "  train: [{source: mathdial, split: train, limit: 2}]\n"
                    f"  test: [{test}]\n"                                # line 6
                    "eval_judges: [rubric]\n" + extra)
    return path


# ------------------------------------------------------------------------------------------ socratic run

@pytest.mark.parametrize("test, expected", [
    ("{source: mathdial, split: tset, limit: 2}", ["run.yaml:6: field 'datasets.test.0'", "'tset'", "train, test"]),
    ("{source: mathdail, limit: 2}", ["run.yaml:6: field 'datasets.test.0'", "unknown dataset 'mathdail'"]),
    ("{source: missing.jsonl}", ["run.yaml:6: field 'datasets.test.0'", "missing.jsonl", "file not found"]),
], ids=["split", "name", "file"])
@pytest.mark.parametrize("dry", [True, False], ids=["dry-run", "run"])
def test_run_refuses_a_test_set_that_does_not_exist_before_any_stage(work, capsys, monkeypatch, test, expected, dry):
    run_config(work / "run.yaml", test=test)
    code, _, err = cli(capsys, monkeypatch, "run", "run.yaml", *(["--dry-run"] if dry else []))
    check_error(code, err, *expected)
    assert not (work / "runs").exists()  # a real run did not start training first


def test_run_refuses_a_training_split_that_does_not_exist(work, capsys, monkeypatch):
    (work / "run.yaml").write_text(run_config(work / "run.yaml").read_text().replace(
        "split: train, limit: 2", "split: dev, limit: 2"))
    code, _, err = cli(capsys, monkeypatch, "run", "run.yaml", "--dry-run")
    check_error(code, err, "run.yaml:5: field 'datasets.train.0'", "'dev'")


@pytest.mark.parametrize("dry", [True, False], ids=["dry-run", "run"])
def test_run_with_out_pointing_at_a_file(work, capsys, monkeypatch, dry):
    (work / "taken").write_text("precious\n")
    run_config(work / "run.yaml")
    code, _, err = cli(capsys, monkeypatch, "run", "run.yaml", "-o", "taken", *(["--dry-run"] if dry else []))
    check_error(code, err, "taken", "not a folder")
    assert (work / "taken").read_text() == "precious\n"


def test_a_run_built_in_code_is_checked_too(work):
    """pipeline.run on a config made in Python (no YAML, so no lines): every problem in one ConfigError."""
    from socratic import pipeline
    from socratic.errors import ConfigError

    (work / "runs").mkdir()
    (work / "runs" / "early").write_text("a file where the default run folder goes\n")
    config = pipeline.PipelineConfig.model_validate({
        "name": "early", "datasets": {"train": [{"source": "mathdial", "limit": 2}],
                                      "test": [{"source": "debugging", "split": "dev"}]}})
    with pytest.raises(ConfigError) as raised:
        pipeline.run(config, dry_run=True)
    message = str(raised.value)
    assert "out: not a folder" in message and "datasets.test.0: source 'debugging'" in message
    assert "datasets.train" not in message


def test_relative_paths_in_a_run_config_are_read_from_its_folder(work, monkeypatch):
    from socratic import pipeline

    folder = work / "experiments"
    folder.mkdir()
    (folder / "labels.jsonl").write_bytes(lines(labelled()))
    (folder / "tutor.md").write_text("Be Socratic.\n")
    run_config(folder / "run.yaml", extra="labels: labels.jsonl\nsystem_prompt: tutor.md\n")
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = pipeline.load(work / "experiments" / "run.yaml")
    assert config.labels == (folder / "labels.jsonl").resolve()
    assert config.system_prompt == (folder / "tutor.md").resolve()
    assert config.out == Path("runs/early")  # the run folder stays where the command runs (documented)


def test_a_relative_labels_path_missing_beside_the_config_names_where_it_looked(work, capsys, monkeypatch):
    folder = work / "experiments"
    folder.mkdir()
    (work / "labels.jsonl").write_bytes(lines(labelled()))  # in the current folder, not beside the config
    run_config(folder / "run.yaml", extra="labels: labels.jsonl\n")
    code, _, err = cli(capsys, monkeypatch, "run", "experiments/run.yaml", "--dry-run")
    check_error(code, err, "experiments/run.yaml:8: field 'labels'", str(folder / "labels.jsonl"))


# ------------------------------------------------------------------------------------------ byte-order marks

def test_a_bom_at_the_start_of_a_jsonl_file_is_accepted(work, capsys, monkeypatch):
    (work / "in.jsonl").write_bytes(BOM + lines(dialogue(), dialogue(id="d2")))
    succeeds(capsys, monkeypatch, "data", "export", "in.jsonl", "-o", "out.jsonl")
    assert [json.loads(line)["id"] for line in (work / "out.jsonl").read_text().splitlines()] == ["d1", "d2"]


def test_a_bom_in_json_documents_and_labels_is_accepted(work):
    from socratic.data.labelled import load_labelled
    from socratic.records import Dialogue
    from socratic.store.jsonl import read_json_model, read_jsonl

    (work / "d.jsonl").write_bytes(BOM + lines(dialogue()))
    assert [d.id for d in read_jsonl(work / "d.jsonl", Dialogue)] == ["d1"]
    (work / "d.json").write_bytes(BOM + json.dumps(dialogue()).encode())
    assert read_json_model(work / "d.json", Dialogue).id == "d1"
    (work / "labels.jsonl").write_bytes(BOM + lines(labelled()))
    assert len(load_labelled(work / "labels.jsonl")) == 1


def test_a_bom_in_the_middle_of_a_file_is_still_an_error_with_our_words(work, capsys, monkeypatch):
    (work / "in.jsonl").write_bytes(lines(dialogue()) + BOM + lines(dialogue(id="d2")))
    code, _, err = cli(capsys, monkeypatch, "data", "export", "in.jsonl", "-o", "out.jsonl")
    check_error(code, err, "in.jsonl:2:", "invalid JSON")
    assert "utf-8-sig" not in err and not (work / "out.jsonl").exists()


# ------------------------------------------------------------------------------------------ learned judge file

def _tiny_saved_judge(path: Path, **changes) -> Path:
    """A well-formed saved judge (fitted on 3 random items per criterion would be slow: write one by hand)."""
    from socratic.judge.learned.features import FEATURES_VERSION
    from socratic.judge.learned.fit import LEARNED_VERSION, FitConfig
    config = FitConfig(features="signals")
    columns = config.columns()
    heads = _heads([0.0] * columns)
    payload = {"version": LEARNED_VERSION, "features_version": FEATURES_VERSION,
               "config": config.__dict__, "mean": [0.0] * columns, "scale": [1.0] * columns, "heads": heads,
               "pca_mean": [], "pca_components": [], "data_hash": "0" * 64, "item_keys": [], "groups": [],
               "n_train": {}, "extra_files": []}
    payload.update(changes)
    path.write_text(json.dumps({"model": payload, "checksum": store.checksum(payload)}))
    return path


def test_a_well_formed_saved_judge_loads(tmp_path):
    from socratic.judge.learned import store as learned_store
    from socratic.scores import CRITERIA

    model = learned_store.load(_tiny_saved_judge(tmp_path / "ok.json"))
    assert set(model.heads) == set(CRITERIA)


def _heads(coef: list[float]) -> dict:
    from socratic.judge.learned.fit import BINARY
    from socratic.scores import CRITERIA

    return {c: [(coef, 0.0)] * (1 if c in BINARY else 4) for c in CRITERIA}


@pytest.mark.parametrize("change, why", [
    ("mean", "shape"),
    ("heads", "shape"),
    ("short-coef", "shape"),
    ("nan-scale", "NaN"),
    ("nan-coef", "NaN"),
])
def test_a_hand_edited_judge_with_a_valid_checksum_is_a_clear_error(tmp_path, change, why):
    from socratic.judge.learned import store as learned_store
    from socratic.judge.learned.features import SIGNAL_NAMES

    columns = len(SIGNAL_NAMES)
    edit = {"mean": {"mean": [0.0] * 3}, "heads": {"heads": "wrong"},
            "short-coef": {"heads": _heads([0.0] * (columns - 1))},
            "nan-scale": {"scale": [float("nan")] * columns},
            "nan-coef": {"heads": _heads([float("nan")] * columns)}}[change]
    path = _tiny_saved_judge(tmp_path / "edited.json", **edit)
    with pytest.raises(SocraticError) as raised:
        learned_store.load(path)
    assert str(path) in str(raised.value) and why in str(raised.value)


def test_the_fix_for_a_judge_at_a_given_path_refits_that_path(tmp_path, capsys, monkeypatch):
    from socratic.judge.learned import store as learned_store

    path = _tiny_saved_judge(tmp_path / "mine.json", mean=[0.0])
    with pytest.raises(SocraticError) as raised:
        learned_store.load(path)
    assert f"socratic judge-train --out {path} --force" in str(raised.value)
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(path.read_text().replace('"checksum": "', '"checksum": "0'))
    with pytest.raises(SocraticError, match=f"--out {corrupt} --force"):
        learned_store.load(corrupt)


# ------------------------------------------------------------------------------------------ socratic export

def test_export_refuses_a_non_empty_folder_without_force(work, capsys, monkeypatch):
    (work / "out").mkdir()
    (work / "out" / "notes.txt").write_text("mine\n")
    before = state(work / "out")
    code, _, err = cli(capsys, monkeypatch, "export", "--model", "embedded", "-o", "out")
    check_error(code, err, "out", "not empty", "--force")
    assert state(work / "out") == before


def test_export_with_force_replaces_the_folder_whole(work, capsys, monkeypatch):
    (work / "out").mkdir()
    (work / "out" / "notes.txt").write_text("old\n")
    (work / "out" / "config.json").write_text("{}")
    succeeds(capsys, monkeypatch, "export", "--model", "embedded", "-o", "out", "--force")
    names = sorted(p.name for p in (work / "out").iterdir())
    assert "notes.txt" not in names and "config.json" in names and "export_report.json" in names
    assert json.loads((work / "out" / "config.json").read_text())  # the model's, not the old "{}"
    assert sorted(p.name for p in work.iterdir()) == ["out"]  # no temp or backup folder left beside it


def test_export_into_an_empty_or_new_folder_needs_no_force(work, capsys, monkeypatch):
    (work / "empty").mkdir()
    for target in ("empty", "new/deeper"):
        succeeds(capsys, monkeypatch, "export", "--model", "embedded", "-o", target)
        assert (work / target / "model.safetensors").exists()


def test_export_without_llama_cpp_fails_before_copying_anything(work, capsys, monkeypatch):
    from socratic.export import gguf

    def missing() -> str:
        raise SocraticError("GGUF export needs llama-cpp-python: pip install -e '.[llamacpp]'")

    monkeypatch.setattr(gguf, "llama_cpp_version", missing)
    for args in (["--ollama", "tutor"], ["--gguf", "q8_0"]):
        code, _, err = cli(capsys, monkeypatch, "export", "--model", "embedded", "-o", "out", *args)
        check_error(code, err, "llama-cpp-python")
        assert not (work / "out").exists(), args


def test_export_to_a_read_only_folder_is_one_line(work):
    """A read-only parent, and a read-only existing folder. Root writes anywhere: as root the command runs
    without the capability to bypass file permissions (setpriv), as anyone else it runs as is."""
    locked = work / "locked"
    (locked / "existing").mkdir(parents=True)
    (locked / "existing" / "old.txt").write_text("old\n")
    prefix = []
    if os.geteuid() == 0:
        assert shutil.which("setpriv"), "setpriv (util-linux) is needed to drop root's permission override"
        prefix = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                  "--bounding-set=-dac_override,-dac_read_search", "--"]
    locked.chmod(0o555)
    (locked / "existing").chmod(0o555)
    try:
        for target in (locked / "new", locked / "existing"):
            done = subprocess.run([*prefix, sys.executable, "-m", "socratic", "export", "--model", "embedded", "-o",
                                   str(target), "--force"], capture_output=True, text=True, check=False,
                                  timeout=300, env={**os.environ, "COLUMNS": "40"}, cwd=work)
            assert done.returncode == 2, done.stderr[-3000:]
            assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
            assert str(target) in done.stderr and "not writable" in done.stderr
        assert sorted(p.name for p in locked.rglob("*")) == ["existing", "old.txt"]
    finally:
        locked.chmod(0o755)
        (locked / "existing").chmod(0o755)


# ------------------------------------------------------------------------------------------ batch independence

def test_features_of_an_item_do_not_depend_on_its_batch(monkeypatch):
    """The same (dialogue, reply) featurized with different neighbours, as after a resume: identical bits."""
    import numpy as np

    from socratic.data import load_dialogues
    from socratic.judge.learned.features import featurize
    from socratic.judge.rubric import embedding
    from socratic.store.cache import NoCache

    monkeypatch.setattr(embedding, "_disk", NoCache)  # vectors stored on disk would hide a difference too

    dialogues = load_dialogues("mathdial", "test")[:12]
    items = [(d, f"What do you get if you work out step {i} again?") for i, d in enumerate(dialogues)]
    long_reply = " ".join(d.context for d in dialogues[:4])  # a long neighbour pads the batch differently
    compositions = [[items[0]], [*items[:6]], [(dialogues[5], long_reply), *items[6:], items[0]]]
    rows = []
    for batch in compositions:
        embedding._VECTORS.clear()  # the per-process cache would hide the difference: embed afresh each time
        features = featurize(batch)
        rows.append(features[batch.index(items[0])])
    assert np.array_equal(rows[0], rows[1]) and np.array_equal(rows[0], rows[2])
    embedding._VECTORS.clear()
    vectors = [embedding.embed([items[3][1]]), embedding.embed([long_reply, items[3][1], "Why?"])]
    embedding._VECTORS.clear()
    assert np.array_equal(vectors[0][items[3][1]], vectors[1][items[3][1]])


def test_learned_scores_of_an_item_do_not_depend_on_its_batch():
    """The learned heads' arithmetic too: a matrix product's last bits depend on how many rows it gets."""
    import numpy as np

    from socratic.judge.learned.features import EMBEDDING_DIM, SIGNAL_NAMES
    from socratic.judge.learned.fit import BINARY, FitConfig, LearnedModel
    from socratic.scores import CRITERIA

    rng = np.random.default_rng(0)
    config = FitConfig()
    columns = config.columns()
    heads = {c: [(rng.normal(size=columns), float(rng.normal())) for _ in range(1 if c in BINARY else 4)]
             for c in CRITERIA}
    model = LearnedModel(config, rng.normal(size=columns), rng.uniform(0.5, 2, size=columns), heads,
                         rng.normal(size=EMBEDDING_DIM), rng.normal(size=(config.pca_dims, EMBEDDING_DIM)))
    X = rng.normal(size=(64, len(SIGNAL_NAMES) + EMBEDDING_DIM)).astype(np.float32)
    whole = model.predict(X)
    for start, size in ((0, 1), (3, 2), (5, 7), (1, 13), (10, 54)):
        part = model.predict(X[start:start + size])
        for criterion, values in whole.items():
            assert np.array_equal(part[criterion], values[start:start + size]), (criterion, start, size)
    assert {c: v.shape for c, v in model.predict(X[:0]).items()} == {c: (0, *v.shape[1:]) for c, v in whole.items()}
