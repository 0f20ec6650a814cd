"""Benchmark: the quickstart end to end (`socratic run configs/quickstart.yaml`), per stage.

    .venv/bin/python bench/bench_e2e.py                  # the quickstart as shipped
    .venv/bin/python bench/bench_e2e.py --quick          # a shrunken copy (2 items per set, 8 tokens)
    .venv/bin/python bench/bench_e2e.py --config configs/other.yaml

Runs in a fresh run folder and a fresh SOCRATIC_CACHE (nothing reused from earlier runs), as a child
process; then reads RUN/timings.json for each stage's wall time and peak RSS. The whole run's wall
time and peak RSS are measured from outside as well (they include start-up and imports).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

from socratic.store.run_folder import TIMINGS, Timings

DEFAULT_CONFIG = common.ROOT / "configs" / "quickstart.yaml"


def shrink(config: dict) -> dict:
    """A tiny copy of a pipeline config: checks the benchmark runs, measures nothing."""
    import copy

    small = copy.deepcopy(config)
    for part in ("train", "test"):
        for item in small.get("datasets", {}).get(part, []):
            item["limit"] = 2
    small.setdefault("generate", {}).update(k=2, max_new_tokens=8, batch_dialogues=2)
    small.setdefault("training", {}).update(epochs=1, batch_size=1, grad_accum=1, max_length=256,
                                            max_prompt_length=192)
    if small.get("sft"):
        small["sft"].update(epochs=1, batch_size=1, grad_accum=1)
    small["pairs"] = {**small.get("pairs", {}), "min_chosen_score": 0.0, "min_margin": 0.0}  # 2 samples: any pair
    small.setdefault("evaluation", {}).update(max_new_tokens=8, n_resamples=200)
    small["report_examples"] = 1
    return small


SCORE_COLUMNS = ["model", "dataset", "n", "mean summary", "95% CI"]


def score_table(evaluation: dict | None) -> list[list]:
    """model x dataset mean summary with CI, for the first judge of the run's evaluation.json."""
    if not evaluation:
        return []
    judge = evaluation["judges"][0] if evaluation.get("judges") else None
    rows = []
    for entry in evaluation.get("results", []):
        if entry.get("judge") != judge:
            continue
        summary = entry.get("summary") or {}
        ci = (f"{summary['low']:.2f}-{summary['high']:.2f}" if summary.get("low") is not None else None)
        rows.append([entry["model"], entry["dataset"], entry.get("judged"), summary.get("mean"), ci])
    return rows


COLUMNS = ["stage", "status", "wall s", "share of total", "peak RSS MiB"]


def main(argv=None) -> int:
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shrunken config: checks the script, not the speed")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--keep", type=Path, help="keep the run folder here (default: a temporary folder)")
    parser.add_argument("--timeout", type=float, default=7200)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    try:
        config_path = args.config.resolve()
        if args.quick:
            config_path = tmp / "quick.yaml"
            config_path.write_text(yaml.safe_dump(shrink(yaml.safe_load(args.config.read_text()))))
        run_dir = args.keep.resolve() if args.keep else tmp / "run"
        if run_dir.exists():
            parser.error(f"{run_dir} exists; the benchmark needs a fresh run folder")
        socratic = Path(common.PYTHON).with_name("socratic")
        load = common.load_average()[0]
        print(f"socratic run {config_path.name} -o {run_dir} (fresh cache) ...", flush=True)
        child = common.run_child([str(socratic), "run", str(config_path), "-o", str(run_dir)],
                                 env={"SOCRATIC_CACHE": str(tmp / "cache.sqlite"), "HF_HUB_OFFLINE": "1"},
                                 timeout=args.timeout)
        if child.returncode != 0:
            print("\n".join(child.output.splitlines()[-40:]), file=sys.stderr)
            print(f"socratic run failed (exit {child.returncode})", file=sys.stderr)
            return 1
        timings = Timings.read(run_dir / TIMINGS)
        evaluation_path = run_dir / "eval" / "evaluation.json"
        evaluation = json.loads(evaluation_path.read_text()) if evaluation_path.exists() else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    total = timings.total_wall_s or child.wall_s
    rows = [[name, stage.status, stage.wall, (stage.wall_s or 0) / total if total else None, stage.peak]
            for name, stage in timings.stages.items()]
    rows.append(["total (timings.json)", "", total, 1.0, timings.peak_rss_mb])
    rows.append(["total (process, incl. start-up)", "", child.wall_s, child.wall_s / total if total else None,
                 child.peak_rss_mib])
    title = f"End to end: `socratic run {args.config.name}`{' (QUICK, shrunken)' if args.quick else ''}"
    common.print_table(title, COLUMNS, rows)
    notes = (f"Fresh run folder and fresh SOCRATIC_CACHE. Peak RSS per stage is the stage's own high-water "
             f"mark (stage_runner resets VmHWM between stages). Total {total / 60:.1f} min. "
             f"1-min load average {load:.1f} -> {common.load_average()[0]:.1f}.")
    score_rows = score_table(evaluation)
    if score_rows:
        common.print_table("Scores the run produced", SCORE_COLUMNS, score_rows)
        notes += ("\n\nScores this run produced (mean summary, uniform formula, 95% bootstrap CI; judge "
                  f"{evaluation['judges'][0]}):\n\n" + common.markdown_table(SCORE_COLUMNS, score_rows))
    common.finish(title, COLUMNS, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="shrunken config; not a measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
