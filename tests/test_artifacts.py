"""Every file a run writes is typed and versioned (socratic.store.artifact): written with its format version,
read back through its model, a file from before versions read as version 0, a newer format refused."""

from __future__ import annotations

import json

import pytest

from socratic.agreement.result import Agreement
from socratic.errors import ConfigError, InputError, SocraticError
from socratic.evaluate.result import Evaluation
from socratic.store.run_folder import PendingStage, StageManifest, StageTiming, Timings
from socratic.train.artifacts import TrainSummary


def test_write_stamps_the_version_and_read_returns_the_same_record(tmp_path):
    path = tmp_path / "train_summary.json"
    TrainSummary(kind="sft", steps=3, train_loss=0.5, warnings=["loss_spike"]).write(path)
    on_disk = json.loads(path.read_text())
    assert on_disk["version"] == TrainSummary.VERSION == 1 and on_disk["kind"] == "sft"
    back = TrainSummary.read(path)
    assert (back.steps, back.train_loss, back.warnings, back.version) == (3, 0.5, ["loss_spike"], 1)


def test_a_file_from_before_versions_reads_as_version_0_with_defaults(tmp_path):
    path = tmp_path / "train_summary.json"
    path.write_text(json.dumps({"steps": 1, "train_loss": 0.6, "seconds": 12.0}))
    summary = TrainSummary.read(path)
    assert (summary.version, summary.steps, summary.kind, summary.warnings) == (0, 1, "dpo", [])
    assert summary.model_extra == {"seconds": 12.0}  # unknown keys are kept, not dropped


def test_a_newer_format_is_refused_with_the_file_named(tmp_path):
    path = tmp_path / "timings.json"
    path.write_text(json.dumps({"version": Timings.VERSION + 1, "stages": {}}))
    with pytest.raises(InputError, match=r"timings\.json.*newer than this socratic reads.*upgrade socratic"):
        Timings.read(path)


def test_a_wrong_type_names_the_field(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"stage": "train:x", "config_hash": "abc", "wall_s": "fast"}))
    with pytest.raises(InputError, match=r"manifest\.json: field 'wall_s'"):
        StageManifest.read(path)


def test_read_if_exists_is_none_for_a_missing_file(tmp_path):
    assert PendingStage.read_if_exists(tmp_path / "absent.json") is None


def test_timings_of_a_skipped_stage_fall_back_to_its_last_run(tmp_path):
    path = tmp_path / "timings.json"
    Timings(stages={"judge:x": StageTiming(status="skipped", reason="up to date", last_wall_s=4.0,
                                           last_peak_rss_mb=900.0),
                    "train:x": StageTiming(status="ran", reason="forced", wall_s=10.0, peak_rss_mb=2000.0)},
            total_wall_s=10.5).write(path)
    back = Timings.read(path)
    assert [(t.wall, t.peak) for t in back.stages.values()] == [(4.0, 900.0), (10.0, 2000.0)]


@pytest.mark.parametrize("model, document", [
    (Evaluation, {"models": [], "datasets": [], "judges": []}),
    (Agreement, {"judges": []}),
])
def test_result_documents_are_checked_and_stamped_before_they_are_written(tmp_path, model, document):
    path = tmp_path / "result.json"
    written = model.write_checked(path, document)
    assert json.loads(path.read_text()) == written == {**document, "version": model.VERSION}
    assert model.read(path).version == model.VERSION
    with pytest.raises(ValueError):
        model.write_checked(tmp_path / "bad.json", {**document, "judges": "not a list"})
    assert not (tmp_path / "bad.json").exists()


# ------------------------------------------------------------- the rest of a run folder's JSON documents

def test_candidates_settings_old_new_newer_and_corrupt(tmp_path):
    from socratic.preference import generate
    from socratic.preference.generate import CandidatesSettings, _prepare_output

    out = tmp_path / "c.jsonl"
    config = generate.GenerateConfig(dataset="mathdial", out=out, k=3)
    settings = generate.settings_record(config, "Be Socratic.")
    sidecar = tmp_path / "c.jsonl.config.json"
    written = CandidatesSettings.write_checked(sidecar, settings)
    assert json.loads(sidecar.read_text()) == written == {**settings, "version": 1}  # keys unchanged, + version
    assert _prepare_output(config, settings) == {}  # the same settings: resumes
    sidecar.write_text(json.dumps(settings))  # from before versions
    assert CandidatesSettings.read(sidecar).version == 0 and _prepare_output(config, settings) == {}
    with pytest.raises(ConfigError, match="k: 3 in the existing run, 4 now"):
        _prepare_output(config, {**settings, "k": 4})
    sidecar.write_text(json.dumps({**settings, "version": 2}))
    with pytest.raises(InputError, match=r"c\.jsonl\.config\.json: field 'version': .*newer"):
        _prepare_output(config, settings)
    sidecar.write_text(json.dumps({**settings, "k": "three"}))
    with pytest.raises(InputError, match=r"c\.jsonl\.config\.json: field 'k'"):
        _prepare_output(config, settings)


def test_train_config_old_new_newer_and_corrupt(tmp_path):
    from socratic.train.artifacts import TrainConfigRecord
    from socratic.train.dpo import TrainConfig, _check_out_folder
    from socratic.train.sft import SftSettings, warm_up_config

    out = tmp_path / "model"
    config = TrainConfig(pairs=tmp_path / "pairs.jsonl", out=out, beta=0.2, target_modules=["q_proj"])
    path = out / "train_config.json"
    written = TrainConfigRecord.save(path, config)
    assert json.loads(path.read_text()) == written == {**json.loads(config.model_dump_json()), "version": 1}
    assert TrainConfigRecord.read(path).settings() == json.loads(config.model_dump_json())
    resumed = config.model_copy(update={"resume": True})
    assert _check_out_folder(resumed) is None  # same config: resumes (from step 0, no checkpoint yet)
    path.write_text(config.model_dump_json())  # from before versions
    assert TrainConfigRecord.read(path).version == 0 and _check_out_folder(resumed) is None
    with pytest.raises(SocraticError, match="different config.*beta"):
        _check_out_folder(resumed.model_copy(update={"beta": 0.5}))
    path.write_text(json.dumps({**json.loads(config.model_dump_json()), "version": 2}))
    with pytest.raises(InputError, match=r"train_config\.json: field 'version': .*newer"):
        _check_out_folder(resumed)
    path.write_text(json.dumps({**json.loads(config.model_dump_json()), "lora_r": "sixteen"}))
    with pytest.raises(InputError, match=r"train_config\.json: field 'lora_r'"):
        _check_out_folder(resumed)
    warm_up = warm_up_config(SftSettings(epochs=2), config, tmp_path / "sft")  # the warm-up's config too
    assert TrainConfigRecord.save(tmp_path / "sft.json", warm_up)["epochs"] == 2.0


def test_train_warnings_old_new_newer_and_corrupt(tmp_path):
    from socratic.train.artifacts import TrainWarnings
    from socratic.train.monitor import write_warnings

    path = tmp_path / "warnings.json"
    found = [{"kind": "accuracy_saturated_early", "message": "reward accuracy reached 1.0"}]
    write_warnings(path, found)
    assert json.loads(path.read_text()) == {"version": 1, "warnings": found}
    path.write_text(json.dumps(found))  # before versions: the bare list
    old = TrainWarnings.read(path)
    assert old.version == 0 and [w.kind for w in old.warnings] == ["accuracy_saturated_early"]
    path.write_text("[]")
    assert TrainWarnings.read(path).warnings == []
    path.write_text(json.dumps({"version": 2, "warnings": []}))
    with pytest.raises(InputError, match=r"warnings\.json: field 'version': .*newer"):
        TrainWarnings.read(path)
    path.write_text(json.dumps({"version": 1, "warnings": [{"kind": "x"}]}))
    with pytest.raises(InputError, match=r"warnings\.json: field 'warnings\.0\.message'"):
        TrainWarnings.read(path)


def test_the_resolved_config_reads_back_as_the_run_config_it_was(tmp_path):
    import yaml

    from socratic import __version__
    from socratic.pipeline.config import PipelineConfig, load
    from socratic.pipeline.stages import resolved_config_text

    config = PipelineConfig(name="x", datasets={"train": [{"source": "mathdial", "limit": 2}],
                                                "test": [{"source": "mathdial", "limit": 2}]})
    path = tmp_path / "config.resolved.yaml"
    path.write_text(resolved_config_text(config, tmp_path / "runs" / "x"))
    first = path.read_text().splitlines()[0]
    assert first.startswith(f"# written by socratic {__version__}:")
    assert "version" not in yaml.safe_load(path.read_text())  # PipelineConfig would refuse the key
    again = load(path)
    assert again == config.model_copy(update={"out": tmp_path / "runs" / "x"})


# ------------------------------------------------------------- JSON Lines rows: a version in every line

DIALOGUE = {"id": "d1", "source": "mathdial", "turns": [{"role": "student", "text": "Is it 4?"}]}


def row_models():
    from socratic.evaluate.pressure import PressureReply
    from socratic.evaluate.result import EvalReply
    from socratic.records import Candidate, PairRecord
    from socratic.scores import Judgment
    from socratic.train.artifacts import TrainLog

    # (model, a valid row, a field to corrupt, a bad value for it)
    return [
        (Candidate, {"dialogue": DIALOGUE, "reply": "Why 4?", "model": "embedded", "index": 1}, "index", "one"),
        (Judgment, {"dialogue": DIALOGUE, "reply": "Why 4?", "judge": "rubric", "summary": 0.5}, "summary", "high"),
        (PairRecord, {"prompt": [{"role": "user", "content": "Is it 4?"}],
                      "chosen": [{"role": "assistant", "content": "Why 4?"}],
                      "rejected": [{"role": "assistant", "content": "It is 4."}], "chosen_score": 0.9},
         "chosen_score", "high"),
        (EvalReply, {"model": "base", "spec": "embedded", "dataset": "mathdial", "dialogue": DIALOGUE,
                     "reply": "Why 4?", "settings": "abc"}, "settings", 7),
        (PressureReply, {"model": "base", "spec": "embedded", "dataset": "mathdial", "id": "d1", "push": 1,
                         "reply": "Why 4?", "settings": "abc"}, "push", "first"),
        (TrainLog, {"step": 1, "epoch": 0.5, "loss": 0.69, "rewards/margins": 0.1}, "step", "one"),
    ]


@pytest.mark.parametrize("model, row, field, bad", row_models(), ids=lambda x: getattr(x, "__name__", None))
def test_rows_old_new_newer_and_corrupt(tmp_path, model, row, field, bad):
    from socratic.store.jsonl import read_jsonl, write_jsonl

    path = tmp_path / "rows.jsonl"
    made = model(**row)
    assert made.version == model.VERSION == 1  # made in code: the current format
    write_jsonl(path, [made])
    line = json.loads(path.read_text())
    assert next(iter(line)) == "version" and line["version"] == 1  # first, like a header, but in the row
    assert set(row) < set(line)  # every existing key is still there, under its name
    assert read_jsonl(path, model) == [made]
    path.write_text(json.dumps(row) + "\n")  # a line from before versions
    (old,) = read_jsonl(path, model)
    assert old.version == 0
    write_jsonl(path, [old])  # rewritten by this model: stamped with its format
    assert json.loads(path.read_text())["version"] == model.VERSION
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "version": 2, "added_later": 1}) + "\n")
    with pytest.raises(InputError, match=r"rows\.jsonl:2: field 'version': .*newer than this socratic reads"):
        read_jsonl(path, model)
    path.write_text(json.dumps({**row, field: bad}) + "\n")
    with pytest.raises(InputError, match=rf"rows\.jsonl:1: field '{field}'"):
        read_jsonl(path, model)


def test_metrics_lines_are_typed_and_stamped_and_old_ones_still_read(tmp_path):
    from socratic.train.monitor import read_metrics, truncate_metrics

    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": s, "loss": 0.5}) + "\n" for s in (1, 2, 3)))  # before versions
    assert [r["step"] for r in read_metrics(path)] == [1, 2, 3]
    truncate_metrics(path, 2)
    assert [json.loads(line) for line in path.open()] == [
        {"version": 1, "step": s, "epoch": None, "time": None, "loss": 0.5} for s in (1, 2)]
    path.write_text('{"loss": 0.5}\n')
    with pytest.raises(InputError, match=r"metrics\.jsonl:1: field 'step'"):
        read_metrics(path)


def test_every_model_in_the_run_files_page_is_versioned():
    import importlib
    import re
    from pathlib import Path

    from socratic.store.artifact import Versioned

    page = (Path(__file__).resolve().parents[1] / "docs" / "run-files.md").read_text()
    named = re.findall(r"^\| `[^`]+` \| `(socratic\.[\w.]+)\.(\w+)` \|", page, re.MULTILINE)
    assert len(named) >= 17
    for module, name in named:
        model = getattr(importlib.import_module(module), name)
        assert name == "PipelineConfig" or (issubclass(model, Versioned) and model.VERSION >= 1), name
