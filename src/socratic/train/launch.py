"""Data-parallel DPO over several processes (accelerate under TRL): `socratic train --processes N`.

    socratic train --config train.yaml --processes 2        # N processes on this machine (CPU or one per GPU)
    torchrun --nproc_per_node 2 -m socratic train --config train.yaml                        # the same on a CPU, by hand
    accelerate launch --config_file configs/accelerate-gpus.yaml -m socratic train --config train.yaml   # GPUs

`--processes N` resolves and checks the options here (so a bad option is still one line, before any
process starts), writes them to a temporary YAML file and starts N processes of `socratic train
--config THAT_FILE`: `accelerate launch --multi_gpu` with GPUs (one process per GPU, NCCL), torchrun
without (CPU processes over gloo; see `launch_command` for why not `accelerate launch --cpu`). Each process trains on its share of every batch
(TRL's DPOTrainer under accelerate, unchanged); only rank 0 writes metrics, the merged model and
the summary (socratic.train). Keep the effective batch (processes x batch_size x grad_accum) when
changing N: the same pairs, seed and effective batch give the same loss curve (tests/train/test_train_multiprocess.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from socratic.errors import SocraticError


def world() -> tuple[int, int]:
    """(rank, world size) of this process, from the variables accelerate/torchrun set; (0, 1) alone."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def threads_per_process(world_size: int, cpus: int | None = None) -> int:
    """torch threads for one of `world_size` CPU processes on this machine: the cores shared out, at least 1.

    Two processes each running as many threads as there are cores fight over them (oversubscription):
    every OpenMP barrier then waits on a thread that is not scheduled.
    """
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cpus // max(1, world_size))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_command(config_file: Path, processes: int, *, cpu: bool, port: int) -> list[str]:
    """The command that starts `processes` copies of `socratic train --config config_file` on this machine.

    GPUs: `accelerate launch --multi_gpu` (one process per GPU, NCCL). CPU: torchrun, the launcher
    accelerate itself uses for several processes: `accelerate launch --cpu` starts a single process
    unless MPI is set up (`--mpirun_hostfile`). Each process then passes `use_cpu` to the Trainer,
    whose accelerate state sees WORLD_SIZE > 1 and joins a gloo process group (MULTI_CPU).
    """
    train = ["-m", "socratic", "train", "--config", str(config_file)]
    if cpu:
        return [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", str(processes),
                "--master_addr", "127.0.0.1", "--master_port", str(port), *train]
    command = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(processes),
               "--num_machines", "1", "--main_process_port", str(port)]
    if processes > 1:
        command.append("--multi_gpu")
    return [*command, *train]


def relaunch(settings: Any, processes: int) -> int:
    """Run the resolved TrainConfig `settings` as `processes` accelerate processes; returns their exit code."""
    import torch

    if processes < 1:
        raise SocraticError(f"--processes {processes}: must be at least 1")
    cpu = not torch.cuda.is_available()
    if not cpu and processes > torch.cuda.device_count():
        raise SocraticError(f"--processes {processes}: this machine has {torch.cuda.device_count()} GPU(s); "
                            "use one process per GPU")
    with tempfile.TemporaryDirectory(prefix="socratic-launch-") as folder:
        config_file = Path(folder) / "train.yaml"
        config_file.write_text(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False), "utf-8")
        env = dict(os.environ)
        if cpu:
            # One share of the cores per process (see threads_per_process); accelerate would pick its own.
            env["OMP_NUM_THREADS"] = str(threads_per_process(processes))
        result = subprocess.run(launch_command(config_file, processes, cpu=cpu, port=free_port()), env=env,
                                check=False)
    if result.returncode != 0:
        raise SocraticError(f"training in {processes} processes failed (exit code {result.returncode}); "
                            "the first error is printed above. Re-run with --resume to continue from the "
                            "last checkpoint")
    return result.returncode
