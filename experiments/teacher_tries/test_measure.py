"""The judge-free part of a try's test measurement (README.md, the rule for `teacher-restating-signals` on test):
on one merged sheet's replies (merge_replies.py), each source's invented-number, false-computation and dodge rates,
the paired bootstrap difference of one source against another, and each evaluation judge's win rate against the
teacher as the evaluations reported it.

    python experiments/teacher_tries/test_measure.py runs/teacher_tries/test-merged-restating restating short \
        --evaluation restating=runs/teacher_tries/test-eval-restating \
        --evaluation short=runs/teacher_tries/test-eval-short -o experiments/teacher_tries/results-test-restating.json

Without `--evaluation`, the win rates are computed from the merged judgments on the sheet's own items (for runs that
evaluated more items than the sheet has, e.g. cpu.yaml's 100 `mathdial-raw` items against the quickstart's 40).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from summarise import CHECKS, JUDGES, paired_difference, reply_flags

from socratic.evaluate.result import EvalReply
from socratic.evaluate.teacher import TEACHER, summarize_teacher
from socratic.scores import Judgment
from socratic.specs import RENAMED_JUDGE_KINDS
from socratic.store.jsonl import read_jsonl


def flags_by_source(folder: Path, dataset: str | None = None) -> dict[str, dict[str, dict[str, int]]]:
    """source -> check -> item id -> 1 where that source's reply fails the check (only `dataset`'s items if given)."""
    flags: dict[str, dict[str, dict[str, int]]] = {}
    for reply in read_jsonl(folder / "replies.jsonl", EvalReply):
        if dataset and reply.dataset != dataset:
            continue
        row = flags.setdefault(reply.model, {check: {} for check in CHECKS})
        for check, flag in reply_flags(reply).items():
            row[check][reply.dialogue.id] = flag
    return flags


def win_rates(evaluation: Path, model: str) -> dict[str, dict]:
    """judge -> the model's win rate against the teacher on all items, as its evaluation.json has it."""
    payload = json.loads((evaluation / "evaluation.json").read_text())
    return {RENAMED_JUDGE_KINDS.get(win["judge"], win["judge"]): win["win_rate"]
            for win in payload["teacher"]["win_rates"] if win["items"] == "all" and win["model"] == model}


def merged_win_rates(merged: Path) -> dict[str, dict[str, dict]]:
    """source -> judge -> win rate against the teacher on the merged sheet's items (its judgments.jsonl)."""
    judgments = list(read_jsonl(merged / "judgments.jsonl", Judgment))
    models = sorted({j.meta["model"] for j in judgments} - {TEACHER})
    datasets = sorted({j.meta["dataset"] for j in judgments if j.meta["model"] == TEACHER})
    anchor = summarize_teacher(judgments, models=models, datasets=datasets, judges=JUDGES)
    table: dict[str, dict[str, dict]] = {}
    for win in anchor.win_rates if anchor else []:
        if win.items == "all":
            table.setdefault(win.model, {})[win.judge] = win.win_rate.model_dump()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("merged", type=Path)
    parser.add_argument("source")
    parser.add_argument("against")
    parser.add_argument("--evaluation", action="append", default=[], help="NAME=FOLDER: the evaluation of a source")
    parser.add_argument("--dataset", help="only this test set's items (a merge of whole runs holds several)")
    parser.add_argument("-o", "--out", type=Path)
    args = parser.parse_args()
    flags = flags_by_source(args.merged, args.dataset)
    table = {"rates": {source: {check: float(np.mean(list(row[check].values()))) for check in CHECKS}
                       for source, row in flags.items()},
             "difference": {check: paired_difference(flags[args.source][check], flags[args.against][check])
                            for check in CHECKS},
             "win_rate": {name: win_rates(Path(folder), name)
                          for name, folder in (spec.split("=", 1) for spec in args.evaluation)}
             if args.evaluation else merged_win_rates(args.merged)}
    for source, rates in table["rates"].items():
        print(f"{source:10} " + "  ".join(f"{check} {rate:.2f}" for check, rate in rates.items()))
    print(f"{args.source} - {args.against}: " + "  ".join(
        f"{check} {d['diff']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]" for check, d in table["difference"].items()))
    for name, wins in table["win_rate"].items():
        print(f"{name:10} vs teacher " + " / ".join(f"{judge} {wins[judge]['mean']:.2f}" for judge in JUDGES if judge in wins))
    if args.out:
        args.out.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
