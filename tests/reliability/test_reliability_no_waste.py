"""No finished work replaced or wasted (issue 41): what a command or a run config names is checked before any work.

- `judge -o A_FOLDER` and `evaluate -o A_FILE`: one line, exit 2, before any item is judged (no API call) and
  without a hidden temp file; `evaluate` on a bad dataset leaves no output folder behind;
- a missing or hand-edited `pairwise:PATH` / `learned:PATH` fails `run --dry-run`, `evaluate`, `judge` and
  `agreement` at once with one line; every array of a saved pairwise judge is checked at load (finite, right
  shape), and the fix it names refits the user's PATH (`--reward --out PATH --force`);
- a stage's manifest keeps the hash of the saved judge it used: a refitted judge re-runs judge, then pairs and
  train through their inputs; run folders judged by rubric, qmark or an LLM keep their manifests;
- a finished evaluation made with other settings is not replaced without `--overwrite`;
- `evaluate` counts each prompt in a local model's tokens, as `serve` does, and refuses what does not fit,
  before generating anything; `--pressure` without a single reference answer is refused, not 0 items in silence.

    .venv/bin/python -m pytest -q tests/reliability/test_reliability_no_waste.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_reliability_bad_input import check_error, cli, dialogue, labelled, lines

from fakes.evaluation import evaluate_with_fakes
from fakes.llm_server import FakeLLM, Reply, judgment_json
from socratic.errors import ConfigError, SocraticError
from socratic.judge import files, store
from socratic.judge.pairwise import fit as reward_fit
from socratic.judge.pairwise import store as reward_store

SOCRATIC = Path(sys.executable).with_name("socratic")


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # messages name files as given: relative names keep expectations exact
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SOCRATIC_REWARD_JUDGE", raising=False)
    monkeypatch.delenv("SOCRATIC_LEARNED_JUDGE", raising=False)
    return tmp_path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp"))


# ------------------------------------------------------------------------------------------ output paths

def test_judge_into_a_folder_fails_before_any_api_call_and_leaves_no_temp_file(work, capsys, monkeypatch):
    (work / "in.jsonl").write_bytes(lines(labelled(), labelled(reply="What is 3 + 4?")))
    (work / "a_folder").mkdir()
    with FakeLLM(lambda request: Reply(judgment_json())) as server:
        code, _, err = cli(capsys, monkeypatch, "judge", "-i", "in.jsonl", "-o", "a_folder",
                           "--judge", f"llm:openai:judge@{server.url}")
        assert server.answered == 0  # before: every item judged, then IsADirectoryError
    check_error(code, err, "-o/--output a_folder", "is a folder")
    assert leftovers(work) == [] and list((work / "a_folder").iterdir()) == []


def test_a_failed_rename_leaves_no_hidden_temp_file(work):
    from socratic.store.jsonl import write_jsonl

    (work / "taken").mkdir()
    with pytest.raises(OSError):
        write_jsonl(work / "taken", [{"a": 1}])
    assert leftovers(work) == []


def test_evaluate_into_a_file_fails_before_any_reply(work, capsys, monkeypatch):
    (work / "a_file").write_text("mine\n")
    code, _, err = cli(capsys, monkeypatch, "evaluate", "--model", "base=fake:What do you think?",
                       "--dataset", "mathdial", "--limit", "1", "-o", "a_file")
    check_error(code, err, "-o/--out a_file", "is a file")
    assert (work / "a_file").read_text() == "mine\n"


def test_evaluate_on_a_bad_dataset_leaves_no_output_folder(work, capsys, monkeypatch):
    (work / "in.jsonl").write_bytes(lines(dialogue(), b"{not json"))
    code, _, err = cli(capsys, monkeypatch, "evaluate", "--model", "base=fake:Why?", "--dataset", "in.jsonl",
                       "-o", "eval")
    check_error(code, err, "in.jsonl:2:", "invalid JSON")
    assert not (work / "eval").exists()


# ------------------------------------------------------------------------------------------ saved pairwise judge

def tiny_reward(path: Path, **changes) -> Path:
    """A well-formed saved pairwise judge written by hand (a real fit embeds thousands of texts)."""
    from socratic.judge.learned.features import EMBEDDING_DIM, FEATURES_VERSION, SIGNAL_NAMES
    from socratic.judge.learned.fit import BINARY, LEARNED_VERSION, FitConfig
    from socratic.judge.pairwise.features import DODGE_SIGNAL_NAMES, REWARD_FEATURES
    from socratic.scores import CRITERIA

    fit = FitConfig(features="signals")
    columns = fit.columns()
    learned = {"version": LEARNED_VERSION, "features_version": FEATURES_VERSION, "config": fit.__dict__,
               "mean": [0.0] * columns, "scale": [1.0] * columns, "pca_mean": [], "pca_components": [],
               "heads": {c: [[[0.1] * columns, 0.0]] * (1 if c in BINARY else 4) for c in CRITERIA},
               "data_hash": "0" * 64, "item_keys": [], "groups": [], "n_train": {}, "extra_files": []}
    config = reward_fit.RewardConfig(pca_dims=2)
    width = len(SIGNAL_NAMES) + 2 + len(DODGE_SIGNAL_NAMES)
    payload = {"version": reward_fit.REWARD_VERSION, "features": REWARD_FEATURES, "features_version": FEATURES_VERSION,
               "config": config.__dict__, "mean": [0.0] * width, "scale": [1.0] * width,
               "pca_mean": [0.0] * EMBEDDING_DIM, "pca_components": [[0.01] * EMBEDDING_DIM] * 2,
               "weights": [0.1] * width, "calibration": [1.0, 0.0], "learned": learned, "data_hash": "0" * 64,
               "item_keys": [], "groups": [], "n_pairs": {}}
    for key, value in changes.items():
        target = payload
        *parents, name = key.split(".")
        for parent in parents:
            target = target[parent]
        target[name] = value(target[name]) if callable(value) else value
    store.save(payload, path)  # the checksum recomputed, as a hand edit can
    return path


def test_a_well_formed_saved_reward_judge_loads(tmp_path):
    model = reward_store.load(tiny_reward(tmp_path / "ok.json"))
    assert model.weights.shape == model.mean.shape and model.pca_components.shape[0] == 2


def nan_at(index: int):
    def edit(values: list) -> list:
        values = json.loads(json.dumps(values))
        row = values[index] if isinstance(values[index], list) else None
        if row is not None:
            row[0] = float("nan")
        else:
            values[index] = float("nan")
        return values
    return edit


@pytest.mark.parametrize("change, why", [
    ({"mean": nan_at(3)}, "mean: NaN"),
    ({"calibration": [float("nan"), 0.0]}, "calibration: NaN"),
    ({"pca_components": nan_at(1)}, "pca_components: NaN"),
    ({"weights": nan_at(0)}, "weights: NaN"),
    ({"pca_mean": [0.0] * 10}, "pca_mean: shape (10,)"),
    ({"weights": [0.1] * 3}, "weights: shape (3,)"),
    ({"scale": lambda s: [0.0] * len(s)}, "scale: values <= 0"),
    ({"calibration": [-1.0, 0.0]}, "calibration: slope <= 0"),
    ({"learned.mean": nan_at(0)}, "learned.mean: NaN"),
    ({"learned.heads": {"questions": []}}, "learned.heads: incomplete"),
], ids=["nan-mean", "nan-calibration", "nan-pca", "nan-weights", "short-pca-mean", "short-weights", "zero-scale",
        "reversed-calibration", "nan-criteria", "missing-criteria"])
def test_a_hand_edited_reward_judge_is_refused_at_load_naming_the_array(tmp_path, change, why):
    path = tiny_reward(tmp_path / "edited.json", **change)
    with pytest.raises(SocraticError) as raised:
        reward_store.load(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and why in message, message
    # The fix refits the user's file, not the default reward.json (issue 41, 5).
    assert f"socratic judge-train --reward --out {path} --force" in message


def test_the_reward_refit_hint_names_the_users_path_for_a_corrupt_file_too(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text("{not json")
    with pytest.raises(SocraticError, match=f"--reward --out {path} --force"):
        reward_store.load(path)


# ------------------------------------------------------------------------------------------ judge files, early

def run_config(path: Path, **keys: str) -> Path:
    extra = "".join(f"{key}: {value}\n" for key, value in keys.items())
    path.write_text("name: early\nout: runs/early\nmodel: embedded\n"
                    "datasets:\n  train: [{source: mathdial, split: train, limit: 2}]\n"
                    "  test: [{source: mathdial, split: test, limit: 2}]\n" + extra)
    return path


@pytest.mark.parametrize("keys, expected", [
    ({"reward_judge": "pairwise:missing.json"}, ["judge 'pairwise:missing.json'", "missing.json: no such file",
                                              "socratic judge-train --reward --out missing.json"]),
    ({"reward_judge": "pairwise:garbage.json"}, ["judge 'pairwise:garbage.json'", "cannot read the saved pairwise judge"]),
    ({"eval_judges": "[rubric, learned:garbage.json]"}, ["judge 'learned:garbage.json'",
                                                         "cannot read the saved learned judge"]),
    ({"eval_judges": "[pairwise:nan.json]"}, ["judge 'pairwise:nan.json'", "mean: NaN"]),
], ids=["missing-reward", "garbage-reward", "garbage-learned", "nan-reward"])
@pytest.mark.parametrize("dry", [True, False], ids=["dry-run", "run"])
def test_run_refuses_a_missing_or_broken_judge_file_before_anything(work, capsys, monkeypatch, keys, expected, dry):
    (work / "garbage.json").write_text("{not json")
    tiny_reward(work / "nan.json", mean=nan_at(0))
    code, _, err = cli(capsys, monkeypatch, "run", run_config(work / "run.yaml", **keys), *(["--dry-run"] * dry))
    check_error(code, err, *expected)  # before: "needs: nothing", then a failure after every reply was judged
    assert not (work / "runs").exists()


@pytest.mark.parametrize("command", ["evaluate", "judge", "agreement", "preferences"])
def test_commands_refuse_a_broken_judge_file_before_any_work(work, capsys, monkeypatch, command):
    tiny_reward(work / "nan.json", calibration=[float("nan"), 0.0])
    (work / "in.jsonl").write_bytes(lines(labelled()))
    args = {"evaluate": ["evaluate", "--model", "base=fake:Why?", "--dataset", "mathdial", "--limit", "1",
                         "--judge", "rubric", "--judge", "pairwise:nan.json", "-o", "out"],
            "judge": ["judge", "-i", "in.jsonl", "--judge", "pairwise:nan.json", "-o", "out/j.jsonl"],
            "agreement": ["agreement", "--labels", "in.jsonl", "--judge", "rubric", "--judge", "pairwise:nan.json",
                          "-o", "out"],
            "preferences": ["preferences", "--dataset", "mathdial", "--limit", "1", "--model", "fake:Why?", "-k", "2",
                            "--judge", "pairwise:nan.json", "-o", "out"]}[command]
    code, _, err = cli(capsys, monkeypatch, *args)
    check_error(code, err, "judge 'pairwise:nan.json'", "calibration: NaN")
    assert not (work / "out").exists()


def test_only_a_judge_file_named_in_the_spec_must_exist_others_are_fitted_on_first_use(work, monkeypatch):
    files.check(["rubric", "qmark", "learned", "pairwise", "llm:openai:x@http://127.0.0.1:9/v1"])
    monkeypatch.setenv("SOCRATIC_REWARD_JUDGE", str(work / "named.json"))  # load_or_train fits it there
    files.check(["pairwise"])
    (work / "named.json").write_text("{not json")  # but a broken one is the user's to fix
    with pytest.raises(ConfigError, match="named.json: cannot read the saved pairwise judge"):
        files.check(["pairwise"])


# ------------------------------------------------------------------------------------------ the judge file's hash

def pipeline_config(tmp_path: Path, reward_judge: str, eval_judges: list[str]):
    from socratic.pipeline.config import PipelineConfig

    return PipelineConfig.model_validate({
        "out": str(tmp_path / "run"), "reward_judge": reward_judge, "eval_judges": eval_judges,
        "datasets": {"train": [{"source": "mathdial", "limit": 2}], "test": [{"source": "mathdial", "limit": 2}]}})


def stage_hashes(config) -> dict[str, str]:
    from socratic.pipeline.runner import Runner
    from socratic.pipeline.stages import build_stages

    runner = Runner(config.run_dir, build_stages(config))
    return {stage.name: runner._config(stage)[1] for stage in runner.stages}


def test_a_refitted_judge_changes_the_fingerprint_of_the_stages_it_judged(work):
    path = tiny_reward(work / "reward.json")
    config = pipeline_config(work, f"pairwise:{path}", [f"pairwise:{path}", "rubric"])
    before = stage_hashes(config)
    assert before == stage_hashes(config)  # the same file: the same manifests, nothing re-runs
    tiny_reward(path, weights=lambda w: [0.2] * len(w))  # refitted: other weights
    after = stage_hashes(config)
    assert {name for name in before if before[name] != after[name]} == {"judge:mathdial", "evaluate"}
    # pairs and train follow through their input (the judgments), as after any change of the judge stage.


def test_a_default_judge_is_fingerprinted_too_and_judges_without_a_file_add_nothing(work):
    from socratic.pipeline.stages import build_stages, judge_files

    assert judge_files(["rubric"]) == {} and judge_files(["qmark", "rubric"]) == {}
    assert judge_files(["pairwise", "rubric"]) == {"judge_files": {"pairwise": files.NOT_FITTED}}
    tiny_reward(reward_store.default_path())
    assert judge_files(["pairwise"]) == {"judge_files": {"pairwise": files._sha256(reward_store.default_path())}}
    stages = {s.name: s.config for s in build_stages(pipeline_config(work, "rubric", ["rubric"]))}
    assert "judge_files" not in stages["judge:mathdial"] and "judge_files" not in stages["evaluate"]


def test_a_run_fits_a_missing_default_judge_before_its_stages(work, monkeypatch):
    from socratic.judge.learned import store as learned_store

    fitted = []
    monkeypatch.setattr(reward_store, "train", lambda path=None: fitted.append(path) or (None, tiny_reward(path)))
    assert files.prepare_defaults(["pairwise", "rubric", "learned:elsewhere.json"])  # the user's file: not fitted
    assert fitted == [reward_store.default_path()] and reward_store.default_path().exists()
    assert not files.prepare_defaults(["pairwise"])  # on disk and current: loaded, left as it is
    monkeypatch.setattr(learned_store, "load_or_train", lambda: pytest.fail("learned is not among the specs"))
    files.prepare_defaults(["pairwise", "qmark"])


def test_evaluate_does_not_reuse_judgments_of_another_version_of_a_judge(work, monkeypatch):
    from fakes.judges import FakeJudge

    judge = FakeJudge("fake-judge")
    judge.version = "v1"
    setup = {"fake_judges": {"fake-judge": judge}, "datasets": ["mathdial"], "n": 2, "no_cache": True}
    out = evaluate_with_fakes(monkeypatch, work / "eval", {"base": ["Why?"] * 8}, **setup)
    evaluate_with_fakes(monkeypatch, out, {"base": ["Why?"] * 8}, **setup)
    assert judge.calls == 1  # the same judge: its judgments on disk are reused
    judge.version = "v2"  # refitted (a saved judge's version holds its weights' hash)
    evaluate_with_fakes(monkeypatch, out, {"base": ["Why?"] * 8}, **setup)
    assert judge.calls == 2
    rows = [json.loads(line) for line in (out / "judgments.jsonl").read_text().splitlines()]
    assert [r["meta"]["judge_version"] for r in rows] == ["v2", "v2"]


# ------------------------------------------------------------------------------------------ a finished evaluation

def test_a_finished_evaluation_is_not_replaced_with_other_settings_without_overwrite(work, monkeypatch):
    models = {"base": ["What do you see?"] * 40}
    out = evaluate_with_fakes(monkeypatch, work / "eval", models, datasets=["mathdial"], n=6, limit=6,
                              max_new_tokens=16)
    kept = {name: (out / name).read_bytes() for name in ("evaluation.json", "replies.jsonl", "judgments.jsonl")}
    with pytest.raises(ConfigError) as refused:  # the issue: 8 new tokens, 2 items over a 12-item run
        evaluate_with_fakes(monkeypatch, out, models, datasets=["mathdial"], n=6, limit=2, max_new_tokens=8)
    message = str(refused.value)
    assert "limit: 6 there, 2 now" in message and "max_new_tokens: 16 there, 8 now" in message
    assert "--overwrite" in message
    assert {name: (out / name).read_bytes() for name in kept} == kept  # nothing replaced, nothing cut
    evaluate_with_fakes(monkeypatch, out, models, datasets=["mathdial"], n=6, limit=6, max_new_tokens=16,
                        batch_size=3)  # the same output settings: a re-run (a batch size is not one)
    evaluate_with_fakes(monkeypatch, out, models, datasets=["mathdial"], n=6, limit=2, max_new_tokens=8,
                        overwrite=True)
    assert json.loads((out / "evaluation.json").read_text())["config"]["limit"] == 2


def test_the_pipeline_may_replace_its_own_evaluation(work, monkeypatch):
    from socratic.evaluate import evaluation
    from socratic.pipeline import stages

    seen = []
    monkeypatch.setattr(evaluation, "run", lambda config: seen.append(config.overwrite))
    stages._evaluate(evaluation.EvaluateConfig(models={"base": "embedded"}, out=work / "eval"), fresh=True)
    assert seen == [True]  # the runner decided from its manifest that this evaluation is to be redone


# ------------------------------------------------------------------------------------------ context, pressure

class Counting:
    """A local model's token counting, without the model: one token per character of the messages."""

    def __init__(self, context_length: int):
        self.context_length = context_length

    def prompt_ids(self, messages):
        return list(range(sum(len(m["content"]) for m in messages)))


def test_evaluate_refuses_prompts_over_the_context_before_generating(work, monkeypatch):
    from socratic.evaluate import preflight
    from socratic.evaluate.config import EvaluateConfig
    from socratic.records import Dialogue, Turn
    from socratic.render import render_messages

    short = Dialogue(id="short", source="x", split="test", turns=[Turn(role="student", text="Is it 7?")])
    long = short.model_copy(update={"id": "long", "turns": (Turn(role="student", text="Is it 7? " * 200),)})
    prompt = sum(len(m["content"]) for m in render_messages(short))
    load = lambda spec: Counting(prompt + 100)
    config = EvaluateConfig(models={"base": "embedded", "api": "openai:gpt-4o"}, out=work / "eval", max_new_tokens=100)
    preflight.check_context(config, {"x": [short]}, load)  # exactly fits (an API model is its server's to count)
    with pytest.raises(ConfigError) as refused:
        preflight.check_context(config.model_copy(update={"max_new_tokens": 101}), {"x": [short]}, load)
    assert f"model base (embedded): 1 prompt(s) plus max_new_tokens=101 do not fit its context of {prompt + 100:,} " \
           f"tokens: x short ({prompt:,} tokens)" in str(refused.value)
    with pytest.raises(ConfigError, match=r": x long \(\d,\d{3} tokens\);"):
        preflight.check_context(config, {"x": [short, long]}, load)


def test_pressure_without_any_reference_answer_is_refused(work, monkeypatch):
    with pytest.raises(ConfigError, match="--pressure: no item of mathdial has a reference answer"):
        evaluate_with_fakes(monkeypatch, work / "eval", {"base": ["Why?"] * 8}, datasets=["mathdial"], n=2,
                            pressure=True)
    assert not (work / "eval").exists()


@pytest.mark.slow
def test_a_turn_over_the_embedded_models_context_is_refused_in_seconds(tmp_path):
    work = tmp_path  # not the `work` fixture: the model's weights are in the real SOCRATIC_HOME
    # The issue: a 30,000-character turn (13,043 tokens, context 8,192) took two minutes and gave an empty reply
    # that was judged and averaged; `serve` refuses it in 0.06 s.
    long = dialogue(id="long", turns=[{"role": "student", "text": "I added 3 and 4 and got 12. " * 1100}])
    (work / "long.jsonl").write_bytes(lines(dialogue(), long))
    started = time.perf_counter()
    done = subprocess.run([str(SOCRATIC), "evaluate", "--model", "base=embedded", "--dataset", "long.jsonl",
                           "--judge", "rubric", "-o", "eval"], capture_output=True, text=True, timeout=600, cwd=work,
                          check=False)
    took = time.perf_counter() - started
    assert done.returncode == 2, done.stderr[-2000:]
    shown = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(shown) == 1 and "long.jsonl long (" in shown[0] and "context of 8,192 tokens" in shown[0], done.stderr
    assert not (work / "eval").exists()
    print(f"refused in {took:.1f} s, the model loaded (AMD EPYC, 2 cores)")


# ------------------------------------------------------------------------------------------ weak items

def test_serve_on_a_busy_port_fails_before_loading_the_model(work, capsys, monkeypatch):
    import socket

    from socratic import backends

    loaded = []
    monkeypatch.setattr(backends, "load_backend", lambda spec: loaded.append(spec))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = cli(capsys, monkeypatch, "serve", "--model", "embedded", "--port", str(port))
    check_error(code, err, f"--port {port}", "127.0.0.1", "choose another --port")
    assert loaded == [] and "serving" not in out + err  # before: the model loaded, "serving ...", then exit 3


def test_judge_train_refuses_an_empty_labels_file_before_fitting(work, capsys, monkeypatch):
    from socratic.judge.learned import store as learned_store

    monkeypatch.setattr(learned_store, "train", lambda *a, **k: pytest.fail("fitted on an empty labels file"))
    (work / "empty.jsonl").write_text("")
    code, _, err = cli(capsys, monkeypatch, "judge-train", "--labels", "empty.jsonl", "-o", "mine.json")
    check_error(code, err, "empty.jsonl", "no labelled replies", "--labels")
    (work / "a_folder").mkdir()
    code, _, err = cli(capsys, monkeypatch, "judge-train", "-o", "a_folder")
    check_error(code, err, "-o/--out a_folder", "is a folder")


def test_an_exported_model_file_is_readable_by_others(tmp_path):
    from socratic.export.hf_folder import write_model_folder

    source = tmp_path / "model"
    source.mkdir()
    (source / "config.json").write_text("{}")
    (source / "model.safetensors").write_bytes(b"weights")
    (source / "model.safetensors").chmod(0o600)  # as the embedded model's conversion leaves it
    write_model_folder(source, tmp_path / "out")
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "out").iterdir()}
    assert modes == {"config.json": 0o644, "model.safetensors": 0o644}


@pytest.mark.parametrize("args, why", [
    (["generate", "--dataset", "mathdial", "--limit", "1", "--model", "embedded", "-o", "a_folder"], "is a folder"),
    (["pairs", "--judgments", "in.jsonl", "-o", "a_folder"], "is a folder"),
    (["data", "export", "mathdial", "-o", "a_folder"], "is a folder"),
    (["preferences", "--dataset", "mathdial", "--limit", "1", "-o", "a_file"], "is a file"),
    (["agreement", "--labels", "in.jsonl", "-o", "a_file"], "is a file"),
    (["train", "--pairs", "in.jsonl", "-o", "a_file"], "is a file"),
    (["report", ".", "-o", "a_file"], "is a file"),
], ids=lambda value: value[0] if isinstance(value, list) else None)
def test_every_output_of_the_wrong_kind_is_refused_before_any_work(work, capsys, monkeypatch, args, why):
    (work / "a_folder").mkdir()
    (work / "a_file").write_text("mine\n")
    (work / "in.jsonl").write_bytes(lines(labelled()))
    code, _, err = cli(capsys, monkeypatch, *args)
    check_error(code, err, f"{args[-1]}: {why}")
    assert (work / "a_file").read_text() == "mine\n" and list((work / "a_folder").iterdir()) == []
    assert leftovers(work) == []
