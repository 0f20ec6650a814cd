"""Every file a run writes is typed and versioned (socratic.artifact): written with its format version,
read back through its model, a file from before versions read as version 0, a newer format refused."""

from __future__ import annotations

import json

import pytest

from socratic.agreement.result import Agreement
from socratic.errors import InputError
from socratic.evaluate.result import Evaluation
from socratic.run_folder import PendingStage, StageManifest, StageTiming, Timings
from socratic.train.summary import TrainSummary


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
