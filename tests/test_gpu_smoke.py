"""scripts/gpu_smoke.py on a machine without CUDA: it stops before step 1 with one line saying why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_smoke.py"


def test_stops_with_the_reasons_where_there_is_no_cuda(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: run scripts/gpu_smoke.py MODEL_DIR itself")
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "no-model")], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("[gpu_smoke] stopped before step 1: ")
    assert "sees no CUDA device" in line or "CPU-only build" in line
    assert "no-model is not a transformers model folder" in line
