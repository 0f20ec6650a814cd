"""The `pairwise` judge's model: a pairwise (Bradley-Terry) reward model of (conversation, reply), fitted on
the order people give replies to the same conversation plus synthetic hard negatives (issue 26). Saving
is socratic.judge.pairwise.store, scoring socratic.judge.pairwise.judge.

    data = training_data(training_items())      # featurized labelled replies, dodges, teacher rows and pairs
    model = fit(data)                            # deterministic for the same data
    model.summary(model.utility(reward_features(items)))

Model: a linear utility u(x) = w . z(x) on standardised joint features (socratic.judge.pairwise.features:
the learned judge's signals and MiniLM cosines, the reply embedding's top PCA axes, and the dodge
signals), fitted with scikit-learn's LogisticRegression (no intercept) on feature differences of pairs:
P(a preferred to b) = sigmoid(u(a) - u(b)). Pairs (`training_pairs`):
- human: replies to the same conversation whose human preference differs (socratic.judge.labels.human_order);
- synthetic: each human-approved guiding reply (`human_order.is_honest`) > every dodge of the TRAIN
  phrasings built from its conversation (socratic.judge.labels.dodges); the EVAL phrasings are never fitted.
Outputs, so reports keep their shape:
- the summary is the utility mapped to [0, 1] by sigmoid(a u + b), with (a, b) fitted by least squares
  to the human preference of the training replies: one monotone map, so the summary orders replies as
  the utility does (the number `agreement` validates is the number `evaluate` reports: scores.judgment_summary);
- the four criteria come from learned-judge heads fitted on the same data and features (with the
  learned judge's gates), so `questions`, `reveal_answer`, ... mean what they mean for `learned`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from socratic.errors import SocraticError
from socratic.judge.learned.features import EMBEDDING_DIM, FEATURES_VERSION, SIGNAL_NAMES
from socratic.judge.pairwise.features import (
    CORRECTNESS_SIGNAL_NAMES,
    DODGE_SIGNAL_NAMES,
    RESTATING_SIGNAL_NAMES,
    REWARD_FEATURES,
    reward_features,
)
from socratic.records import LabelledReply

REWARD_VERSION = "reward_v1"
N_BASE = len(SIGNAL_NAMES)
N_LEARNED = len(SIGNAL_NAMES) + EMBEDDING_DIM  # the learned judge's columns, first in reward_features
N_DODGE = len(DODGE_SIGNAL_NAMES)  # then the dodge signals, the correctness signals, the restating signals
N_CORRECTNESS = len(CORRECTNESS_SIGNAL_NAMES)


@dataclass(frozen=True)
class RewardConfig:
    """What the grouped CV chose (experiments/reward_judge_cv.py, round 2: "+ dodges 1.0, dev pairs 1.0";
    numbers in experiments/reward_judge_cv.json), and for issue 36 (experiments/teacher_judge_cv.py, rule
    fixed beforehand: the best teacher-vs-model accuracy among the tries that keep the human pairwise accuracy
    and the mean dodge win rate within 0.01): the correctness signals, no teacher pairs. Every teacher-pair
    try cost 0.04 or more of the mean dodge win rate (docs/pairwise-judge.md). The correctness signals are
    nevertheless OFF by default: their gain (+0.01 teacher-vs-model) is inside the noise, and the product
    checks after the CV (`socratic agreement` on MRBench_V2_dev, the gaming tests' margins) were worse."""

    pca_dims: int = 32
    c: float = 0.1  # inverse L2 strength of the pairwise fit
    synthetic_weight: float = 1.0  # weight of one (honest > dodge) pair; a human pair weighs 1
    # Weight of a pair of socratic_llm dev replies to DIFFERENT conversations that people rate differently:
    # those items have one reply per conversation, so without these pairs nothing ties the utility to
    # their (absolute) human summary. 0: none.
    dev_pairs_weight: float = 1.0
    # Weight of one (the teacher's actual next turn > the embedded model's reply to the same context) pair from
    # the training dialogues (socratic.judge.labels.teacher_vs_model, issue 36). 0: none.
    teacher_weight: float = 0.0
    # Also each side of those pairs under the style perturbations (socratic.judge.labels.perturb): the judge must not
    # tell teacher from model by case, typos or a neutral sentence.
    teacher_augment: bool = False
    # The teacher's turn > each TRAIN-phrasing dodge of its context (weight synthetic_weight).
    teacher_dodges: bool = False
    dodge_signals: bool = True
    # Invented numbers and false computations (socratic.judge.correctness) as features (issue 36).
    correctness_signals: bool = False
    # The reply's questions against the problem's own question as features, and the dodge family that hands that
    # question back (`problem_question`) as hard negatives (experiments/restating). Off: neither is fitted.
    restating: bool = False
    seed: int = 0


DEFAULT_REWARD = RewardConfig()
# The dodge families only a reward with `restating` fits (their EVAL phrasings are in every dodge suite).
RESTATING_FAMILIES = ("problem_question",)


def fits_family(config: RewardConfig, family: str) -> bool:
    """Whether a fit with `config` uses the dodges of `family` (pairs and standardisation alike)."""
    return config.restating or family not in RESTATING_FAMILIES


def column_count(config: RewardConfig) -> int:
    """How many columns the utility of a model with `config` sees (RewardModel.columns)."""
    return (N_BASE + config.pca_dims + (N_DODGE if config.dodge_signals else 0)
            + (N_CORRECTNESS if config.correctness_signals else 0)
            + (len(RESTATING_SIGNAL_NAMES) if config.restating else 0))


# --------------------------------------------------------------------------- training data


@dataclass
class TrainingData:
    """Labelled items, the synthetic dodge replies, the teacher-vs-model replies, their features and the pairs
    (rows of X: the items, then the dodges, then the teacher rows)."""

    items: list[LabelledReply]
    dodges: list[tuple[int, str, str]]  # (row of the honest item's conversation representative, family, reply)
    X: np.ndarray  # [len(items) + len(dodges) + len(teacher), features]
    groups: np.ndarray  # per row of X: the group of its conversation (dodges: their honest item's)
    pairs: list[tuple[int, int, float, str]]  # (better, worse row, weight, kind: human | dev | synthetic | teacher)
    teacher: list[tuple[int, str, str]] = field(default_factory=list)  # (pair index, "teacher" | "model", reply)
    teacher_pairs: list[Any] = field(default_factory=list)  # socratic.judge.labels.teacher_vs_model.TeacherPair

    @property
    def teacher_offset(self) -> int:
        return len(self.items) + len(self.dodges)


def synthetic_dodges(items: Sequence[LabelledReply]) -> list[tuple[int, str, str]]:
    """(representative row, family, reply): TRAIN-phrasing dodges of every conversation that has an honest reply."""
    from socratic.judge.labels import dodges, human_order

    out = []
    for rows in human_order.conversations(items).values():
        if human_order.honest_reply(items, rows) is None:
            continue
        answer = human_order.revealed_answer(items, rows)
        known = {items[r].reply.strip() for r in rows}
        for family, replies in dodges.build_all(items[rows[0]].dialogue, half="train", answer=answer).items():
            out += [(rows[0], family, reply) for reply in replies if reply.strip() not in known]
    return out


def training_pairs(items: Sequence[LabelledReply], dodge_rows: Sequence[tuple[int, str, str]],
                   config: RewardConfig = DEFAULT_REWARD,
                   teacher_rows: Sequence[tuple[int, str, str]] = ()) -> list[tuple[int, int, float, str]]:
    """Human pairs (weight 1), dev pairs across conversations (config.dev_pairs_weight), honest > dodge
    pairs (config.synthetic_weight) and teacher > model pairs of one context (config.teacher_weight); dodge j
    is row len(items) + j of X, teacher row t is row len(items) + len(dodge_rows) + t. Zero-weight kinds are
    left out."""
    from socratic.judge.labels import human_order
    from socratic.judge.labels.human import source_of

    pairs = [(a, b, 1.0, "human") for a, b in human_order.preference_pairs(items)]
    if config.dev_pairs_weight > 0:
        dev = [r for r, item in enumerate(items) if source_of(item) == "socratic_llm"]
        values = {r: human_order.human_preference(items[r].labels) for r in dev}
        for i, a in enumerate(dev):
            for b in dev[i + 1:]:
                va, vb = values[a], values[b]
                if va is None or vb is None or abs(va - vb) < 1e-9 or \
                        human_order.dialogue_key(items[a].dialogue) == human_order.dialogue_key(items[b].dialogue):
                    continue
                pairs.append((a, b, config.dev_pairs_weight, "dev") if va > vb else
                             (b, a, config.dev_pairs_weight, "dev"))
    if config.synthetic_weight > 0:
        by_key = human_order.conversations(items)
        honest = {key: [r for r in rows if human_order.is_honest(items[r].labels)] for key, rows in by_key.items()}
        for j, (row, family, _) in enumerate(dodge_rows):
            if not fits_family(config, family):
                continue
            for good in honest[human_order.dialogue_key(items[row].dialogue)]:
                pairs.append((good, len(items) + j, config.synthetic_weight, "synthetic"))
    if config.teacher_weight > 0:
        # teacher > model; with config.teacher_augment also a perturbed teacher turn > model and
        # teacher > a perturbed model reply, so the order cannot rest on case, typos or a neutral sentence.
        offset = len(items) + len(dodge_rows)
        teacher_of = {n: t for t, (n, side, _) in enumerate(teacher_rows) if side == "teacher"}
        models: dict[int, list[int]] = {}
        for t, (n, side, _) in enumerate(teacher_rows):
            if side == "model":
                models.setdefault(n, []).append(t)
        for t, (n, side, _) in enumerate(teacher_rows):
            if n not in teacher_of:
                continue
            if side == "model" or (config.teacher_augment and side.startswith("model~")):
                pairs.append((offset + teacher_of[n], offset + t, config.teacher_weight, "teacher"))
            elif config.teacher_augment and side.startswith("teacher~"):
                pairs += [(offset + t, offset + m, config.teacher_weight, "teacher") for m in models.get(n, [])]
    if config.teacher_dodges and config.synthetic_weight > 0:
        # The teacher's turn over each dodge of its own context, weighed like an honest reply over a dodge:
        # what the teacher pairs teach must not lift a dodge (a short generic question is short too).
        offset = len(items) + len(dodge_rows)
        teacher_of = {n: t for t, (n, side, _) in enumerate(teacher_rows) if side == "teacher"}
        pairs += [(offset + teacher_of[n], offset + t, config.synthetic_weight, "synthetic")
                  for t, (n, side, _) in enumerate(teacher_rows) if side.startswith("dodge~") and n in teacher_of
                  and fits_family(config, side.removeprefix("dodge~"))]
    return pairs


def teacher_rows(pairs: Sequence[Any], augment: bool = False, dodges: bool = False) -> list[tuple[int, str, str]]:
    """(pair index, side, reply): each pair's teacher turn ("teacher"), then its samples that differ from it
    ("model"); with `augment`, each of them under every style perturbation that applies ("teacher~lowercase",
    "model~add_typos", ...: socratic.judge.labels.perturb, seed AUGMENT_SEED); with `dodges`, the TRAIN-phrasing
    dodges of the pair's context ("dodge~echo", ...: socratic.judge.labels.dodges)."""
    from socratic.judge.labels import dodges as dodge_families
    from socratic.judge.labels.perturb import PERTURBATIONS, perturb
    from socratic.judge.labels.teacher_vs_model import pair_rows

    out: list[tuple[int, str, str]] = []
    for n, pair in enumerate(pairs):
        base = [(n, "teacher", pair.teacher)] + [(n, "model", sample) for m, _, sample in pair_rows([pair]) if m == 0]
        out += base
        if augment:
            for _, side, text in base:
                out += [(n, f"{side}~{kind}", changed) for kind in PERTURBATIONS
                        if (changed := perturb(kind, text, seed=AUGMENT_SEED)) is not None]
        if dodges:
            known = {text.strip() for _, _, text in base}
            for family, replies in dodge_families.build_all(pair.dialogue, half="train").items():
                out += [(n, f"dodge~{family}", reply) for reply in replies if reply.strip() not in known]
    return out


# The perturbation seed of the augmented teacher rows; `socratic agreement` perturbs with other seeds.
AUGMENT_SEED = 1_000_003


def training_data(items: Sequence[LabelledReply], config: RewardConfig = DEFAULT_REWARD,
                  log: Callable[[str], None] | None = None, teacher: Sequence[Any] | None = None,
                  featurize: Callable[[list[tuple[Any, str]]], np.ndarray] = reward_features) -> TrainingData:
    """Every row featurized once (`featurize`: reward_features, or a cache of it): the items, their
    TRAIN-phrasing dodges and the teacher pairs (`teacher`; default: the shipped ones,
    socratic.judge.labels.teacher_vs_model, when config.teacher_weight > 0). Pairs given explicitly are featurized
    whatever the config fits, so a CV of the weights refits without featurizing again."""
    from socratic.judge.labels.human import group_key
    from socratic.judge.labels.teacher_vs_model import group_of, load_teacher_pairs

    items = list(items)
    dodge_rows = synthetic_dodges(items)
    if teacher is None:  # the shipped pairs, featurized only when the config fits them
        teacher = load_teacher_pairs() if config.teacher_weight > 0 else []
    pairs = list(teacher)
    rows = teacher_rows(pairs, augment=config.teacher_augment, dodges=config.teacher_dodges)
    if log:
        log(f"featurizing {len(items)} labelled replies, {len(dodge_rows)} synthetic dodges and {len(rows)} "
            f"teacher-vs-model replies ...")
    X = featurize([(i.dialogue, i.reply) for i in items] + [(items[r].dialogue, d) for r, _, d in dodge_rows]
                  + [(pairs[n].dialogue, reply) for n, _, reply in rows])
    groups = np.array([group_key(i) for i in items] + [group_key(items[r]) for r, _, _ in dodge_rows]
                      + [group_of(pairs[n]) for n, _, _ in rows])
    return TrainingData(items, dodge_rows, X, groups, training_pairs(items, dodge_rows, config, rows), rows, pairs)


# --------------------------------------------------------------------------- the model


@dataclass
class RewardModel:
    config: RewardConfig
    mean: np.ndarray
    scale: np.ndarray
    pca_mean: np.ndarray
    pca_components: np.ndarray
    weights: np.ndarray
    calibration: tuple[float, float]  # summary = sigmoid(a * utility + b)
    learned: Any  # socratic.judge.learned.fit.LearnedModel: the four criteria
    data_hash: str = ""
    item_keys: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    n_pairs: dict[str, int] = field(default_factory=dict)

    def columns(self, X: np.ndarray) -> np.ndarray:
        """The columns the utility sees: signals + cosines, the reply embedding's PCA axes, then the dodge,
        correctness and restating signals that the config turns on."""
        X = np.asarray(X, dtype=np.float64)
        parts = [X[:, :N_BASE], (X[:, N_BASE:N_LEARNED] - self.pca_mean) @ self.pca_components.T]
        correctness = N_LEARNED + N_DODGE
        if self.config.dodge_signals:
            parts.append(X[:, N_LEARNED:correctness])
        if self.config.correctness_signals:
            parts.append(X[:, correctness:correctness + N_CORRECTNESS])
        if self.config.restating:
            parts.append(X[:, correctness + N_CORRECTNESS:])
        return np.hstack(parts)

    def utility(self, X: np.ndarray) -> np.ndarray:
        return ((self.columns(X) - self.mean) / self.scale) @ self.weights

    def summary(self, utility: np.ndarray) -> np.ndarray:
        a, b = self.calibration
        return 1.0 / (1.0 + np.exp(-np.clip(a * utility + b, -30, 30)))


def fit(data: TrainingData, config: RewardConfig = DEFAULT_REWARD, rows: np.ndarray | None = None,
        criteria: bool = True) -> RewardModel:
    """Fit on the rows of `data.X` in `rows` (default all): pairs with both ends kept, calibration on the
    kept labelled items, the criteria heads on the kept labelled items (criteria=False: none, for a
    cross-validation that only needs the summary; such a model cannot judge). Deterministic."""
    from scipy.optimize import least_squares
    from sklearn.linear_model import LogisticRegression

    from socratic.judge.labels import human_order
    from socratic.judge.labels.human import group_key, item_key
    from socratic.judge.learned import fit as learned_fit

    keep = np.ones(len(data.X), dtype=bool) if rows is None else np.isin(np.arange(len(data.X)), rows)
    n_items = len(data.items)
    item_rows = np.flatnonzero(keep[:n_items])
    X = np.asarray(data.X, dtype=np.float64)
    pca_mean, components = learned_fit.pca(X[item_rows, N_BASE:N_LEARNED], config.pca_dims)
    probe = RewardModel(config, np.zeros(0), np.ones(0), pca_mean, components, np.zeros(0), (1.0, 0.0), None)
    C = probe.columns(X)
    if config.teacher_weight <= 0:  # unused teacher rows must not move the standardisation
        keep[data.teacher_offset:] = False
    unused = [data.teacher_offset + t for t, (_, side, _) in enumerate(data.teacher)
              if (side.startswith(("teacher~", "model~")) and not config.teacher_augment)
              or (side.startswith("dodge~") and not config.teacher_dodges)
              or not fits_family(config, side.removeprefix("dodge~"))]
    # nor may the dodges of a family the fit leaves out
    unused += [len(data.items) + j for j, (_, family, _) in enumerate(data.dodges) if not fits_family(config, family)]
    keep[unused] = False
    used = np.flatnonzero(keep)
    mean, scale = C[used].mean(axis=0), C[used].std(axis=0)
    scale[scale < 1e-8] = 1.0
    Z = (C - mean) / scale
    pairs = [(a, b, w, kind) for a, b, w, kind in data.pairs if keep[a] and keep[b] and w > 0]
    if not pairs:
        raise SocraticError("no preference pair in the training data; the pairwise judge needs some")
    diffs = np.array([Z[a] - Z[b] for a, b, _, _ in pairs])
    weights = np.array([w for _, _, w, _ in pairs])
    # Both orientations: a symmetric problem without an intercept (P(a > b) = 1 - P(b > a)).
    model = LogisticRegression(C=config.c, fit_intercept=False, max_iter=5000, tol=1e-8, random_state=config.seed)
    model.fit(np.vstack([diffs, -diffs]), np.r_[np.ones(len(diffs)), np.zeros(len(diffs))],
              sample_weight=np.r_[weights, weights])
    w = model.coef_[0].astype(np.float64)
    utility = Z[item_rows] @ w
    human = np.array([human_order.human_preference(data.items[r].labels) for r in item_rows], dtype=float)

    def residual(theta: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(theta[0] * utility + theta[1], -30, 30))) - human

    fitted = least_squares(residual, x0=np.array([1.0, 0.0]), bounds=([1e-6, -np.inf], [np.inf, np.inf]))
    kept_items = [data.items[r] for r in item_rows]
    kept_teacher = [data.teacher[t][1:] for t in range(len(data.teacher)) if keep[data.teacher_offset + t]]
    heads = learned_fit.fit_items(kept_items, X=X[item_rows, :N_LEARNED]) if criteria else None
    return RewardModel(config, mean, scale, pca_mean, components, w, (float(fitted.x[0]), float(fitted.x[1])),
                       heads, data_hash(kept_items, config, kept_teacher),
                       [item_key(i) for i in kept_items], [group_key(i) for i in kept_items],
                       {kind: sum(k == kind for *_, k in pairs) for kind in ("human", "dev", "synthetic", "teacher")})


def data_hash(items: Sequence[LabelledReply], config: RewardConfig,
              teacher: Sequence[tuple[str, str]] = ()) -> str:
    """What the model was fitted on: versions, config, dodge phrasings, the items and the teacher rows."""
    from socratic.judge.labels.dodges import FAMILIES

    digest = hashlib.sha256(json.dumps([REWARD_VERSION, REWARD_FEATURES, FEATURES_VERSION, config.__dict__,
                                        [f.train for f in FAMILIES]], sort_keys=True).encode())
    for item in items:
        digest.update(item.model_dump_json().encode() + b"\n")
    if teacher:
        digest.update(json.dumps(list(teacher)).encode())
    return digest.hexdigest()
