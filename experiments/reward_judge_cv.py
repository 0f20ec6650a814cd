"""Choose the reward judge's configuration by grouped CV; report once on a held-out part (issue 26).

    flock /tmp/socratic-heavy.lock python experiments/reward_judge_cv.py [--out experiments/reward_judge_cv.json]

Self-contained: imports only socratic. Protocol (fixed before any result was looked at; the same as
bench/select_learned_judge.py):
- items: the shipped human labels (`socratic.judge.labels.human.training_items`: socratic_llm dev 50, MRBench V2
  dev, BEA 2025 dev, deduplicated); group = problem, else conversation (`group_key`);
- held-out part: sha1("holdout:" + group) % 5 == 0; never used to choose anything;
- selection: 5-fold grouped CV (`socratic.agreement.cv.fold_of`) on the rest; every try and every
  comparison judge scored out of fold (the reward's synthetic dodges are built only from training
  conversations; the TRAIN phrasings are fitted, the EVAL phrasings only measured);
- measures (socratic.agreement.ranking): within-conversation pairwise accuracy on human pairs, the dodge
  suite (honest vs each family, EVAL phrasings, margin 0.10; and the TRAIN phrasings, to see the gap),
  summary Pearson on the socratic_llm dev items, reveal_answer kappa on the MRBench items;
- round 2 (after round 1 was seen, held-out part included, so round 2's held-out figures are no longer
  untouched): cross-conversation pairs of socratic_llm dev replies (RewardConfig.dev_pairs_weight);
- choice: the try with the best mean of (pairwise / 0.82, worst-family win rate / 0.95, dev Pearson / 0.78),
  each capped at 1.5; it is then fitted on the whole selection part and scored once on the held-out part,
  next to learned, rubric and the '?' baseline on the same items; speed of the chosen judge on fresh text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import asdict, replace

import numpy as np
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from socratic.agreement.cv import fold_of
from socratic.agreement.ranking import dodge_suite, pairwise_accuracy, suite_items
from socratic.judge.baseline import QuestionMarkJudge
from socratic.judge.labels.human import group_key, source_of, training_items
from socratic.judge.labels.human_order import dialogue_key, human_preference
from socratic.judge.learned.fit import fit_items
from socratic.judge.learned.judge import LearnedJudge
from socratic.judge.pairwise import fit as reward_fit
from socratic.judge.pairwise.features import reward_features
from socratic.judge.pairwise.judge import PairwiseJudge
from socratic.judge.rubric.judge import RubricJudge
from socratic.scores import judgment_summary
from socratic.store.cache import NoCache


# Written out in full so that a change of the shipped default (RewardConfig) does not change the tries:
# round 1's baseline is synthetic weight 0.25 and no dev pairs.
def R1(**changes) -> reward_fit.RewardConfig:
    return reward_fit.RewardConfig(**{"pca_dims": 32, "c": 0.1, "synthetic_weight": 0.25, "dev_pairs_weight": 0.0,
                                  "dodge_signals": True, **changes})


TRIES = [
    ("human pairs only, no dodge signals", R1(synthetic_weight=0.0, dodge_signals=False)),
    ("human pairs only, dodge signals", R1(synthetic_weight=0.0)),
    ("+ dodges 0.25, no dodge signals", R1(dodge_signals=False)),
    ("+ dodges 0.25, dodge signals", R1()),
    ("+ dodges 1.0, dodge signals", R1(synthetic_weight=1.0)),
    ("+ dodges 0.25, C 0.02", R1(c=0.02)),
    ("+ dodges 0.25, C 1.0", R1(c=1.0)),
    ("+ dodges 0.25, PCA 8", R1(pca_dims=8)),
    # Round 2, added after round 1's numbers (selection CV and the held-out part) were seen: the summary
    # Pearson on the socratic_llm dev items was ~0.2 for every try (one reply per conversation there, so
    # no human pair ties the utility to their summary). Pairs of dev replies across conversations:
    ("round 2: + dodges 1.0, dev pairs 1.0", R1(synthetic_weight=1.0, dev_pairs_weight=1.0)),
    ("round 2: + dodges 1.0, dev pairs 5.0", R1(synthetic_weight=1.0, dev_pairs_weight=5.0)),
    ("round 2: + dodges 0.25, dev pairs 1.0", R1(dev_pairs_weight=1.0)),
    ("round 2: + dodges 0.25, dev pairs 5.0", R1(dev_pairs_weight=5.0)),
]
TARGETS = {"pairwise": 0.82, "worst_family": 0.95, "dev_pearson": 0.78}


STARTED = time.perf_counter()


def log(text: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {text}", file=sys.stderr, flush=True)


def held_out(group: str) -> bool:
    return int(hashlib.sha1(("holdout:" + group).encode()).hexdigest(), 16) % 5 == 0


class Setup:
    """Every text featurized once: labelled items, TRAIN dodges (fitting) and EVAL dodges (the suite)."""

    def __init__(self, smoke: bool = False) -> None:
        self.items = training_items()
        if smoke:  # a quick check of the script itself: a few groups of each source
            keep = set(list(dict.fromkeys(group_key(i) for i in self.items if source_of(i) == "mrbench"))[:12]
                       + list(dict.fromkeys(group_key(i) for i in self.items if source_of(i) != "mrbench"))[:15])
            self.items = [i for i in self.items if group_key(i) in keep]
        self.groups = np.array([group_key(i) for i in self.items])
        self.src = np.array([source_of(i) for i in self.items])
        self.hold = np.array([held_out(g) for g in self.groups])
        self.data = reward_fit.training_data(self.items, reward_fit.DEFAULT_REWARD, log)
        self.suite = suite_items(self.items)
        log(f"featurizing {len(self.suite)} eval-phrasing dodges ...")
        self.X_suite = reward_features([(c.dialogue, c.dodge) for c in self.suite])
        train_suite = suite_items(self.items, half="train")
        self.train_suite = train_suite
        self.X_train_suite = reward_features([(c.dialogue, c.dodge) for c in train_suite])


def measure(setup: Setup, rows: np.ndarray, summary: np.ndarray, suite_summary: np.ndarray,
            train_suite_summary: np.ndarray, reveal: np.ndarray, n_boot: int = 1000) -> dict:
    """The measures over the labelled rows `rows` (others ignored); summaries indexed like setup.items."""
    items, mask = setup.items, np.zeros(len(setup.items), dtype=bool)
    mask[rows] = True
    keys = [dialogue_key(i.dialogue) for i in items]
    human = [human_preference(i.labels) if mask[r] else None for r, i in enumerate(items)]
    out = {"pairwise": pairwise_accuracy(keys, human, list(summary), n_boot=n_boot)}
    for name, cases, values in (("suite_eval", setup.suite, suite_summary),
                                ("suite_train", setup.train_suite, train_suite_summary)):
        out[name] = dodge_suite([(c.conversation, c.family, summary[c.honest], v)
                                 for c, v in zip(cases, values, strict=True) if mask[c.honest]])
    dev = rows[setup.src[rows] == "socratic_llm"]
    human_dev = [human_preference(items[r].labels) for r in dev]
    out["dev_pearson"] = float(stats.pearsonr(human_dev, summary[dev]).statistic) if len(dev) > 2 else None
    mrb = [r for r in rows if setup.src[r] == "mrbench" and items[r].labels.reveal_answer is not None]
    out["reveal_kappa_mrbench"] = float(cohen_kappa_score([int(items[r].labels.reveal_answer) for r in mrb],
                                                          [int(reveal[r]) for r in mrb]))
    return out


def score(result: dict) -> float:
    worst = min(f["win_rate"] for f in result["suite_eval"]["families"].values())
    ratios = [result["pairwise"]["accuracy"] / TARGETS["pairwise"], worst / TARGETS["worst_family"],
              (result["dev_pearson"] or 0) / TARGETS["dev_pearson"]]
    return float(np.mean([min(r, 1.5) for r in ratios]))


def judge_rows(judge, setup: Setup, rows: np.ndarray, summary, suite_summary, train_suite_summary, reveal) -> None:
    """Fill the arrays for labelled `rows` (and their conversations' dodges) with `judge`'s values."""
    wanted = set(rows.tolist())
    for cases, target in ((setup.suite, suite_summary), (setup.train_suite, train_suite_summary)):
        picked = [n for n, c in enumerate(cases) if c.honest in wanted]
        for n, j in zip(picked, judge.judge_many([(cases[n].dialogue, cases[n].dodge) for n in picked],
                                                 progress=False), strict=True):
            target[n] = judgment_summary(j)
    for r, j in zip(rows, judge.judge_many([(setup.items[r].dialogue, setup.items[r].reply) for r in rows],
                                          progress=False), strict=True):
        summary[r] = judgment_summary(j)
        reveal[r] = j.scores.reveal_answer if j.scores else False


class Precomputed:
    """A fitted reward or learned model applied to the features Setup already holds (what its judge
    would compute again from the text: the same numbers, without featurizing each fold's rows anew)."""

    def __init__(self, model, setup: Setup) -> None:
        self.model, self.setup = model, setup

    def values(self, X: np.ndarray, replies: list[str]) -> tuple[np.ndarray, np.ndarray]:
        from socratic.judge.learned.judge import apply_gates, judge_notes
        from socratic.scores import expected_summary

        heads = self.model.learned if isinstance(self.model, reward_fit.RewardModel) else self.model
        proba = heads.predict(X[:, :reward_fit.N_LEARNED])
        notes = [apply_gates(judge_notes(proba, i), reply) for i, reply in enumerate(replies)]
        reveal = np.array([n["expected"]["reveal_answer"] >= 0.5 for n in notes])
        if isinstance(self.model, reward_fit.RewardModel):
            return self.model.summary(self.model.utility(X)), reveal
        return np.array([expected_summary(n["expected"]) for n in notes]), reveal


def fill(pre: Precomputed, setup: Setup, rows: np.ndarray, summary, suite_summary, train_suite_summary,
         reveal) -> None:
    """judge_rows for a Precomputed model."""
    wanted = set(rows.tolist())
    for cases, X, target in ((setup.suite, setup.X_suite, suite_summary),
                             (setup.train_suite, setup.X_train_suite, train_suite_summary)):
        picked = [n for n, c in enumerate(cases) if c.honest in wanted]
        if picked:
            target[picked] = pre.values(X[picked], [cases[n].dodge for n in picked])[0]
    values, revealed = pre.values(setup.data.X[rows], [setup.items[r].reply for r in rows])
    summary[rows], reveal[rows] = values, revealed


def arrays(setup: Setup):
    return (np.full(len(setup.items), np.nan), np.full(len(setup.suite), np.nan),
            np.full(len(setup.train_suite), np.nan), np.zeros(len(setup.items), dtype=bool))


def reward_judge(setup: Setup, config: reward_fit.RewardConfig, train_rows: np.ndarray) -> PairwiseJudge:
    """A reward judge fitted on the labelled `train_rows` and the dodges of their conversations."""
    return PairwiseJudge(cache=NoCache(), model=reward_model(setup, config, train_rows))


def reward_model(setup: Setup, config: reward_fit.RewardConfig, train_rows: np.ndarray) -> reward_fit.RewardModel:
    data = replace(setup.data, pairs=reward_fit.training_pairs(setup.items, setup.data.dodges, config))
    wanted = set(train_rows.tolist())
    keep = np.r_[train_rows, [len(setup.items) + j for j, (r, _, _) in enumerate(setup.data.dodges)
                              if r in wanted]].astype(int)
    return reward_fit.fit(data, config, keep)


def learned_model(setup: Setup, train_rows: np.ndarray):
    return fit_items([setup.items[r] for r in train_rows], X=setup.data.X[train_rows, :reward_fit.N_LEARNED])


def learned_judge(setup: Setup, train_rows: np.ndarray) -> LearnedJudge:
    return LearnedJudge(cache=NoCache(), model=learned_model(setup, train_rows))


def cross_validate(setup: Setup, make, rows: np.ndarray, k: int = 5):
    """Out-of-fold values over `rows`: fold f's rows judged by make(training rows of the other folds)."""
    values = arrays(setup)
    folds = np.array([fold_of(g, k) for g in setup.groups])
    for fold in range(k):
        test = rows[folds[rows] == fold]
        train = rows[folds[rows] != fold]
        fill(Precomputed(make(train), setup), setup, test, *values)
    return values


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="experiments/reward_judge_cv.json")
    parser.add_argument("--smoke", action="store_true", help="a few groups only, to check the script")
    args = parser.parse_args()
    started = time.perf_counter()
    setup = Setup(args.smoke)
    selection, heldout = np.flatnonzero(~setup.hold), np.flatnonzero(setup.hold)
    log(f"{len(selection)} selection items, {len(heldout)} held-out; {len(setup.data.dodges)} train dodges, "
        f"{len(setup.suite)} eval-suite dodges")
    result: dict = {"protocol": __doc__, "n_items": len(setup.items), "selection": len(selection),
                    "heldout": len(heldout), "tries": [], "comparison_cv": {}}
    for name, config in TRIES:
        t0 = time.perf_counter()
        values = cross_validate(setup, lambda train, c=config: reward_model(setup, c, train), selection)
        block = measure(setup, selection, *values)
        block.update({"name": name, "config": asdict(config), "score": score(block),
                      "seconds": round(time.perf_counter() - t0, 1)})
        result["tries"].append(block)
        log(f"{name}: pairwise {block['pairwise']['accuracy']:.3f}, worst family "
            f"{block['suite_eval']['worst_family']} "
            f"{block['suite_eval']['families'][block['suite_eval']['worst_family']]['win_rate']:.2f}, "
            f"dev r {block['dev_pearson']:.3f}, score {block['score']:.3f}")
    values = cross_validate(setup, lambda train: learned_model(setup, train), selection)
    result["comparison_cv"]["learned"] = measure(setup, selection, *values)
    for name, judge in (("rubric", RubricJudge(cache=NoCache())), ("qmark", QuestionMarkJudge(cache=NoCache()))):
        values = arrays(setup)
        judge_rows(judge, setup, selection, *values)
        result["comparison_cv"][name] = measure(setup, selection, *values)
    best = max(result["tries"], key=lambda t: t["score"])
    result["chosen"] = best["name"]
    config = reward_fit.RewardConfig(**best["config"])
    log(f"chosen: {best['name']}; scoring the held-out part once")
    result["heldout_results"] = {}
    for name, judge in (("reward", reward_judge(setup, config, selection)), ("learned", learned_judge(setup, selection)),
                        ("rubric", RubricJudge(cache=NoCache())), ("qmark", QuestionMarkJudge(cache=NoCache()))):
        values = arrays(setup)
        judge_rows(judge, setup, heldout, *values)
        result["heldout_results"][name] = measure(setup, heldout, *values)
        if name == "reward":  # the shortcut the CV takes gives what the judge gives
            check = arrays(setup)
            fill(Precomputed(judge.model, setup), setup, heldout, *check)
            result["precomputed_vs_judge_max_diff"] = float(np.nanmax(np.abs(check[0] - values[0])))
    # Speed: the chosen judge on text it has not embedded (the process's vector cache emptied).
    from socratic.judge.rubric import embedding

    embedding._VECTORS.clear()
    fresh = [(c.dialogue, c.dodge + " (v2)") for c in setup.suite[:400]]
    judge = reward_judge(setup, config, selection)
    t0 = time.perf_counter()
    judge.judge_many(fresh, progress=False)
    seconds = time.perf_counter() - t0
    result["speed"] = {"judgments": len(fresh), "seconds": round(seconds, 2),
                       "per_second": round(len(fresh) / seconds, 1)}
    t0 = time.perf_counter()
    reward_fit.fit(replace(setup.data, pairs=reward_fit.training_pairs(setup.items, setup.data.dodges, config)), config)
    result["fit_seconds_after_features"] = round(time.perf_counter() - t0, 1)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(result, indent=1)
    with open(args.out, "w") as file:
        file.write(text)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
