"""`socratic train --processes N` without starting processes: the launch command, the thread share,
and the checks made before launching (a bad option is one line, not N tracebacks)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from socratic.train import launch


def test_cpu_processes_start_with_torchrun_and_gpus_with_accelerate_launch():
    cpu = launch.launch_command(Path("t.yaml"), 2, cpu=True, port=1234)
    assert cpu[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert cpu[cpu.index("--nproc_per_node") + 1] == "2" and cpu[cpu.index("--master_port") + 1] == "1234"
    assert cpu[-5:] == ["-m", "socratic", "train", "--config", "t.yaml"]
    gpu = launch.launch_command(Path("t.yaml"), 4, cpu=False, port=1234)
    assert gpu[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert "--multi_gpu" in gpu and gpu[gpu.index("--num_processes") + 1] == "4"
    assert "--multi_gpu" not in launch.launch_command(Path("t.yaml"), 1, cpu=False, port=1)


def test_threads_are_shared_out_between_processes():
    assert launch.threads_per_process(2, cpus=2) == 1
    assert launch.threads_per_process(2, cpus=16) == 8
    assert launch.threads_per_process(4, cpus=2) == 1  # never 0


def test_world_reads_the_launcher_variables(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert launch.world() == (0, 1)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert launch.world() == (1, 2)


def test_processes_refuse_a_bad_folder_before_launching(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from socratic.cli import app

    started = []
    monkeypatch.setattr(launch, "relaunch", lambda settings, processes: started.append(processes))
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": [{"role": "user", "content": "2+2?"}],
                                 "chosen": [{"role": "assistant", "content": "What do you think?"}],
                                 "rejected": [{"role": "assistant", "content": "4"}]}) + "\n")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["train", "--pairs", str(pairs), "-o", str(taken), "--processes", "2"])
    assert result.exception is not None and "not a `socratic train` folder" in str(result.exception)
    assert started == []
    result = CliRunner().invoke(app, ["train", "--pairs", str(tmp_path / "missing.jsonl"), "-o",
                                      str(tmp_path / "new"), "--processes", "2"])
    assert result.exception is not None and started == []
    result = CliRunner().invoke(app, ["train", "--pairs", str(pairs), "-o", str(tmp_path / "new"),
                                      "--processes", "2"])
    assert result.exit_code == 0, result.output
    assert started == [2] and not (tmp_path / "new").exists()  # nothing written before the processes start


@pytest.mark.parametrize("processes", ["0", "-1"])
def test_processes_must_be_positive(processes, tmp_path):
    from typer.testing import CliRunner

    from socratic.cli import app

    result = CliRunner().invoke(app, ["train", "--pairs", "p.jsonl", "-o", str(tmp_path), "--processes", processes])
    assert result.exit_code != 0
