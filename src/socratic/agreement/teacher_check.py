"""Does a judge know a teacher from a tutor? Teacher-vs-model accuracy and the perturbation check (issue 36).

    from socratic.agreement.teacher_check import teacher_block
    block = teacher_block(judge, load_teacher_pairs(), folds=5)   # what `socratic agreement` adds per judge

On the shipped teacher-vs-model pairs (socratic.judge.labels.teacher_vs_model: the real teacher's next turn in a
TRAINING dialogue and the embedded model's replies to the same context):
- accuracy: the share of (teacher turn, model reply) comparisons where the judge's summary is higher for
  the teacher's turn (a tie counts one half); 95% CI by a percentile bootstrap over problems (seeded). A
  judge that learned from these pairs (`learns_from_teacher`) is scored out of fold: grouped k-fold by
  problem, each pair judged by a refit that never saw a reply to its problem (labelled, dodge or teacher);
  any other judge is scored as it is (it never saw them).
- perturbations: each side of every comparison is perturbed in turn (socratic.judge.labels.perturb: case changed,
  typos added or fixed, a neutral sentence added or removed) and the share of comparisons whose preference
  (teacher better, worse, or a tie) changes is reported per perturbation and side. Target: <= 5% each.
A failed judgment loses its comparison (counted, not dropped silently).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from socratic.records import Dialogue
from socratic.scores import Formula, judgment_summary

FLIP_TARGET = 0.05
ACCURACY_TARGET = 0.90  # issue 36: the teacher's turn over the base model's in >= 90% of held-out items
SIDES = ("teacher", "model")


def _sign(a: float | None, b: float | None) -> int | None:
    if a is None or b is None:
        return None
    return 0 if abs(a - b) < 1e-12 else (1 if a > b else -1)


def teacher_accuracy(groups: Sequence[str], teacher: Sequence[float | None], model: Sequence[float | None],
                     n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Share of comparisons the teacher's turn wins (tie = 1/2; a failed judgment = a loss), with a
    bootstrap CI over groups."""
    points = np.array([{1: 1.0, 0: 0.5, -1: 0.0, None: 0.0}[_sign(t, m)] for t, m in zip(teacher, model, strict=True)])
    failed = sum(t is None or m is None for t, m in zip(teacher, model, strict=True))
    out: dict[str, Any] = {"n": len(points), "failed": failed, "accuracy": None, "ci_low": None, "ci_high": None,
                           "ties": int(sum(_sign(t, m) == 0 for t, m in zip(teacher, model, strict=True))),
                           "groups": len(set(groups)), "target": ACCURACY_TARGET,
                           "bootstrap": {"over": "problems", "n_resamples": n_boot, "seed": seed}}
    if not len(points):
        return out
    out["accuracy"] = float(points.mean())
    keys = sorted(set(groups))
    if n_boot > 0 and len(keys) >= 2:
        index = {g: i for i, g in enumerate(keys)}
        sums = np.zeros(len(keys))
        counts = np.zeros(len(keys))
        np.add.at(sums, [index[g] for g in groups], points)
        np.add.at(counts, [index[g] for g in groups], 1)
        draws = np.random.default_rng(seed).integers(0, len(keys), size=(n_boot, len(keys)))
        values = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
        out["ci_low"], out["ci_high"] = float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))
    return out


def flip_rates(base: Sequence[int | None], perturbed: dict[str, dict[str, list[tuple[int, int | None]]]],
               target: float = FLIP_TARGET) -> dict[str, Any]:
    """base: the preference sign per comparison; perturbed[kind][side]: (comparison, sign after perturbing that
    side) where the perturbation applies. A flip: the sign differs (a failed judgment counts as a flip)."""
    out: dict[str, Any] = {"target": target, "kinds": {}}
    worst = 0.0
    for kind, sides in perturbed.items():
        block: dict[str, Any] = {}
        for side in SIDES:
            cases = sides.get(side, [])
            flips = sum(sign is None or sign != base[row] for row, sign in cases)
            rate = flips / len(cases) if cases else None
            block[side] = {"cases": len(cases), "flips": flips, "rate": rate}
            worst = max(worst, rate or 0.0)
        out["kinds"][kind] = block
    out["worst_rate"] = worst
    out["meets_target"] = worst <= target
    return out


def comparisons(pairs: Sequence[Any]) -> list[tuple[int, str, str]]:
    """(pair index, teacher turn, model reply) of every pair (socratic.judge.labels.teacher_vs_model.pair_rows)."""
    from socratic.judge.labels.teacher_vs_model import pair_rows

    return pair_rows(list(pairs))


def measure(score: Callable[[list[tuple[int, str]]], list[float | None]], pairs: Sequence[Any],
            n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Accuracy and flips for a scorer of (pair index, reply) texts (each text scored once)."""
    from socratic.judge.labels.perturb import PERTURBATIONS, perturb
    from socratic.judge.labels.teacher_vs_model import group_of

    rows = comparisons(pairs)
    wanted: dict[tuple[int, str], None] = {}
    perturbed: dict[str, dict[str, list[tuple[int, str, str]]]] = {}  # kind -> side -> (row, new teacher, new model)
    for row, (n, teacher, model) in enumerate(rows):
        wanted.update({(n, teacher): None, (n, model): None})
        for kind in PERTURBATIONS:
            for side in SIDES:
                changed = perturb(kind, teacher if side == "teacher" else model, seed=row)
                if changed is None:
                    continue
                new = (changed, model) if side == "teacher" else (teacher, changed)
                perturbed.setdefault(kind, {}).setdefault(side, []).append((row, *new))
                wanted[(n, changed)] = None
    texts = list(wanted)
    values = dict(zip(texts, score(texts), strict=True))
    base = [_sign(values[(n, t)], values[(n, m)]) for n, t, m in rows]
    groups = [group_of(pairs[n]) for n, _, _ in rows]
    signs = {kind: {side: [(row, _sign(values[(rows[row][0], t)], values[(rows[row][0], m)]))
                           for row, t, m in cases] for side, cases in sides.items()}
             for kind, sides in perturbed.items()}
    return {"pairs": len({n for n, _, _ in rows}),
            "accuracy": teacher_accuracy(groups, [values[(n, t)] for n, t, _ in rows],
                                         [values[(n, m)] for n, _, m in rows], n_boot, seed),
            "perturbations": flip_rates(base, signs)}


def learns_from_teacher(judge: Any) -> bool:
    """A judge fitted on the teacher pairs (scored on them out of fold)."""
    from socratic.judge.pairwise.judge import PairwiseJudge

    return isinstance(judge, PairwiseJudge) and judge.model.config.teacher_weight > 0


def _scorer(judge_of: Callable[[int], Any], pairs: Sequence[Any],
            formula: Formula) -> Callable[[list[tuple[int, str]]], list[float | None]]:
    """Scores (pair index, reply) texts, each with the judge `judge_of(pair index)` gives."""
    def score(texts: list[tuple[int, str]]) -> list[float | None]:
        out: list[float | None] = [None] * len(texts)
        by_judge: dict[int, tuple[Any, list[int]]] = {}
        for i, (n, _) in enumerate(texts):
            judge = judge_of(n)
            by_judge.setdefault(id(judge), (judge, []))[1].append(i)
        for judge, rows in by_judge.values():
            items: list[tuple[Dialogue, str]] = [(pairs[texts[i][0]].dialogue, texts[i][1]) for i in rows]
            for i, judgment in zip(rows, judge.judge_many(items), strict=True):
                out[i] = judgment_summary(judgment, formula)
        return out
    return score


def _fold_judges(judge: Any, pairs: Sequence[Any], k: int) -> dict[int, Any]:
    """fold -> a refit of the pairwise judge without any training row of that fold's problems."""
    from socratic.agreement.cv import fold_of
    from socratic.judge.labels.human import training_items
    from socratic.judge.labels.teacher_vs_model import group_of
    from socratic.judge.pairwise import fit as pairwise_fit
    from socratic.judge.pairwise import judge as pairwise_judge
    from socratic.store.cache import NoCache

    data = pairwise_fit.training_data(training_items(), judge.model.config, teacher=pairs)
    out = {}
    for fold in range(k):
        held = {group_of(p) for p in pairs if fold_of(group_of(p), k) == fold}
        keep = np.flatnonzero([g not in held for g in data.groups])
        model = pairwise_fit.fit(data, judge.model.config, keep)
        out[fold] = pairwise_judge.PairwiseJudge(cache=NoCache(), model=model, name=judge.spec)
    return out


def teacher_block(judge: Any, pairs: Sequence[Any], folds: int = 5, formula: Formula = "uniform",
                  n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The teacher-vs-model accuracy and the perturbation flips of one judge (see module doc)."""
    from socratic.agreement.cv import fold_of
    from socratic.judge.labels.teacher_vs_model import group_of

    if not pairs:
        return {"pairs": 0, "note": "no teacher-vs-model pairs to check"}
    if learns_from_teacher(judge):
        fold_judges = _fold_judges(judge, pairs, folds)
        folds_of = [fold_of(group_of(p), folds) for p in pairs]
        block = measure(_scorer(lambda n: fold_judges[folds_of[n]], pairs, formula), pairs, n_boot, seed)
        block["protocol"] = (f"out of fold: {folds}-fold CV grouped by problem, each pair judged by a refit "
                             "that never saw its problem")
    else:
        block = measure(_scorer(lambda n: judge, pairs, formula), pairs, n_boot, seed)
        block["protocol"] = "as it is: the judge was not fitted on these pairs"
    return block
