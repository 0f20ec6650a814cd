"""The correctness rule of `rubric` (rubric_v7) and gate of `learned` (learned_v4), each with and without it,
on the teacher-vs-model pairs and the human labels (issue 36).

    nice -n 10 python experiments/teacher_rules_cv.py [--out experiments/teacher_rules_cv.json]

Self-contained: imports only socratic. Neither judge is fitted on the teacher pairs, so they are measured
on them as they are; the learned judge's human-label numbers are out of fold (5-fold CV grouped by problem,
`socratic.agreement.cv.fold_of`), the rubric's are in-sample on the socratic_llm dev 50 it was calibrated on
(as `socratic agreement` says). Measures: teacher-vs-model accuracy and the perturbation flips
(socratic.agreement.teacher_check), within-conversation human pairwise accuracy (socratic.agreement.ranking).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from socratic.agreement.cv import fold_of
from socratic.agreement.ranking import pairwise_accuracy
from socratic.agreement.teacher_check import measure
from socratic.judge.labels.human import group_key, training_items
from socratic.judge.labels.human_order import dialogue_key, human_preference
from socratic.judge.labels.teacher_vs_model import load_teacher_pairs
from socratic.judge.learned.features import featurize
from socratic.judge.learned.fit import fit_items
from socratic.judge.learned.judge import apply_gates, judge_notes
from socratic.judge.rubric.judge import score_reply, similarities
from socratic.records import Dialogue
from socratic.scores import expected_summary, summary_score

K = 5
STARTED = time.perf_counter()


def log(text: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {text}", file=sys.stderr, flush=True)


def rubric_values(items: list[tuple[Dialogue, str]], correctness: bool) -> list[float]:
    sims = similarities(items)
    return [summary_score(score_reply(d, r, s, correctness=correctness).scores) for (d, r), s in zip(items, sims,
                                                                                                     strict=True)]


def learned_values(model, X: np.ndarray, items: list[tuple[Dialogue, str]], gate: bool) -> list[float]:
    proba = model.predict(X)
    return [expected_summary(apply_gates(judge_notes(proba, i), r, d if gate else None)["expected"])
            for i, (d, r) in enumerate(items)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="experiments/teacher_rules_cv.json")
    args = parser.parse_args()
    labelled = training_items()
    pairs = load_teacher_pairs()
    keys = [dialogue_key(i.dialogue) for i in labelled]
    human = [human_preference(i.labels) for i in labelled]
    items = [(i.dialogue, i.reply) for i in labelled]
    log(f"featurizing {len(items)} labelled replies ...")
    X = featurize(items)
    folds = np.array([fold_of(group_key(i), K) for i in labelled])
    out: dict = {"protocol": __doc__, "n_items": len(labelled), "n_pairs": len(pairs), "judges": {}}
    for correctness in (False, True):
        name = f"rubric ({'v7: with' if correctness else 'v6: without'} the correctness rule)"
        block = measure(lambda texts, c=correctness: rubric_values([(pairs[n].dialogue, t) for n, t in texts], c),
                        pairs, n_boot=1000)
        block["pairwise_in_sample"] = pairwise_accuracy(keys, human, rubric_values(items, correctness), n_boot=1000)
        out["judges"][name] = block
        log(f"{name}: teacher {block['accuracy']['accuracy']:.3f}, pairwise {block['pairwise_in_sample']['accuracy']:.3f}"
            f", worst flip {block['perturbations']['worst_rate']:.3f}")
    full = fit_items(labelled, X=X)
    oof = {gate: np.full(len(labelled), np.nan) for gate in (False, True)}
    for fold in range(K):
        model = fit_items([i for i, f in zip(labelled, folds, strict=True) if f != fold], X=X[folds != fold])
        rows = np.flatnonzero(folds == fold)
        for gate in (False, True):
            oof[gate][rows] = learned_values(model, X[rows], [items[r] for r in rows], gate)
    for gate in (False, True):
        name = f"learned ({'v4: with' if gate else 'v3: without'} the made-up arithmetic gate)"

        def score(texts, g=gate):
            batch = [(pairs[n].dialogue, t) for n, t in texts]
            return learned_values(full, featurize(batch), batch, g)

        block = measure(score, pairs, n_boot=1000)
        block["pairwise_out_of_fold"] = pairwise_accuracy(keys, human, list(oof[gate]), n_boot=1000)
        out["judges"][name] = block
        log(f"{name}: teacher {block['accuracy']['accuracy']:.3f}, pairwise {block['pairwise_out_of_fold']['accuracy']:.3f}"
            f", worst flip {block['perturbations']['worst_rate']:.3f}")
    out["seconds"] = round(time.perf_counter() - STARTED, 1)
    with open(args.out, "w") as handle:
        json.dump(out, handle, indent=1)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
