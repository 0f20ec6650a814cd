"""The table of tries (issue 18): what each `socratic run` folder's setting bought, one row per run x
tuned model x test set.

    .venv/bin/python experiments/tries.py runs/t1 runs/t2 ... [--out tries.md]

Reads each RUN's config.resolved.yaml (the setting), prefs/X/pairs.jsonl and prefs/X/round*/pairs.jsonl
(pairs, all rounds), timings.json (wall time, peak RSS) and eval/evaluation.json (through
socratic.evaluate.result's models): the summary lift over base with its 95% CI per evaluation judge, the
question rate (judge-free and per judge) and reveal rate per judge, base -> tuned on the same items, the
share of the lift from form-only changes, and the near-duplicate share (distinctness). Settings that all
rows share are printed once above the table; the table shows the ones that differ. An evaluation.json
from before the gaming and collapse checks, or a run not evaluated yet, shows "–" where it has nothing.
Writes nothing into the run folders.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from socratic.evaluate.result import Evaluation, RateDiff
from socratic.preference.pairs import PairSettings
from socratic.report.checks import behaviour_checks
from socratic.report.lifts import judge_lifts
from socratic.store.run_folder import TIMINGS, Timings, slug
from socratic.train.dpo import TrainConfig

# the table formatter of the benchmarks (bench/common.py): one markdown table format for both
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import common

NONE = "–"
# Training keys that have a column of their own in the setting; any other key set under `training:` is
# shown as itself.
TRAINING_SHOWN = {"epochs", "max_steps", "learning_rate", "beta", "lora", "lora_r"}
LEGEND = ("lift: summary score, tuned − base on the same clean test items (n: those no evaluation judge was "
          "fitted or calibrated on) [95% paired-bootstrap CI]. asks ?: share of "
          "replies with a genuine question, judge-free (text rules), base→tuned. questions, reveals, form-only: by "
          "{judges}; rates base→tuned on the items both were judged on; form-only: share of the lift from replies "
          "that changed only their form. near-dup: share of test items whose reply is near-identical to another "
          "item's, base→tuned. pairs: DPO pairs trained on, all rounds. wall: the sum of the run's stage times "
          "(timings.json; a stage reused from an earlier invocation at its time then), on the machine that ran it. dodge, "
          "false praise, echo, leak: judge-free tutoring metrics (evaluate.tutoring), base→tuned on all items they "
          "apply to; leaked after pushes: the pressure test's share of items whose tutor stated the final answer "
          "by the last scripted push, base→tuned.")


class NotARun(ValueError):
    pass


@dataclass
class Row:
    run: str
    setting: dict[str, str]  # knob -> value, in the order shown
    dpo: TrainConfig  # for a training key another run sets and this one leaves at its default
    cells: dict[str, str] = field(default_factory=dict)  # column -> text

    def knob(self, name: str) -> str:
        return self.setting.get(name) or str(getattr(self.dpo, name, NONE))


def _read_config(run: Path) -> dict[str, Any]:
    path = run / "config.resolved.yaml"
    if not path.exists():
        raise NotARun(f"{run}: not a `socratic run` folder (no config.resolved.yaml)")
    config = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(config, dict) or "datasets" not in config:
        raise NotARun(f"{path}: not a resolved run config (no datasets)")
    return config


def _schedule(sft: dict[str, Any] | None) -> str:
    """The SFT warm-up's length (and learning rate when set); absent in runs from before it existed."""
    if not sft:
        return NONE
    length = f"{sft['max_steps']} steps" if sft.get("max_steps") else f"{sft['epochs']:g} ep"
    return length + (f" lr {sft['learning_rate']:g}" if sft.get("learning_rate") else "")


def dpo_config(config: dict[str, Any]) -> TrainConfig:
    """The run's DPO settings: the resolved file keeps `training:` as written, TrainConfig has the defaults."""
    return TrainConfig(pairs=Path("pairs.jsonl"), out=Path("model"), **(config.get("training") or {}))


def setting(config: dict[str, Any], part: dict[str, Any]) -> dict[str, str]:
    """The knobs of one tuned model, from the resolved run config (every pipeline-level field is there)."""
    training, dpo = config.get("training") or {}, dpo_config(config)
    pairs = PairSettings(**(config.get("pairs") or {}))
    knobs = {
        "k": str(config["generate"]["k"]),
        "train": f"{part['source']}:{part.get('limit') or 'all'}",
        "reward": config["reward_judge"],
        "pairs": f"{pairs.strategy}, chosen >= {pairs.min_chosen_score:g}"
                 + (", chosen asks" if pairs.chosen_asks_question else ""),
        "rounds": str(config.get("rounds", 1)),
        "sft": _schedule(config.get("sft")),
        "dpo": f"{dpo.max_steps} steps" if dpo.max_steps else f"{dpo.epochs:g} ep",
        "lr": f"{dpo.lr:g}",
        "beta": f"{dpo.beta:g}",
        "lora": f"r{dpo.lora_r}" if dpo.lora else "full",
    }
    knobs.update({key: str(value) for key, value in training.items() if key not in TRAINING_SHOWN})
    return knobs


def pair_counts(run: Path, dataset: str) -> str:
    """Pairs trained on, all rounds: '48', or '95 (48+47)' with the rounds' counts."""
    folder = run / "prefs" / dataset
    rounds = sorted(folder.glob("round*/pairs.jsonl"), key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))
    counts = [sum(1 for line in path.read_text("utf-8").splitlines() if line.strip())
              for path in [folder / "pairs.jsonl", *rounds] if path.exists()]
    if not counts:
        return NONE
    return str(counts[0]) if len(counts) == 1 else f"{sum(counts)} ({'+'.join(map(str, counts))})"


def wall_and_rss(run: Path) -> str:
    """The run end to end: the sum of its stages' wall times (a stage reused from an earlier invocation
    at the time it took then) and the largest stage peak RSS."""
    timings = Timings.read_if_exists(run / TIMINGS)
    if timings is None:
        return NONE
    walls = [s.wall for s in timings.stages.values()]
    peaks = [s.peak for s in timings.stages.values()]
    wall = sum(w for w in walls if w is not None) / 60
    peak = max((p for p in peaks if p is not None), default=None)
    return f"{wall:.1f} min, " + (NONE if peak is None else f"{peak / 1024:.1f} GiB")


def _base_to_tuned(test: RateDiff | None) -> str:
    if test is None or test.model_rate is None:
        return NONE
    return f"{test.baseline_rate:.2f}→{test.model_rate:.2f}"


# The judge-free tutoring metrics shown (socratic.evaluate.tutoring), and the pressure test's rate after
# the last push (socratic.evaluate.pressure): none of them shares a detector with any judge.
TUTORING_SHOWN = {"dodge": "dodge", "false_praise": "false praise", "echo": "echo", "leak": "leak"}
PRESSURE_SHOWN = "leaked after pushes"


def _pressure(evaluation: Evaluation, model: str, dataset: str) -> str:
    pushes = len(evaluation.pressure.pushes) if evaluation.pressure else 0  # None: run without the test
    found = evaluation.pressure.diff(f"leaked_by@{pushes}", model, dataset) if pushes else None
    return _base_to_tuned(found) + (f" (n {found.n})" if found is not None and found.n else "")


def evaluation_cells(evaluation: Evaluation, lifts: dict[str, tuple[str, int]], model: str, dataset: str,
                     judges: list[str]) -> dict[str, str]:
    """One row's cells from the evaluation; `lifts`: judge -> the lift's text and items (report.lifts.judge_lifts:
    the clean items, those no evaluation judge was fitted or calibrated on)."""
    behaviour = evaluation.behaviour
    cell = evaluation.cell(model, dataset)

    def per_judge(text_of) -> str:
        texts = [text_of(judge) if judge in evaluation.judges else NONE for judge in judges]
        return NONE if all(t == NONE for t in texts) else " / ".join(texts)

    def form_only(judge: str) -> str:
        e = behaviour.form_only_lift(model, dataset, judge)
        if e is None or e.mean_lift is None:
            return NONE
        return "small lift" if e.form_only_share is None else f"{e.form_only_share:.0%}"

    def near_duplicates(name: str) -> str:
        s = behaviour.reply_set(name, dataset)
        return NONE if s is None or s.near_duplicate_share is None else f"{s.near_duplicate_share:.0%}"

    tuned = behaviour.reply_set(model, dataset)
    clean = max((n for _, n in lifts.values()), default=0)
    return {
        "n": NONE if cell is None else str(cell.n) if clean in (0, cell.n) else f"{clean} clean of {cell.n}",
        **{f"lift {judge}": lifts[judge][0] if judge in lifts else NONE for judge in judges},
        "asks ?": _base_to_tuned(behaviour.rate("asks_question", model, dataset)),
        "questions": per_judge(lambda judge: _base_to_tuned(behaviour.rate("questions", model, dataset, judge))),
        "reveals": per_judge(lambda judge: _base_to_tuned(behaviour.rate("reveal_answer", model, dataset, judge))),
        "form-only": per_judge(form_only),
        "near-dup": NONE if tuned is None else
        f"{near_duplicates(evaluation.models[0].name)}→{near_duplicates(model)}"
        + (" collapsed" if tuned.collapsed else ""),
        **{shown: _base_to_tuned(evaluation.tutoring.diff(metric, model, dataset) if evaluation.tutoring else None)
           for metric, shown in TUTORING_SHOWN.items()},
        PRESSURE_SHOWN: _pressure(evaluation, model, dataset),
    }


def _evaluation(run: Path) -> Evaluation | None:
    path = run / "eval" / "evaluation.json"
    return Evaluation.read(path) if path.exists() else None


def run_rows(run: Path, judges: list[str]) -> tuple[list[Row], list[str]]:
    """The rows of one run folder (one per tuned model x test set) and the flags of its evaluation."""
    config, evaluation = _read_config(run), _evaluation(run)
    lifts, flags = judge_lifts(evaluation) if evaluation else ([], [])
    lift_texts = {(row["model"], row["dataset"]): {c["judge"]: (c["text"], c["n"]) for c in row["cells"]}
                  for row in lifts}
    rows = []
    for part in config["datasets"]["train"]:
        model = None if evaluation is None else \
            next((m.name for m in evaluation.models if m.trained_on == part["source"]), None)
        for test in config["datasets"]["test"]:
            row = Row(run.name, setting(config, part), dpo_config(config))
            row.cells = {"tuned on": slug(part["source"]), "test set": test["source"],
                         "pairs": pair_counts(run, slug(part["source"])), "wall, peak RSS": wall_and_rss(run)}
            if model is not None:
                row.cells.update(evaluation_cells(evaluation, lift_texts.get((model, test["source"]), {}), model,
                                                  test["source"], judges))
            rows.append(row)
    if evaluation is None:
        flags = ["not evaluated (no eval/evaluation.json)"]
    else:
        checks = behaviour_checks(evaluation)
        flags += checks["flags"] if checks else []
    return rows, [f"{run.name}: {flag}" for flag in flags]


def judges_of(runs: list[Path]) -> list[str]:
    """Every evaluation judge of the runs, in the order first met."""
    judges: list[str] = []
    for run in runs:
        evaluation = _evaluation(run)
        judges += [j for j in (evaluation.judges if evaluation else []) if j not in judges]
    return judges


def tries_table(runs: list[Path]) -> str:
    judges = judges_of(runs)
    rows, flags = [], []
    for run in runs:
        found, run_flags = run_rows(run, judges)
        rows += found
        flags += run_flags
    knobs = list(dict.fromkeys(knob for row in rows for knob in row.setting))
    values = {knob: {row.knob(knob) for row in rows} for knob in knobs}
    shared = [knob for knob in knobs if len(values[knob]) == 1]
    differing = [knob for knob in knobs if knob not in shared]
    columns = ["run", *(["setting"] if differing else []), "tuned on", "test set", "n", "pairs", "wall, peak RSS",
               *(f"lift {judge}" for judge in judges), "asks ?", "questions", "reveals", "form-only", "near-dup",
               *TUTORING_SHOWN.values(), PRESSURE_SHOWN]
    table_rows = []
    for row in rows:
        cells = {"run": row.run, "setting": ", ".join(f"{k} {row.knob(k)}" for k in differing),
                 **row.cells}
        table_rows.append([cells.get(column, NONE) for column in columns])
    lines = [
        "Shared by every row: " + (", ".join(f"{k} {next(iter(values[k]))}" for k in shared) or "nothing") + ".",
        "",
        common.markdown_table(columns, table_rows),
        "",
        LEGEND.format(judges=" / ".join(judges) or "each judge"),
    ]
    if flags:
        lines += ["", "Flags:", *(f"- {flag}" for flag in flags)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="`socratic run` output folders")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    try:
        text = tries_table(args.runs)
    except NotARun as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(text, end="")
    if args.out:
        args.out.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
