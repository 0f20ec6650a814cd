"""A stage in a Python process of its own: its memory goes back to the system when it ends.

    peak_mb = own_process.run(stages.run_stage, config, "sft:mathdial", True)   # raises what the stage raised

`socratic run` gives each stage that loads a model (sampling, the warm-up, DPO, evaluation) a fresh process,
so that it starts from an empty heap. In one process a run's memory climbed from stage to stage although
no tensor outlived its stage (the heap keeps what Python, tokenizers, datasets and the allocator held on
to): `make demo`'s evaluation peaked at 6.1 GiB inside the run and 3.4 GiB alone (bench/RESULTS.md).

The process is a new interpreter (`python -m socratic.pipeline.own_process`, ~4 s of imports), not a fork: a fork
of a process whose OpenMP threads have run (torch's, in the judges the parent fits) hangs at the child's first
parallel matmul. The target and its arguments go to it pickled on its stdin, its outcome comes back on a pipe.
What the caller sees is what one process would give:
- the return value is the child's peak RSS; `socratic run` adds the private memory of its own process to it;
- an exception in the child is raised here (a user-facing SocraticError keeps its one-line message;
  another error carries the child's traceback as a note);
- Ctrl-C reaches the stage exactly once: the child starts in a process group of its own (the terminal's
  Ctrl-C goes to the parent's), and the parent hands it every SIGINT/SIGTERM it gets (one that comes while the
  child starts waits until the child can catch it, so it never ends in a traceback), then waits for the stage
  to stop cleanly before raising KeyboardInterrupt itself (resuming finds what an interrupted stage leaves);
- the child dies with the parent (Linux: PR_SET_PDEATHSIG), so a killed run leaves no stage writing behind it.
What differs: the child imports socratic as installed when it starts, so with an editable install (a checkout)
edits to src/ during a run reach the stages that start after them (it happened to a measured run on 2026-12-07:
bench/RESULTS.md). Work beside a long run in another clone or `git worktree`. Given the parent's
`source_fingerprint()` (`socratic run` takes it when the run starts), the child compares it with the files it is
about to import and warns, naming them, when they changed: that stage runs other code than the ones before it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from socratic.errors import SocraticError
from socratic.pipeline.runner import peak_rss_mb

_FORWARDED = (signal.SIGINT, signal.SIGTERM)
_READY = b"r"  # the child's first byte: from now on a signal is raised in the stage
_PR_SET_PDEATHSIG = 1


def source_fingerprint() -> dict[str, str]:
    """socratic's own source files (relative path -> sha1 of their bytes): what a process that imports socratic
    now runs."""
    root = Path(__file__).resolve().parents[1]
    return {path.relative_to(root).as_posix(): hashlib.sha1(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*.py"))}


def changed_files(before: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """The source files added, removed or edited between two fingerprints."""
    return sorted(name for name in before.keys() | now.keys() if before.get(name) != now.get(name))


def run(target: Callable[..., Any], *args: Any, source: Mapping[str, str] | None = None) -> float:
    """`target(*args)` in a process of its own; its peak RSS in MB. `target` (a module's function) and `args`
    must pickle; the child imports `target`'s module with this process's sys.path. `source`: the fingerprint
    of the code the run started with (source_fingerprint); the child warns when its own differs."""
    results, child_end = os.pipe()
    child = subprocess.Popen([sys.executable, "-m", "socratic.pipeline.own_process", str(child_end)],
                             stdin=subprocess.PIPE, pass_fds=(child_end,), process_group=0)
    os.close(child_end)
    signals: list[int] = []
    ready = False

    def hand_on(signum: int, _frame: Any) -> None:
        signals.append(signum)
        if ready:
            child.send_signal(signum)

    main_thread = threading.current_thread() is threading.main_thread()  # only it may set signal handlers
    previous = {signum: signal.signal(signum, hand_on) for signum in _FORWARDED} if main_thread else {}
    try:
        with os.fdopen(results, "rb") as outcomes:
            try:
                child.stdin.write(pickle.dumps((sys.path, source)) + pickle.dumps((target, args)))
                child.stdin.close()
            except BrokenPipeError:
                pass  # it died at once; its exit code says how
            ready = _when_readable(outcomes).read(1) == _READY
            for signum in signals[:1] if ready else []:  # came while it started: now it can take it
                child.send_signal(signum)
            try:
                outcome = pickle.load(_when_readable(outcomes)) if ready else None
            except EOFError:  # it ended without a word: killed
                outcome = None
        child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if outcome is None:
        if signals:
            raise KeyboardInterrupt
        code = child.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"ended with exit code {code}"
        raise SocraticError(f"the stage's process {how} before it finished (out of memory?); re-run the same "
                            "command to resume")
    kind, value = outcome
    if kind == "peak":
        return value
    raise pickle.loads(value)


def _when_readable(pipe: Any, every: float = 0.1) -> Any:
    """`pipe` once it has something to read (or has ended). Waiting in short slices, not in one blocking read: a
    signal the kernel hands to another thread of this process (a progress bar's, torch's) does not interrupt the
    main thread's read, and its Python handler (`hand_on`) runs only when the main thread runs Python."""
    while not select.select([pipe], [], [], every)[0]:
        pass
    return pipe


def _main(results_fd: int) -> None:
    """The child: read the target, say it is ready, run it, send back its peak RSS or its error."""
    _die_with(os.getppid())
    with os.fdopen(results_fd, "wb") as results:
        sys.path[:], source = pickle.load(sys.stdin.buffer)  # the parent's modules, found where it found them
        if source is not None:
            _warn_if_changed(source)
        # Take what the parent hands on even where it was started ignoring SIGINT (`socratic run ... &` in a
        # script: the ignore is inherited, and the parent catches the signal to hand it on).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        results.write(_READY)
        results.flush()
        try:
            target, args = pickle.load(sys.stdin.buffer)
            target(*args)
            outcome = ("peak", peak_rss_mb())
        except BaseException as error:  # noqa: BLE001 - every error goes back to the parent, which raises it
            outcome = ("error", _portable(error))
        sys.stdout.flush()
        sys.stderr.flush()
        pickle.dump(outcome, results)


def _warn_if_changed(source: Mapping[str, str]) -> None:
    """One line on stderr when socratic's source differs from what the run started with (before the target's
    module is imported: what is on disk now is what this stage will run)."""
    changed = changed_files(source, source_fingerprint())
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        print(f"warning: socratic's source changed since this run started ({shown}): this stage runs the changed "
              "code, the stages before it did not. Work beside a run in another clone or `git worktree`.",
              file=sys.stderr, flush=True)


def _portable(error: BaseException) -> bytes:
    """The pickled error, with the child's traceback as a note unless it is a user-facing or an interrupt."""
    if not isinstance(error, (SocraticError, KeyboardInterrupt)):
        error.add_note("in the stage's own process:\n" + "".join(traceback.format_exception(error)).rstrip())
    try:
        data = pickle.dumps(error)
        pickle.loads(data)
        return data
    except Exception:  # noqa: BLE001 - an error that does not survive pickling becomes its message
        kind = SocraticError if isinstance(error, SocraticError) else RuntimeError
        return pickle.dumps(kind(f"{type(error).__name__}: {error}"))


def _die_with(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took hold
        os._exit(1)


if __name__ == "__main__":
    _main(int(sys.argv[1]))
