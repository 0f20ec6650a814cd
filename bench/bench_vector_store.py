"""The judges' MiniLM vectors kept on disk (issue 40): what a second process saves, and that nothing moves.

    .venv/bin/python bench/bench_vector_store.py [--no-write]      # ~8 min on 2 cores

Two processes after one another on one fresh SOCRATIC_HOME, as `make demo` and then `socratic agreement` (or
cpu.yaml's run, or a `judge-train` with other settings) would: each fits the default judges (`learned`,
`pairwise`; `rubric` has no fit) and runs the agreement of `make demo` (its labels file, out-of-fold refits, the
dodge suite, the teacher pairs), counting the texts it hands to MiniLM. Two ways, each in its own fresh home:
`in-process` keeps vectors for the process only (before this change: socratic.judge.rubric.embedding's memory
without its disk layer), `on-disk` keeps them in the SQLite cache too (the shipped way). The agreement.json of the
two ways must be identical (all but its `config`, which names the output folder): a stored vector is the vector
computed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

WAYS = ("in-process", "on-disk")
COLUMNS = ["way", "process", "fit s", "agreement s", "texts embedded", "peak RSS MiB", "agreement sha1"]
LABELS = "src/socratic/datasets/socratic_llm/mathdial_human_eval_dev.json"


def worker(args) -> dict:
    from socratic.judge import files
    from socratic.judge.rubric import embedding
    from socratic.store.cache import NoCache

    if args.worker == "in-process":
        embedding._disk = NoCache
    counted = {"texts": 0}
    encoder = embedding.load_encoder()
    encode = encoder.encode

    def counting(texts, **options):
        counted["texts"] += len(texts)
        return encode(texts, **options)

    encoder.encode = counting
    from socratic.agreement import measure as agreement
    from socratic.store import paths

    for name in ("learned.json", "reward.json"):  # the second process refits too, as a judge-train would
        (paths.home() / "judges" / name).unlink(missing_ok=True)
    started = time.perf_counter()
    files.prepare_defaults(["learned", "rubric", "pairwise"])
    fitted = time.perf_counter()
    out = Path(args.out)
    agreement.run(agreement.AgreementConfig(labels=Path(LABELS), judges=["learned", "rubric", "pairwise"], out=out))
    done = time.perf_counter()
    return {"fit_s": fitted - started, "agreement_s": done - fitted, "texts": counted["texts"],
            "sha1": hashlib.sha1(json.dumps({k: v for k, v in json.loads((out / "agreement.json").read_text()).items()
                                             if k != "config"}, sort_keys=True).encode()).hexdigest()[:12]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--worker", choices=WAYS, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        common.write_worker_result(args.worker_out, worker(args))
        return 0
    rows = []
    digests = {}
    for way in WAYS:
        with tempfile.TemporaryDirectory(prefix="bench-vectors-") as home:
            for process in ("first", "second"):
                out = Path(home) / f"agreement-{process}"
                result, child = common.run_worker(Path(__file__), ["--worker", way, "--out", str(out)],
                                                  env={"SOCRATIC_HOME": home}, timeout=3600)
                rows.append([way, process, result["fit_s"], result["agreement_s"], result["texts"],
                             child.peak_rss_mib, result["sha1"]])
                digests.setdefault(process, set()).add(result["sha1"])  # the second reads judgments cached
                print(rows[-1], flush=True)
    same = all(len(found) == 1 for found in digests.values())
    notes = (f"Fresh SOCRATIC_HOME per way; each process refits `learned` and `pairwise` and runs `make demo`'s "
             f"agreement ({LABELS}). agreement.json identical across the two ways: **{'yes' if same else 'NO'}**.")
    common.finish("The judges' MiniLM vectors on disk: a second process (issue 40)", COLUMNS, rows, notes,
                  quick=False, no_write=args.no_write, quick_why="")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
