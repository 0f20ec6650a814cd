"""What a pipeline run needs (GPU, model folder, API key, served model): listed by `--dry-run`,
and a real run refuses with one line naming the first missing piece, before writing anything."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from socratic import pipeline
from socratic.errors import SocraticError
from socratic.pipeline import preflight

ROOT = Path(__file__).resolve().parents[2]


def paper(tmp_path, **overrides):
    data = yaml.safe_load((ROOT / "configs" / "paper.yaml").read_text())
    data.pop("labels", None)  # the shared human-eval file may not be on every machine
    data.update({"out": str(tmp_path / "run"), **overrides})
    return pipeline.PipelineConfig.model_validate(data)


def test_paper_config_needs_a_gpu_a_model_folder_and_an_api_key(tmp_path):
    config = paper(tmp_path)
    found = preflight.needs(config, env={}, cuda=lambda: False, probe=lambda url: True)
    missing = {need.what: need for need in found if not need.ok}
    assert set(missing) == {"GPU", "model folder", "API key"}
    assert "models/Phi-3-mini-4k-instruct" in missing["model folder"].detail
    assert len([n for n in found if n.what == "API key"]) == 1  # judge, evaluation judge, reference: one key
    with pytest.raises(SocraticError, match=r"cannot start, GPU missing: CUDA"):
        preflight.require(found, "run 'paper'")


def test_each_missing_piece_is_named_once_the_others_are_there(tmp_path):
    folder = tmp_path / "phi"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    config = paper(tmp_path, model=f"hf:{folder}")
    with pytest.raises(SocraticError, match=r"cannot start, API key missing: OpenAI, for gpt-4o .*OPENAI_API_KEY"):
        preflight.require(preflight.needs(config, env={}, cuda=lambda: True, probe=lambda url: True), "run")
    found = preflight.needs(config, env={"OPENAI_API_KEY": "sk-secret-value"}, cuda=lambda: True,
                            probe=lambda url: True)
    assert all(need.ok for need in found)
    assert not any("sk-secret" in f"{n.detail} {n.fix}" for n in found)  # presence only, never the value


def test_only_the_stages_that_will_run_count(tmp_path):
    config = paper(tmp_path)
    found = preflight.needs(config, ["report"], env={}, cuda=lambda: False, probe=lambda url: True)
    assert found == []
    judging = preflight.needs(config, ["judge:mathdial"], env={}, cuda=lambda: False, probe=lambda url: True)
    assert [n.what for n in judging] == ["API key"]
    warming_up = preflight.needs(config, ["sft:mathdial"], env={}, cuda=lambda: False, probe=lambda url: True)
    assert [n.what for n in warming_up] == ["GPU", "model folder"]  # the warm-up trains the base model


def test_a_served_model_must_answer(tmp_path):
    config = paper(tmp_path, requires_gpu=False, model="embedded", reward_judge="llm:openai:m@http://127.0.0.1:9/v1",
                   eval_judges=["rubric"], reference_models={})
    [need] = preflight.needs(config, env={}, cuda=lambda: False)  # the real probe: nothing listens on port 9
    assert need.what == "served model" and not need.ok and "127.0.0.1:9" in need.detail


def test_dry_run_lists_the_needs_and_a_real_run_refuses_in_one_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from socratic import cli

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("SOCRATIC_OPENAI_API_KEY", raising=False)
    monkeypatch.setattr(preflight, "cuda_available", lambda: False)
    config = ROOT / "configs" / "paper.yaml"
    result = CliRunner().invoke(cli.app, ["run", str(config), "--dry-run", "-o", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    for word in ("GPU", "model folder", "API key", "missing"):
        assert word in result.output
    result = CliRunner().invoke(cli.app, ["run", str(config), "-o", str(tmp_path / "run")])
    assert isinstance(result.exception, SocraticError)
    assert "cannot start, GPU missing" in str(result.exception) and "\n" not in str(result.exception)
    assert not (tmp_path / "run").exists()


def test_the_offline_judges_need_nothing(tmp_path):
    config = paper(tmp_path, requires_gpu=False, model="embedded", reward_judge="reward",  # the old name of `pairwise`
                   eval_judges=["rubric", "learned", "pairwise:/x/r.json", "qmark"], reference_models={})
    assert preflight.needs(config, env={}, cuda=lambda: False) == []
