"""README.md's question, out of fold and then once on test.

    nice -n 10 python experiments/teacher_likeness/run.py      # writes results.json here
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tuned_negatives"))  # its test.py imports its cv.py
_spec = importlib.util.spec_from_file_location("tuned_negatives_test", HERE.parent / "tuned_negatives" / "test.py")
shipped_test = importlib.util.module_from_spec(_spec)  # the runs, the raters' session, win_rate
_spec.loader.exec_module(shipped_test)

from socratic.agreement.cv import fold_of
from socratic.agreement.teacher_check import flip_rates, teacher_accuracy
from socratic.evaluate.result import EvalReply
from socratic.judge.labels.perturb import PERTURBATIONS, perturb
from socratic.judge.labels.teacher_vs_model import TeacherPair, group_of, load_teacher_pairs, pair_rows
from socratic.judge.rubric.embedding import CONTEXT_TOKENS, MAX_TOKENS, embed
from socratic.judge.rubric.judge import dialogue_texts
from socratic.rate import analysis
from socratic.store.jsonl import read_jsonl

K, C = 5, 0.1


def columns(items: list[tuple]) -> np.ndarray:
    """[r, c * r] of (dialogue, reply) items."""
    replies = [reply.strip() or "(empty)" for _, reply in items]
    lasts = [dialogue_texts(dialogue)["last"].strip() or "(empty)" for dialogue, _ in items]
    r_vectors, c_vectors = embed(replies, MAX_TOKENS), embed(lasts, CONTEXT_TOKENS)
    r = np.stack([r_vectors[t] for t in replies])
    c = np.stack([c_vectors[t] for t in lasts])
    return np.hstack([r, c * r]).astype(np.float64)


class Utility:
    def __init__(self, better: np.ndarray, worse: np.ndarray):
        both = np.vstack([better, worse])
        self.mean, self.scale = both.mean(axis=0), both.std(axis=0) + 1e-8
        diffs = (better - worse) / self.scale
        model = LogisticRegression(C=C, fit_intercept=False, max_iter=5000)
        model.fit(np.vstack([diffs, -diffs]), np.r_[np.ones(len(diffs)), np.zeros(len(diffs))])
        self.w = model.coef_[0]

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.w


def main() -> None:
    pairs: list[TeacherPair] = load_teacher_pairs() + list(read_jsonl(HERE.parent / "tuned_negatives/tuned_pairs.jsonl",
                                                                       TeacherPair))
    rows = pair_rows(pairs)  # (pair, teacher, model)
    groups = [group_of(pairs[n]) for n, _, _ in rows]
    folds = np.array([fold_of(g, K) for g in groups])
    T = columns([(pairs[n].dialogue, t) for n, t, _ in rows])
    M = columns([(pairs[n].dialogue, m) for n, _, m in rows])
    # every perturbed text once, featurized in one call: (row, kind, side, text)
    perturbed = [(i, kind, side, changed) for i, (_, teacher, model) in enumerate(rows) for kind in PERTURBATIONS
                 for side in ("teacher", "model")
                 if (changed := perturb(kind, teacher if side == "teacher" else model, seed=i)) is not None]
    P = columns([(pairs[rows[i][0]].dialogue, text) for i, _, _, text in perturbed])
    perturbed_fold = np.array([folds[i] for i, _, _, _ in perturbed])
    teacher_u, model_u, perturbed_u = np.zeros(len(rows)), np.zeros(len(rows)), np.zeros(len(perturbed))
    for fold in range(K):
        held = folds == fold
        utility = Utility(T[~held], M[~held])
        teacher_u[held], model_u[held] = utility(T[held]), utility(M[held])
        perturbed_u[perturbed_fold == fold] = utility(P[perturbed_fold == fold])
    signs: dict[str, dict[str, list[tuple[int, int]]]] = {}
    for (i, kind, side, _), value in zip(perturbed, perturbed_u, strict=True):
        sign = np.sign(value - model_u[i]) if side == "teacher" else np.sign(teacher_u[i] - value)
        signs.setdefault(kind, {}).setdefault(side, []).append((i, int(sign)))
    by_model = {}
    for name in dict.fromkeys(p.model for p in pairs):
        index = [i for i, (n, _, _) in enumerate(rows) if pairs[n].model == name]
        by_model[name] = teacher_accuracy([groups[i] for i in index], list(teacher_u[index]), list(model_u[index]))
        print(f"out of fold: teacher > {name}: {by_model[name]['accuracy']:.3f} "
              f"[{by_model[name]['ci_low']:.3f}, {by_model[name]['ci_high']:.3f}]")
    flips = flip_rates([int(np.sign(t - m)) for t, m in zip(teacher_u, model_u, strict=True)], signs)
    worst = flips["worst_rate"]
    print(f"perturbation flips: worst {worst:.2f}")
    # once on test: fitted on all 708
    utility = Utility(T, M)
    result: dict = {"rule": "README.md", "out_of_fold": by_model, "flips": flips, "worst_flip": worst, "runs": {}}
    for run, folder in shipped_test.RUNS.items():
        replies = [r for r in read_jsonl(folder / "eval/replies.jsonl", EvalReply) if r.dataset == shipped_test.DATASET]
        values = utility(columns([(r.dialogue, r.reply) for r in replies]))
        scores = {(r.dialogue.id, r.model): float(v) for r, v in zip(replies, values, strict=True)}
        result["runs"][run] = {m: shipped_test.win_rate(scores, m) for m in shipped_test.MODELS}
        print(f"{run:11} win rate vs teacher: base {result['runs'][run]['base']:.2f}  "
              f"tuned {result['runs'][run][shipped_test.TUNED_MODEL]:.2f}")
        if run == "quickstart":
            _, rated, cells = shipped_test.rated_cells()
            row = analysis.judge_agreement("teacher-likeness", rated, {c: scores[cells[c]] for c in cells})
            result["raters"] = row.model_dump()
            print(f"raters Y/Z: Spearman {row.spearman:+.2f}, same order {row.pair_agreement:.0%} of {row.pairs}")
    (HERE / "results.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
