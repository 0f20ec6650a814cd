"""Shared plumbing of the benchmark scripts under bench/: machine description, child processes
with their peak RSS, tables on the terminal and in bench/RESULTS.md.

Every benchmark runs its measured part in a child process (`run_child` / `run_worker`), so that
the peak RSS it reports belongs to that work alone: the parent never imports torch, and the
child's peak comes from the kernel's own accounting (`os.wait4`), not from sampling.

    from common import run_worker, print_table, markdown_table, append_results
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
PYTHON = sys.executable

RESULTS_HEADER = ("# Benchmark results\n\n"
                  "Appended by the scripts in bench/ (`make bench` runs them all). Each section names the\n"
                  "machine, the date and the load average at the time: numbers taken on a busy machine are\n"
                  "slower than the machine can do, ratios measured in one run are the reliable part.\n")


# --- the machine -------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def total_ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on (no torch import: package metadata only)."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(total_ram_gib(), 1),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "transformers": _version("transformers"),
        "trl": _version("trl"),
        "llama_cpp_python": _version("llama_cpp_python"),
        "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "load_average": tuple(round(x, 2) for x in load_average()),
    }


def machine_line(info: dict[str, Any] | None = None) -> str:
    info = info or machine_info()
    load = ", ".join(f"{x:.2f}" for x in info["load_average"])
    return (f"{info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM; python {info['python']}, "
            f"torch {info['torch']}, transformers {info['transformers']}, trl {info['trl']}, "
            f"llama-cpp-python {info['llama_cpp_python']}; load average {load}")


# --- child processes ---------------------------------------------------------------------------

@dataclass
class ChildResult:
    returncode: int
    wall_s: float
    peak_rss_mib: float
    output: str
    cpu_s: float = 0.0
    """user + system CPU seconds of the child: less sensitive than wall time to other load."""


def _wait_with_rusage(proc: subprocess.Popen, timeout: float | None) -> tuple[int, Any]:
    """Wait for `proc` and return (exit code, its own rusage), polling so a timeout can apply."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            code = os.waitstatus_to_exitcode(status)
            proc.returncode = code  # tell Popen it is reaped, so it does not wait again
            return code, usage
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            raise TimeoutError(f"{proc.args!r} ran past {timeout:.0f} s")
        time.sleep(0.05)


def run_child(cmd: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
              timeout: float | None = None, echo: bool = False) -> ChildResult:
    """Run `cmd` to completion; its wall time and peak RSS (the kernel's ru_maxrss, KiB on Linux).

    Output (stdout + stderr) is collected in a temporary file, so a chatty child cannot block on a
    full pipe; with echo=True it goes to the terminal instead.
    """
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile(mode="w+") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd or ROOT, env=full_env,
                                stdout=None if echo else log, stderr=None if echo else subprocess.STDOUT)
        try:
            code, usage = _wait_with_rusage(proc, timeout)
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            proc.wait()
            raise
        wall = time.perf_counter() - started
        log.seek(0)
        output = log.read()
    return ChildResult(code, wall, usage.ru_maxrss / 1024, output, usage.ru_utime + usage.ru_stime)


def run_worker(script: Path, args: Sequence[str], *, env: dict[str, str] | None = None,
               timeout: float | None = None) -> tuple[dict[str, Any], ChildResult]:
    """Run `python SCRIPT --worker-out FILE ARGS...`; the JSON the worker wrote, and the child's stats.

    Raises RuntimeError with the child's output tail when it fails.
    """
    with tempfile.TemporaryDirectory(prefix="socratic-bench-") as tmp:
        out = Path(tmp) / "result.json"
        child = run_child([PYTHON, str(script), "--worker-out", str(out), *args], env=env, timeout=timeout)
        if child.returncode != 0 or not out.exists():
            tail = "\n".join(child.output.splitlines()[-30:])
            raise RuntimeError(f"{script.name} {' '.join(args)} failed (exit {child.returncode}):\n{tail}")
        return json.loads(out.read_text()), child


def write_worker_result(path: str | Path, result: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(result, indent=1))


# --- tables ------------------------------------------------------------------------------------

def fmt(value: Any, digits: int = 2) -> str:
    """A table cell: floats rounded, None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned, '|' in cells escaped."""
    def cell(value: Any) -> str:
        return fmt(value).replace("|", "\\|").replace("\n", " ")

    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"row {row!r} has {len(row)} cells, expected {len(columns)}")
    numeric = [all(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) or r[i] is None for r in rows)
               and any(r[i] is not None for r in rows) for i in range(len(columns))]
    lines = ["| " + " | ".join(columns) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, name in enumerate(columns):
        numeric = any(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) for r in rows)
        table.add_column(name, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(fmt(v) for v in row))
    Console().print(table)


def append_results(title: str, table_markdown: str, notes: str = "", *, path: Path | None = None,
                   info: dict[str, Any] | None = None) -> Path:
    """Append a dated section (title, machine line, table, notes) to bench/RESULTS.md."""
    path = path or RESULTS
    info = info or machine_info()
    section = [f"## {title}", "", f"{info['date']} — {machine_line(info)}", "", table_markdown.strip(), ""]
    if notes.strip():
        section += [notes.strip(), ""]
    existing = path.read_text("utf-8") if path.exists() else RESULTS_HEADER
    if not existing.endswith("\n"):
        existing += "\n"
    path.write_text(existing + "\n" + "\n".join(section), "utf-8")
    return path


# The prefill's matmul shape: a 1,024-token block times the embedded model's 576 x 1,536 MLP weight.
PREFILL_MATMUL = (1024, 576, 1536)


def best_matmul_rate(dtype: str = "float32", shape: tuple[int, int, int] = PREFILL_MATMUL,
                     seconds: float = 3.0) -> float:
    """FLOP/s of the fastest single (m, k) x (k, n) product in `seconds`, on torch's threads: what the CPU can do.
    torch loads only here (the bench runner itself never imports it)."""
    import torch

    m, k, n = shape
    a, b = torch.randn(m, k, dtype=getattr(torch, dtype)), torch.randn(k, n, dtype=getattr(torch, dtype))
    a @ b
    best, spent = 0.0, time.perf_counter()
    while time.perf_counter() - spent < seconds:
        started = time.perf_counter()
        a @ b
        best = max(best, 2 * m * k * n / (time.perf_counter() - started))
    return best


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def busy_warning(threshold: float = 2.5) -> str:
    """A note for results taken while the machine was busy (empty when it was not)."""
    one, five, _ = load_average()
    if max(one, five) > threshold:
        return (f"**Measured on a busy machine** (load average {one:.1f} / {five:.1f} over 1 / 5 min on "
                f"{os.cpu_count()} cores): absolute numbers are low; compare the ratios, and rerun when idle.")
    return ""


def finish(title: str, columns, rows, notes: str, *, quick: bool, no_write: bool, quick_why: str) -> None:
    """Print a benchmark's notes (with the busy-machine warning) and record it unless it was a quick run."""
    if quick:
        notes = f"QUICK RUN ({quick_why}). " + notes
    notes = "\n\n".join(x for x in (notes, busy_warning()) if x)
    print(notes)
    if not no_write and not quick:
        append_results(title, markdown_table(columns, rows), notes)
        print(f"appended to {RESULTS}")
