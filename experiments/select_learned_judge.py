"""Choose the learned judge's features and regularisation by grouped CV; report once on a held-out part.

    flock /tmp/socratic-heavy.lock .venv/bin/python experiments/select_learned_judge.py [--heldout] [--out FILE]

Protocol (fixed before any result was looked at):
- items: the socratic_llm human-eval dev 50 + MRBench V2 dev + BEA 2025 dev, deduplicated
  (`socratic.judge.labels.human.training_items`); group = problem (else conversation), `group_key`;
- held-out part: sha1("holdout:" + group) % 5 == 0, for every source; it is not touched by the selection;
- selection: 5-fold grouped CV (folds by `socratic.agreement.cv.fold_of`) on the rest, over the
  variants in VARIANTS; the variant with the best mean ratio to the targets wins (TARGETS; each ratio
  capped at 1.5);
- --heldout: fit the chosen variant on the whole non-held-out part and score the held-out part once,
  next to the '?' baseline and the rubric on the same items.
- --guidance-cuts: no held-out part: would cuts on E[helpful] chosen inside each CV fold (by an inner
  grouped CV on the fold's training part) raise the Providing_Guidance macro-F1 of the default judge
  over the fixed cuts 2 / 4 (`three_levels`)? Selection part only.
- --rubric-only: no learned judge: the rubric (whatever RUBRIC_VERSION is installed) and the '?' baseline
  on the selection part and on the held-out part, to re-measure a changed rubric on the same items.
Every figure comes with a 95% percentile bootstrap CI over groups (1000 resamples, seed 0).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace

import numpy as np
from scipy import stats
from sklearn.metrics import cohen_kappa_score, f1_score

from socratic.agreement.cv import fold_of
from socratic.judge.labels.human import group_key, source_of, targets, training_items
from socratic.judge.learned.features import featurize
from socratic.judge.learned.fit import DEFAULT_FIT, FitConfig, expected_values, fit, three_levels
from socratic.scores import CRITERIA

# The first 10: every head on every column (learned_v1's grid). Then the `questions` head restricted to
# the question signals with coefficients >= 0 (issue 17, second round), on each PCA variant and with its own
# regularisation; one variant with level-balanced `helpful` weights (for the Providing_Guidance macro-F1).
_PCA = [FitConfig(features="pca", pca_dims=d, c=c, socratic_weight=5.0, questions_head="all")
        for d in (8, 16, 32) for c in (0.05, 0.2)]
_QUESTIONS = FitConfig(features="pca", pca_dims=32, c=0.2, socratic_weight=5.0, questions_head="question_signals")
VARIANTS = ([FitConfig(features="signals", c=c, socratic_weight=w, questions_head="all")
             for c in (0.05, 0.2) for w in (1.0, 5.0)]
            + _PCA + [replace(base, questions_head="question_signals") for base in _PCA]
            + [replace(_QUESTIONS, questions_c=qc) for qc in (0.05, 1.0)]
            + [replace(_QUESTIONS, balanced_helpful=True)])
TARGETS = {"summary_pearson": 0.80, "questions_accuracy": 0.92, "reveal_kappa": 0.60,
           "guidance_spearman": 0.45, "guidance_macro_f1": 0.55}


def held_out(group: str) -> bool:
    return int(hashlib.sha1(("holdout:" + group).encode()).hexdigest(), 16) % 5 == 0


def protocol_items():
    """The items, their groups, sources and labels, and the selection / held-out row indices."""
    items = training_items()
    groups = np.array([group_key(i) for i in items])
    src = np.array([source_of(i) for i in items])
    hold = np.array([held_out(g) for g in groups])
    return items, groups, src, targets(items), np.flatnonzero(~hold), np.flatnonzero(hold)


def write_result(result: dict, out: str | None) -> None:
    """The result as JSON on stdout, and into `out` when given."""
    text = json.dumps(result, indent=1)
    print(text)
    if out:
        with open(out, "w") as file:
            file.write(text)


def elapsed_log():
    """A logger to stderr that prefixes the seconds since it was made."""
    started = time.perf_counter()

    def log(text: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {text}", file=sys.stderr, flush=True)

    return log


def uniform_summary(q, r, t, h):
    return (q + (1 - r) + (t - 1) / 4 + (h - 1) / 4) / 4


def metrics(pred: dict[str, np.ndarray], y: dict[str, np.ndarray], src: np.ndarray, index: np.ndarray) -> dict:
    """Target metrics over the rows `index` (pred: P(yes) / E[level] or 0/1 / levels)."""
    out = {}
    soc = index[src[index] == "socratic_llm"]
    mrb = index[src[index] == "mrbench"]
    if len(soc) >= 3:
        human = uniform_summary(y["questions"][soc], y["reveal_answer"][soc], y["on_topic"][soc], y["helpful"][soc])
        judge = uniform_summary(pred["questions"][soc], pred["reveal_answer"][soc], pred["on_topic"][soc],
                                pred["helpful"][soc])
        out["summary_pearson"] = _safe(stats.pearsonr, human, judge)
        out["questions_accuracy"] = float(np.mean((pred["questions"][soc] >= 0.5) == (y["questions"][soc] == 1)))
    rev = mrb[~np.isnan(y["reveal_answer"][mrb])]
    if len(rev):
        out["reveal_kappa"] = float(cohen_kappa_score(y["reveal_answer"][rev], pred["reveal_answer"][rev] >= 0.5))
    pg = mrb[~np.isnan(y["helpful"][mrb])]
    if len(pg):
        out["guidance_spearman"] = _safe(stats.spearmanr, y["helpful"][pg], pred["helpful"][pg])
        out["guidance_macro_f1"] = float(f1_score(y["helpful"][pg], three_levels(pred["helpful"][pg]),
                                                  average="macro", labels=[1, 3, 5]))
    coh = mrb[~np.isnan(y["on_topic"][mrb])]
    if len(coh):
        out["coherence_spearman"] = _safe(stats.spearmanr, y["on_topic"][coh], pred["on_topic"][coh])
    return out


def _safe(fn, a, b) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(fn(a, b)[0])


def with_ci(pred, y, src, groups, index, n_boot=1000, seed=0) -> dict:
    """Point estimates and 95% percentile CIs from a bootstrap over groups."""
    point = metrics(pred, y, src, index)
    by_group: dict[str, list[int]] = {}
    for i in index:
        by_group.setdefault(groups[i], []).append(i)
    names = list(by_group)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(n_boot):
        pick = rng.integers(0, len(names), len(names))
        sample = np.array([i for g in pick for i in by_group[names[g]]])
        for k, v in metrics(pred, y, src, sample).items():
            if np.isfinite(v):
                draws[k].append(v)
    return {k: {"estimate": round(v, 3) if np.isfinite(v) else None,
                "ci": [round(float(np.percentile(draws[k], q)), 3) for q in (2.5, 97.5)]
                if np.isfinite(v) and len(draws[k]) >= n_boot // 2 else None}
            for k, v in point.items()}


def predict(model, X) -> dict[str, np.ndarray]:
    return expected_values(model.predict(X))


def cross_validate(config: FitConfig, X, y, src, groups, index, k=5) -> dict[str, np.ndarray]:
    """Out-of-fold predictions for the rows `index` (folds by group)."""
    pred = {c: np.full(len(X), np.nan) for c in y}
    folds = np.array([fold_of(groups[i], k) for i in index])
    for fold in range(k):
        test = index[folds == fold]
        train = index[folds != fold]
        model = fit(X[train], {c: v[train] for c, v in y.items()}, src[train], config)
        for c, v in predict(model, X[test]).items():
            pred[c][test] = v
    return pred


def baselines(items, index) -> dict[str, dict[str, np.ndarray]]:
    """The '?' baseline (the `qmark` judge) and the rubric, their discrete scores on every item."""
    from socratic.judge.baseline import qmark_scores
    from socratic.judge.rubric import judge as rubric

    sims = rubric.similarities([(i.dialogue, i.reply) for i in items])
    judged = {"qmark": [qmark_scores(i.reply) for i in items],
              "rubric": [rubric.score_reply(i.dialogue, i.reply, s).scores for i, s in zip(items, sims, strict=True)]}
    return {name: {c: np.array([float(getattr(s, c)) for s in scores]) for c in CRITERIA}
            for name, scores in judged.items()}


def _guidance_rows(src, y, index) -> np.ndarray:
    mrb = index[src[index] == "mrbench"]
    return mrb[~np.isnan(y["helpful"][mrb])]


def _cut(values: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.where(values < low, 1, np.where(values < high, 3, 5))


def guidance_cuts_in_fold(config: FitConfig, X, y, src, groups, index, k=5) -> dict:
    """Providing_Guidance macro-F1 over the rows `index` with the fixed cuts 2 / 4 and with two cuts chosen
    per fold on out-of-fold predictions of the fold's training part only."""
    grid = [(a, b) for a in np.arange(1.5, 4.01, 0.1) for b in np.arange(2.5, 4.81, 0.1) if b > a + 0.1]
    outer = cross_validate(config, X, y, src, groups, index, k)["helpful"]
    chosen = np.full(len(X), np.nan)
    folds = np.array([fold_of(groups[i], k) for i in index])
    cuts = []
    for fold in range(k):
        train, test = index[folds != fold], index[folds == fold]
        inner = cross_validate(config, X, y, src, groups, train, k)["helpful"]  # k-1 non-empty inner folds
        rows = _guidance_rows(src, y, train)
        best = max(grid, key=lambda ab: f1_score(y["helpful"][rows], _cut(inner[rows], *ab), average="macro",
                                                 labels=[1, 3, 5]))
        cuts.append([round(float(c), 2) for c in best])
        chosen[test] = _cut(outer[test], *best)
    rows = _guidance_rows(src, y, index)
    return {"cuts_per_fold": cuts,
            "macro_f1_fixed_cuts": round(float(f1_score(y["helpful"][rows], three_levels(outer[rows]),
                                                        average="macro", labels=[1, 3, 5])), 3),
            "macro_f1_cuts_chosen_in_fold": round(float(f1_score(y["helpful"][rows], chosen[rows], average="macro",
                                                                 labels=[1, 3, 5])), 3)}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--heldout", action="store_true", help="score the chosen variant on the held-out part")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--rubric-only", action="store_true", help="only the rubric and the '?' baseline")
    parser.add_argument("--guidance-cuts", action="store_true",
                        help="Providing_Guidance cuts chosen inside CV folds vs fixed (selection part only)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    items, groups, src, y, dev, test = protocol_items()
    if args.rubric_only:
        from socratic.judge.rubric.judge import RUBRIC_VERSION

        base = baselines(items, dev)
        result = {"rubric_version": RUBRIC_VERSION, "n_selection": len(dev), "n_heldout": len(test),
                  "selection": {name: with_ci(b, y, src, groups, dev) for name, b in base.items()},
                  "heldout": {name: with_ci(b, y, src, groups, test) for name, b in base.items()},
                  "seconds": round(time.perf_counter() - started, 1)}
        write_result(result, args.out)
        return
    X = featurize([(i.dialogue, i.reply) for i in items])
    print(f"{len(items)} items, features in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    print(f"selection part {len(dev)} ({(src[dev] == 'socratic_llm').sum()} socratic_llm), held-out {len(test)} "
          f"({(src[test] == 'socratic_llm').sum()} socratic_llm)", file=sys.stderr)
    if args.guidance_cuts:
        result = {"config": DEFAULT_FIT.__dict__, "n_selection": len(dev),
                  **guidance_cuts_in_fold(DEFAULT_FIT, X, y, src, groups, dev),
                  "seconds": round(time.perf_counter() - started, 1)}
        print(json.dumps(result, indent=1))
        return
    result: dict = {"n_items": len(items), "n_selection": len(dev), "n_heldout": len(test), "variants": []}
    best = None
    for config in VARIANTS:
        pred = cross_validate(config, X, y, src, groups, dev)
        scores = metrics(pred, y, src, dev)
        merit = float(np.mean([min(scores[k], 1.5 * t) / t for k, t in TARGETS.items()]))
        result["variants"].append({"config": config.__dict__, "metrics": {k: round(v, 3) for k, v in scores.items()},
                                   "merit": round(merit, 4)})
        print(json.dumps(result["variants"][-1]), file=sys.stderr)
        if best is None or merit > best[0]:
            best = (merit, config, pred)
    assert best is not None
    chosen = replace(best[1], seed=DEFAULT_FIT.seed)
    result["chosen"] = chosen.__dict__
    base = baselines(items, dev)
    result["cv"] = {"learned": with_ci(best[2], y, src, groups, dev),
                    **{name: with_ci(b, y, src, groups, dev) for name, b in base.items()}}
    if args.heldout:
        model = fit(X[dev], {c: v[dev] for c, v in y.items()}, src[dev], chosen)
        pred = {c: np.full(len(X), np.nan) for c in y}
        for c, v in predict(model, X[test]).items():
            pred[c][test] = v
        result["heldout"] = {"learned": with_ci(pred, y, src, groups, test),
                             **{name: with_ci(b, y, src, groups, test) for name, b in base.items()}}
    result["seconds"] = round(time.perf_counter() - started, 1)
    write_result(result, args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
