"""Run a list of stages in a folder, skipping those whose config and inputs are unchanged.

Used by `socratic run` (socratic.pipeline.stages). Each stage leaves `ROOT/.stages/<name>.json`, a manifest
written LAST with: the hash of the stage's config, the fingerprints (sha256) of its input and
output files, its wall time and peak RSS. A stage runs when
    - it is forced (`--force NAME`, or `--force KIND` for all `KIND:*` stages);
    - it has no manifest (never ran, or was interrupted: then `<name>.pending.json` says so);
    - its config hash changed, an output is missing, or an input's content changed.
A stage is resumed (not started afresh) only when its pending marker shows the same config and
inputs: the stage's action receives `fresh=False` and continues where it stopped.
A stage marked `own_process` runs through the runner's `own_process` (when it has one: `socratic run`
passes `socratic.pipeline.own_process`), in a process of its own; the manifest is still written here.

Paths inside the run folder are hashed relative to it (`portable`), so a run folder that was moved
or copied elsewhere is still up to date. Fingerprints hash file contents, not mtimes, so a re-run
upstream stage that produced the same bytes (a cache hit) does not make downstream stages run again. Hashes are reused while a file's
size and mtime are unchanged, so checking a large model costs nothing on the second look.
"""

from __future__ import annotations

import hashlib
import os
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from socratic.errors import ConfigError, InputError
from socratic.progress import console
from socratic.store.artifact import Artifact
from socratic.store.cache import content_key
from socratic.store.run_folder import STAGES, PendingStage, StageManifest, StageTiming, Timings

R = TypeVar("R", bound=Artifact)

# Inside a folder output, these are working state, not the result: not fingerprinted.
SKIP_NAMES = {"checkpoints", "tensorboard", "adapter", "__pycache__"}


@dataclass
class Stage:
    name: str
    config: dict[str, Any]
    action: Callable[[bool], Any]  # action(fresh): run the stage; fresh=False means resume
    inputs: list[Path] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)
    own_process: bool = False  # loads a model: run it in a process of its own where the runner can


@dataclass
class Decision:
    stage: str
    run: bool
    reason: str
    fresh: bool = True


# ------------------------------------------------------------------------------------- fingerprints

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    found = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_NAMES and not d.startswith("."))
        found += [Path(root) / n for n in sorted(names) if not n.startswith(".")]
    return found


def fingerprint(paths: Sequence[Path], root: Path, known: dict[str, dict] | None = None) -> dict[str, dict]:
    """{relative file path: {size, mtime_ns, sha256}} of every file under `paths`; missing -> sha256 None."""
    known = known or {}
    out: dict[str, dict] = {}
    for path in paths:
        if not path.exists():
            out[_rel(path, root)] = {"sha256": None}
            continue
        for file in _files(path):
            stat, name = file.stat(), _rel(file, root)
            old = known.get(name, {})
            same = old.get("size") == stat.st_size and old.get("mtime_ns") == stat.st_mtime_ns
            out[name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                         "sha256": old["sha256"] if same and old.get("sha256") else _sha256(file)}
    return out


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path.resolve())


def _changed(now: dict[str, dict], before: dict[str, dict]) -> list[str]:
    names = set(now) | set(before)
    return sorted(n for n in names if now.get(n, {}).get("sha256") != before.get(n, {}).get("sha256"))


def portable(config: Any, root: Path) -> Any:
    """`config` with the run folder's absolute path written as "<run>" (e.g. "hf:<run>/models/x")."""
    if isinstance(config, str):
        return config.replace(str(root.resolve()), "<run>")
    if isinstance(config, dict):
        return {key: portable(value, root) for key, value in config.items()}
    if isinstance(config, (list, tuple)):
        return [portable(value, root) for value in config]
    return config


# ------------------------------------------------------------------------------------- memory

def reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS mark (VmHWM) so the next reading is this stage's own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # not Linux, or not permitted: the reading falls back to the process-wide peak


def release_memory() -> None:
    """Drop the models stages loaded and hand freed memory back to the OS between stages (training leaves
    GBs in glibc's arenas); a later stage that needs a model loads it again (a few seconds)."""
    import gc

    from socratic.backends import unload_backends
    from socratic.memory import return_freed_memory

    unload_backends()
    gc.collect()
    return_freed_memory()


def private_mb() -> float:
    """This process's own resident memory now, in MB: its private pages (smaps_rollup), not the shared
    libraries a stage's own process maps too; VmRSS where that is not there, 0 without /proc."""
    rollup = _proc_self_mb("smaps_rollup", "Private_Clean", "Private_Dirty")
    return rollup if rollup is not None else _proc_self_mb("status", "VmRSS") or 0.0


def peak_rss_mb() -> float:
    peak = _proc_self_mb("status", "VmHWM")
    return peak if peak is not None else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _proc_self_mb(file: str, *fields: str) -> float | None:
    """The sum of `fields` (kB lines) of /proc/self/`file`, in MB; None where the file or a field is missing."""
    try:
        lines = dict(line.split(":", 1) for line in Path("/proc/self", file).read_text().splitlines() if ":" in line)
        return round(sum(int(lines[field].split()[0]) for field in fields) / 1024, 1)
    except (OSError, KeyError, ValueError):
        return None


# ------------------------------------------------------------------------------------- the runner

class Runner:
    def __init__(self, root: Path, stages: Sequence[Stage], force: Sequence[str] = (),
                 own_process: Callable[[str, bool], float] | None = None):
        """`own_process(name, fresh)`: runs the stage `name` elsewhere and returns its peak RSS in MB; None:
        every stage runs in this process."""
        self.root = root
        self.stages = list(stages)
        self.own_process = own_process
        names = [s.name for s in self.stages]
        unknown = [f for f in force if f != "all" and not any(n == f or n.startswith(f + ":") for n in names)]
        if unknown:
            kinds = sorted({n.split(":")[0] for n in names})
            raise ConfigError(f"--force {', '.join(unknown)}: no such stage; stages are {', '.join(names)} "
                              f"(or a kind: {', '.join(kinds)}, or all)")
        self.force = list(force)
        self.state_dir = root / STAGES

    def _manifest_path(self, stage: Stage) -> Path:
        return self.state_dir / f"{stage.name.replace(':', '--')}.json"

    def _pending_path(self, stage: Stage) -> Path:
        return self.state_dir / f"{stage.name.replace(':', '--')}.pending.json"

    def _read(self, record: type[R], path: Path) -> R | None:
        """The record at `path`; None when it is missing or unreadable (the stage then counts as not run)."""
        try:
            return record.read(path)
        except (OSError, InputError):
            return None

    def _config(self, stage: Stage) -> tuple[dict[str, Any], str]:
        """The stage's config as its manifest keeps it (portable), and its hash."""
        config = portable(stage.config, self.root)
        return config, content_key(config)

    def forced(self, stage: Stage) -> bool:
        return any(f == "all" or stage.name == f or stage.name.startswith(f + ":") for f in self.force)

    def decide(self, stage: Stage, running_upstream: Sequence[str] = ()) -> Decision:
        """Whether `stage` must run now, and why. `running_upstream`: stages that will run first (dry run)."""
        config, config_hash = self._config(stage)
        # Manifests written before paths were made portable hashed the config as it was.
        hashes = {config_hash, content_key(stage.config)}
        if self.forced(stage):
            return Decision(stage.name, True, "forced")
        manifest = self._read(StageManifest, self._manifest_path(stage))
        if manifest is None:
            pending = self._read(PendingStage, self._pending_path(stage))
            if pending is not None and pending.config_hash in hashes and not _changed(
                    fingerprint(stage.inputs, self.root, pending.inputs), pending.inputs):
                return Decision(stage.name, True, "resuming an interrupted run", fresh=False)
            return Decision(stage.name, True, "no previous run")
        if manifest.config_hash not in hashes:
            before = portable(manifest.config, self.root)
            keys = sorted(k for k in set(before) | set(config) if before.get(k) != config.get(k))
            return Decision(stage.name, True, f"config changed ({', '.join(keys) or 'settings'})")
        missing = [o for o in stage.outputs if not o.exists()]
        if missing:
            return Decision(stage.name, True, f"output missing ({_rel(missing[0], self.root)})")
        upstream = [u for u in stage.upstream if u in running_upstream]
        if upstream:
            return Decision(stage.name, True, f"upstream {', '.join(upstream)} runs first (it re-runs if their "
                                              "outputs change)")
        changed = _changed(fingerprint(stage.inputs, self.root, manifest.inputs), manifest.inputs)
        if changed:
            return Decision(stage.name, True, f"input changed ({changed[0]}"
                                              f"{f' and {len(changed) - 1} more' if len(changed) > 1 else ''})")
        return Decision(stage.name, False, "up to date")

    def plan(self) -> list[Decision]:
        """What a run would do, without running anything."""
        decisions, running = [], []
        for stage in self.stages:
            decision = self.decide(stage, running)
            decisions.append(decision)
            if decision.run:
                running.append(stage.name)
        return decisions

    def execute(self, timings_path: Path) -> Timings:
        """Run the stages in order; returns and writes the timings record."""
        started = time.perf_counter()
        started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        stages: dict[str, StageTiming] = {}
        release_memory()  # what planning held (the judges fitted before the first stage) stays out of every stage
        for stage in self.stages:
            decision = self.decide(stage)
            if not decision.run:
                manifest = self._read(StageManifest, self._manifest_path(stage))
                console.print(f"[dim]- {stage.name}: skipped ({decision.reason})[/]")
                stages[stage.name] = StageTiming(status="skipped", reason=decision.reason,
                                                 last_wall_s=manifest.wall_s if manifest else None,
                                                 last_peak_rss_mb=manifest.peak_rss_mb if manifest else None)
                continue
            console.rule(f"{stage.name}: {decision.reason}")
            stages[stage.name] = self._run_one(stage, decision)
            Timings(started_at=started_at, stages=stages,
                    total_wall_s=round(time.perf_counter() - started, 1)).write(timings_path)
        # The per-stage resets also reset the process-wide mark, so the run's peak is the largest stage peak.
        peaks = [s.peak_rss_mb for s in stages.values() if s.peak_rss_mb]
        record = Timings(started_at=started_at, stages=stages, total_wall_s=round(time.perf_counter() - started, 1),
                         peak_rss_mb=max(peaks) if peaks else peak_rss_mb())
        record.write(timings_path)
        return record

    def _run_one(self, stage: Stage, decision: Decision) -> StageTiming:
        config, config_hash = self._config(stage)
        previous = self._read(StageManifest, self._manifest_path(stage))
        inputs = fingerprint(stage.inputs, self.root, previous.inputs if previous else None)
        self._manifest_path(stage).unlink(missing_ok=True)  # until it finishes, the stage is not done
        PendingStage(config_hash=config_hash, inputs=inputs).write(self._pending_path(stage))
        started = time.perf_counter()
        if stage.own_process and self.own_process is not None:
            # Both processes are in memory meanwhile: the stage's peak plus what this one holds of its own.
            peak = round(self.own_process(stage.name, decision.fresh) + private_mb(), 1)
            wall = round(time.perf_counter() - started, 2)
        else:
            reset_peak_rss()
            stage.action(decision.fresh)
            wall = round(time.perf_counter() - started, 2)
            peak = peak_rss_mb()
            release_memory()
        StageManifest(
            stage=stage.name, config=config, config_hash=config_hash, inputs=inputs,
            outputs=fingerprint(stage.outputs, self.root), wall_s=wall, peak_rss_mb=peak,
            finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), reason=decision.reason,
        ).write(self._manifest_path(stage))
        self._pending_path(stage).unlink(missing_ok=True)
        console.print(f"[green]{stage.name}[/] done in {wall:.1f} s (peak RSS {peak:.0f} MB)")
        return StageTiming(status="ran", reason=decision.reason, wall_s=wall, peak_rss_mb=peak)
