"""The tries table of experiments/teacher_tries (README.md has the rule): for each try's run folder, the tuned
model's win rate against the teacher by each evaluation judge, its judge-free correctness rates, and the
paired bootstrap difference of those rates and of the dodge rate (judge-free) against another try's tuned model
(same validation items): the `old` try's, or `--against NAME`'s.

    python experiments/teacher_tries/summarise.py runs/teacher_tries [-o experiments/teacher_tries/results.json]
    python experiments/teacher_tries/summarise.py runs/teacher_tries --against teacher-short   # teacher-no-openers' rule
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from socratic.evaluate.result import EvalReply
from socratic.evaluate.tutoring import reply_metrics
from socratic.judge.correctness import check_reply
from socratic.specs import RENAMED_JUDGE_KINDS
from socratic.store.jsonl import read_jsonl

TRIES = ("old", "teacher", "teacher-key", "teacher-key-pairs", "teacher-short", "teacher-pairs", "teacher-no-openers",
         "teacher-short-1round", "teacher-restated-reward", "teacher-restating-signals", "teacher-onpolicy",
         "teacher-onpolicy-restating", "teacher-mb1", "teacher-moves", "teacher-pairs-rpo")
JUDGES = ("learned", "rubric", "pairwise")
CHECKS = ("invents_number", "miscomputes", "dodge")


def reply_flags(reply: EvalReply) -> dict[str, int]:
    """check -> 1 where the reply fails it (CHECKS)."""
    found = check_reply(reply.dialogue, reply.reply)
    return {"invents_number": int(found.invents), "miscomputes": int(found.miscomputes),
            "dodge": int(bool(reply_metrics(reply.dialogue, reply.reply).dodge))}


def tuned_flags(folder: Path) -> dict[str, dict[str, int]]:
    """check -> item id -> 1 where the tuned model's reply fails it."""
    flags: dict[str, dict[str, int]] = {check: {} for check in CHECKS}
    for reply in read_jsonl(folder / "eval" / "replies.jsonl", EvalReply):
        if reply.model.startswith("tuned-"):
            for check, flag in reply_flags(reply).items():
                flags[check][reply.dialogue.id] = flag
    return flags


def paired_difference(a: dict[str, int], b: dict[str, int], seed: int = 0, n: int = 4000) -> dict[str, float]:
    ids = sorted(a.keys() & b.keys())
    diff = np.array([a[i] - b[i] for i in ids], dtype=float)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(n, len(diff)))].mean(axis=1)
    return {"diff": float(diff.mean()), "low": float(np.quantile(means, 0.025)),
            "high": float(np.quantile(means, 0.975)), "n": len(ids)}


def summarise(root: Path, against: str = "old") -> dict:
    out = {}
    baseline = tuned_flags(root / against) if (root / against / "eval").exists() else None
    for name in TRIES:
        folder = root / name
        if not (folder / "eval" / "evaluation.json").exists():
            continue
        evaluation = json.loads((folder / "eval" / "evaluation.json").read_text())
        row: dict = {"win_rate": {}, "base_win_rate": {}}
        for win in evaluation["teacher"]["win_rates"]:
            if win["items"] != "all":
                continue
            side = "win_rate" if win["model"].startswith("tuned-") else "base_win_rate"
            # runs from before the rename name the pairwise judge by its old name, `reward`
            row[side][RENAMED_JUDGE_KINDS.get(win["judge"], win["judge"])] = win["win_rate"]
        row["mean_win_rate"] = float(np.mean([row["win_rate"][j]["mean"] for j in JUDGES]))
        rates = {(r["metric"], r["model"]): r["rate"] for r in evaluation["tutoring"]["rates"]}
        row["tutoring"] = {metric: {model: rate["mean"] for (m, model), rate in rates.items() if m == metric}
                           for metric in ("asks_question", "dodge", "false_praise", "echo", "leak",
                                          "invents_number", "miscomputes", "as_student")}
        flags = tuned_flags(folder)
        row["correctness"] = {check: float(np.mean(list(flags[check].values()))) for check in CHECKS}
        if baseline is not None:
            row["vs_" + against] = {check: paired_difference(flags[check], baseline[check]) for check in CHECKS}
        timings = json.loads((folder / "timings.json").read_text()) if (folder / "timings.json").exists() else {}
        row["timings"] = timings
        out[name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("-o", "--out", type=Path)
    parser.add_argument("--against", default="old", help="the try whose tuned model the paired differences take")
    args = parser.parse_args()
    table = summarise(args.root, args.against)
    versus = "vs_" + args.against
    for name, row in table.items():
        wins = " / ".join(f"{row['win_rate'][j]['mean']:.2f}" for j in JUDGES)
        base = " / ".join(f"{row['base_win_rate'][j]['mean']:.2f}" for j in JUDGES)
        vs = "  ".join(f"{c} {row[versus][c]['diff']:+.2f} [{row[versus][c]['low']:+.2f}, "
                       f"{row[versus][c]['high']:+.2f}]" for c in CHECKS) if versus in row else ""
        print(f"{name:18} tuned vs teacher {wins} (mean {row['mean_win_rate']:.3f}); base {base}; "
              f"invents {row['correctness']['invents_number']:.2f} miscomputes {row['correctness']['miscomputes']:.2f}"
              f"; vs {args.against}: {vs}")
    if args.out:
        args.out.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
