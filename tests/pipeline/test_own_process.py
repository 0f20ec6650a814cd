"""A stage in a process of its own (socratic.pipeline.own_process): its memory, its errors, Ctrl-C.

The targets are this module's functions: the spawned child imports them by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from socratic.errors import InputError, SocraticError
from socratic.pipeline import own_process
from socratic.pipeline.runner import private_mb


def hold(megabytes: int) -> None:
    block = b"x" * (megabytes << 20)  # written, so resident
    assert len(block) == megabytes << 20


def refuse_a_line() -> None:
    raise InputError("no 'messages'", path="in.jsonl", line=3)


def break_down() -> None:
    raise ValueError("a bug in a stage")


def die() -> None:
    os._exit(3)


def wait_for_ctrl_c(flag: Path) -> None:
    flag.write_text("started")
    try:
        while True:
            time.sleep(0.02)
    except KeyboardInterrupt:
        flag.write_text(flag.read_text() + ", interrupted once")
        time.sleep(0.3)  # a second SIGINT would land here, in the stage's own clean-up
        flag.write_text(flag.read_text() + ", cleaned up")
        raise


def sleep_forever(pid_file: Path) -> None:
    pid_file.write_text(str(os.getpid()))
    while True:
        time.sleep(0.05)


def test_the_memory_a_stage_holds_goes_with_its_process():
    before = private_mb()
    peak = own_process.run(hold, 400)
    assert peak > 400
    assert private_mb() < before + 100  # nothing of the 400 MB came to this process


def test_a_user_facing_error_keeps_its_one_line_message():
    with pytest.raises(InputError, match=r"^in.jsonl:3: no 'messages'$"):
        own_process.run(refuse_a_line)


def test_any_other_error_carries_the_stage_traceback():
    with pytest.raises(ValueError, match="a bug in a stage") as raised:
        own_process.run(break_down)
    assert any("break_down" in note for note in raised.value.__notes__)


def test_a_process_that_dies_is_a_clear_error_with_the_resume_hint():
    with pytest.raises(SocraticError, match="exit code 3.*re-run the same command to resume"):
        own_process.run(die)


def test_ctrl_c_reaches_the_stage_once_and_the_run_stops_after_its_clean_up(tmp_path):
    flag = tmp_path / "flag"

    def press_ctrl_c_once_it_runs() -> None:
        while not flag.exists():
            time.sleep(0.02)
        # To this process only, as `kill -INT` does (a terminal's goes to its process group, which the child has
        # left), and landing on this thread, not the main one, whose wait for the child it does not interrupt:
        # the kernel hands a process's signal to any of its threads (a progress bar's, torch's).
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    threading.Thread(target=press_ctrl_c_once_it_runs, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        own_process.run(wait_for_ctrl_c, flag)
    assert flag.read_text() == "started, interrupted once, cleaned up"


def test_a_killed_run_leaves_no_stage_running_behind_it(tmp_path):
    pid_file = tmp_path / "child.pid"
    script = ("import sys; sys.path[:0] = sys.argv[2:]; import test_own_process as t; "
              "from socratic.pipeline import own_process; from pathlib import Path; "
              "own_process.run(t.sleep_forever, Path(sys.argv[1]))")
    run = subprocess.Popen([sys.executable, "-c", script, str(pid_file), *sys.path])
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and run.poll() is None
        time.sleep(0.02)
    stage = int(pid_file.read_text())
    run.send_signal(signal.SIGKILL)
    run.wait(30)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{stage}").exists() and _state(stage) != "Z":
        assert time.monotonic() < deadline, "the stage's process outlived its run"
        time.sleep(0.02)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_a_stage_warns_when_socratic_changed_since_the_run_started(capfd):
    now = own_process.source_fingerprint()
    assert "pipeline/own_process.py" in now
    own_process.run(hold, 1, source=now)
    assert "source changed" not in capfd.readouterr().err
    before = dict(now, **{"evaluate/batches.py": "an older version"})
    del before["records.py"]
    own_process.run(hold, 1, source=before)
    err = capfd.readouterr().err
    assert "warning: socratic's source changed since this run started (evaluate/batches.py, records.py)" in err
    assert own_process.changed_files(now, now) == []
