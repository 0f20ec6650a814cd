"""The `learned` judge's model: per-criterion logistic heads on standardised text signals and frozen
MiniLM features (socratic.judge.learned.features), fitted on human labels only (offline, on the CPU, seeded and
deterministic). Pure numpy at prediction time; saving is socratic.judge.learned.store, scoring
socratic.judge.learned.

    model = fit_items(training_items())       # featurizes the labelled replies (socratic.judge.labels.human)
    proba = model.predict(featurize(items))    # P(yes) per binary criterion, P(level) [n, 5] per ordinal one

Heads (features standardised):
- questions, reveal_answer: logistic regression -> P(yes); the questions head sees only the question
  signals, with weights >= 0 (`FitConfig.questions_head`);
- on_topic, helpful: ordinal 1-5 as four cumulative logistic heads P(y > k) (Frank & Hall), so labels on
  a coarser scale (MRBench's 1/3/5) train every threshold; E[y] = 1 + sum_k P(y > k) (`expected_values`).
A criterion a source does not label is masked for that source (rows without the label do not enter
that head: NaN in `socratic.judge.labels.human.targets`).
The choice of features and regularisation was made by grouped cross-validation with a held-out part
fixed beforehand (experiments/select_learned_judge.py; numbers in docs/results.md).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from socratic.errors import SocraticError
from socratic.judge.labels.human import group_key, item_key, source_of, targets
from socratic.judge.learned.features import (
    EMBEDDING_DIM,
    FEATURES_VERSION,
    QUESTION_SIGNALS,
    SIGNAL_NAMES,
    featurize,
)
from socratic.records import LabelledReply
from socratic.scores import CRITERIA

# The version of the whole learned judge: its fit, its saved file (learned_store) and its gates (learned).
LEARNED_VERSION = "learned_v4"  # v4: made-up arithmetic (socratic.judge.correctness) is not helpful (issue 36)
# v3: a reply that only asks for material the dialogue holds is not helpful
# v2: the questions head sees only the question signals, weights >= 0
BINARY = ("questions", "reveal_answer")
ORDINAL = ("on_topic", "helpful")
LEVELS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class FitConfig:
    """What the model selection chose (experiments/select_learned_judge.py): see docs/results.md."""

    features: str = "pca"  # "signals" (text signals + cosines) | "pca" (+ the reply embedding's top PCA dims)
    pca_dims: int = 32
    c: float = 0.2  # inverse L2 strength of every head
    socratic_weight: float = 5.0  # sample weight of a socratic_llm dev item (1 for MRBench/BEA items)
    seed: int = 0
    # The `questions` head: "all" sees every column like the other heads; "question_signals" sees only
    # QUESTION_SIGNALS, with coefficients >= 0 (more questions never lower P(questions)). Only the ~50
    # socratic_llm items label `questions`: a head on ~70 columns overfits them.
    questions_head: str = "question_signals"
    questions_c: float | None = None  # inverse L2 strength of the questions head; None: `c`
    # The `helpful` heads: each of MRBench's three levels (No / To some extent / Yes, `three_levels`)
    # weighs as much in total as the others, so the rarer levels are predicted at all.
    balanced_helpful: bool = False

    def __post_init__(self) -> None:
        if self.questions_head not in QUESTIONS_HEADS:
            raise ValueError(f"questions_head {self.questions_head!r}: expected one of {QUESTIONS_HEADS}")

    def columns(self) -> int:
        return len(SIGNAL_NAMES) + (self.pca_dims if self.features == "pca" else 0)


QUESTIONS_HEADS = ("all", "question_signals")
DEFAULT_FIT = FitConfig()


@dataclass
class LearnedModel:
    """Standardiser + logistic heads; pure numpy at prediction time (no pickle on disk)."""

    config: FitConfig
    mean: np.ndarray
    scale: np.ndarray
    heads: dict[str, list[tuple[np.ndarray, float]]]  # binary: one (coef, bias); ordinal: P(y>k), k=1..4
    pca_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pca_components: np.ndarray = field(default_factory=lambda: np.zeros((0, EMBEDDING_DIM)))
    data_hash: str = ""
    item_keys: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    n_train: dict[str, int] = field(default_factory=dict)
    extra_files: list[str] = field(default_factory=list)  # user JSONL it was trained with (besides the shipped)

    @property
    def short_hash(self) -> str:
        return self.data_hash[:12]

    def _z(self, X: np.ndarray) -> np.ndarray:
        return (_project(X, self.config, self.pca_mean, self.pca_components) - self.mean) / self.scale

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """P(yes) [n] for binary criteria, P(y = level) [n, 5] for ordinal ones.

        Row by row: a matrix product's last bits depend on how many rows it is given, and a reply must
        score the same whatever else is judged with it (a resumed run batches differently)."""
        X = np.asarray(X, dtype=np.float64)
        if len(X) <= 1:
            return self._predict_rows(X)
        rows = [self._predict_rows(X[i:i + 1]) for i in range(len(X))]
        return {criterion: np.concatenate([row[criterion] for row in rows]) for criterion in rows[0]}

    def _predict_rows(self, X: np.ndarray) -> dict[str, np.ndarray]:
        Z = self._z(X)
        out = {}
        for criterion, head in self.heads.items():
            p = np.stack([_sigmoid(Z @ coef + bias) for coef, bias in head], axis=1)
            if criterion in BINARY:
                out[criterion] = p[:, 0]
            else:
                above = np.minimum.accumulate(p, axis=1)  # P(y>k) must not rise with k
                cumulative = np.hstack([np.ones((len(Z), 1)), above, np.zeros((len(Z), 1))])
                out[criterion] = cumulative[:, :-1] - cumulative[:, 1:]
        return out


def _project(X: np.ndarray, config: FitConfig, pca_mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Signals (+ the embedding's PCA coordinates): the columns the heads see."""
    n_signals = len(SIGNAL_NAMES)
    X = np.asarray(X, dtype=np.float64)
    if config.features == "signals":
        return X[:, :n_signals]
    return np.hstack([X[:, :n_signals], (X[:, n_signals:] - pca_mean) @ components.T])


def pca(embeddings: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and top `dims` principal axes (deterministic: full SVD, signs fixed by the largest entry)."""
    mean = embeddings.mean(axis=0)
    _, _, vt = np.linalg.svd(embeddings - mean, full_matrices=False)
    components = vt[:dims]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    return mean, components * signs[:, None]


def three_levels(values: np.ndarray) -> np.ndarray:
    """A 1-5 value as MRBench's level: nearest of 1 (No), 3 (To some extent), 5 (Yes)."""
    return np.where(values < 2, 1, np.where(values < 4, 3, 5))


def _level_balance(values: np.ndarray) -> np.ndarray:
    """Per-row weights that give each of the three levels the same total weight."""
    levels = three_levels(values)
    counts = {level: int((levels == level).sum()) for level in np.unique(levels)}
    return np.array([len(values) / (len(counts) * counts[level]) for level in levels])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def expected_values(proba: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """P(yes) for binary criteria, E[level] for ordinal ones."""
    return {c: (p if c in BINARY else p @ np.asarray(LEVELS, dtype=float)) for c, p in proba.items()}


def _constant_head(Z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """One class only: a constant head at its (smoothed) rate."""
    rate = (y.sum() + 0.5) / (len(y) + 1.0)
    return np.zeros(Z.shape[1]), float(math.log(rate / (1 - rate)))


def _fit_head(Z: np.ndarray, y: np.ndarray, weights: np.ndarray, config: FitConfig) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2:
        return _constant_head(Z, y)
    model = LogisticRegression(C=config.c, max_iter=5000, tol=1e-6, random_state=config.seed)
    model.fit(Z, y.astype(int), sample_weight=weights)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def _fit_monotone_head(Z: np.ndarray, y: np.ndarray, weights: np.ndarray, c: float, columns: Sequence[int],
                       ) -> tuple[np.ndarray, float]:
    """Logistic regression on `columns` only with coefficients >= 0 (P never falls as one of them rises;
    Z is standardised with a positive scale, so the sign holds for the raw signal too). The objective
    is scikit-learn's: c * sum(weight * log-loss) + |coef|^2 / 2, intercept not penalised; L-BFGS-B with
    bounds from zero, so the fit is deterministic. Other columns get coefficient 0."""
    from scipy.optimize import minimize
    from scipy.special import expit

    if len(np.unique(y)) < 2:
        return _constant_head(Z, y)
    A = Z[:, list(columns)]
    sign = 2.0 * y - 1.0

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        margin = sign * (A @ theta[:-1] + theta[-1])
        slope = -weights * sign * expit(-margin)  # d(weight * log-loss) / d(logit)
        value = c * float(weights @ np.logaddexp(0.0, -margin)) + 0.5 * float(theta[:-1] @ theta[:-1])
        return value, np.append(c * (A.T @ slope) + theta[:-1], c * slope.sum())

    bounds = [(0.0, None)] * A.shape[1] + [(None, None)]
    result = minimize(objective, np.zeros(A.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 5000, "gtol": 1e-8})
    coef = np.zeros(Z.shape[1])
    coef[list(columns)] = result.x[:-1]
    return coef, float(result.x[-1])


def fit(X: np.ndarray, labels: dict[str, np.ndarray], sources: Sequence[str], config: FitConfig = DEFAULT_FIT,
        ) -> LearnedModel:
    """Fit every head on the rows that carry its label (deterministic: lbfgs on fixed data)."""
    X = np.asarray(X, dtype=np.float64)
    pca_mean, components = np.zeros(0), np.zeros((0, EMBEDDING_DIM))
    if config.features == "pca":
        pca_mean, components = pca(X[:, len(SIGNAL_NAMES):], config.pca_dims)
    X = _project(X, config, pca_mean, components)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-8] = 1.0
    Z = (X - mean) / scale
    weights = np.array([config.socratic_weight if s == "socratic_llm" else 1.0 for s in sources])
    heads: dict[str, list[tuple[np.ndarray, float]]] = {}
    counts = {}
    for criterion in CRITERIA:
        y = labels[criterion]
        rows = ~np.isnan(y)
        counts[criterion] = int(rows.sum())
        if not rows.any():
            raise SocraticError(f"no training item carries a '{criterion}' label; the learned judge needs some")
        if criterion == "questions" and config.questions_head == "question_signals":
            columns = [SIGNAL_NAMES.index(name) for name in QUESTION_SIGNALS]  # signals come first in Z
            c = config.c if config.questions_c is None else config.questions_c
            heads[criterion] = [_fit_monotone_head(Z[rows], y[rows], weights[rows], c, columns)]
        elif criterion in BINARY:
            heads[criterion] = [_fit_head(Z[rows], y[rows], weights[rows], config)]
        else:
            w = weights[rows]
            if criterion == "helpful" and config.balanced_helpful:
                w = w * _level_balance(y[rows])
            heads[criterion] = [_fit_head(Z[rows], (y[rows] > k).astype(float), w, config) for k in LEVELS[:-1]]
    return LearnedModel(config, mean, scale, heads, pca_mean, components, n_train=counts)


def data_hash(items: Sequence[LabelledReply], config: FitConfig) -> str:
    """Identity of what a fit learns from: the items, the config and the versions of the judge and features."""
    digest = hashlib.sha256()
    digest.update(json.dumps([LEARNED_VERSION, FEATURES_VERSION, config.__dict__], sort_keys=True).encode())
    for item in items:
        digest.update(item.model_dump_json().encode())
        digest.update(b"\n")
    return digest.hexdigest()


def fit_items(items: Sequence[LabelledReply], config: FitConfig = DEFAULT_FIT,
              X: np.ndarray | None = None) -> LearnedModel:
    """Fit on labelled replies (X: their features when already computed), recording what it learned from."""
    X = featurize([(i.dialogue, i.reply) for i in items]) if X is None else X
    model = fit(X, targets(items), [source_of(i) for i in items], config)
    model.data_hash = data_hash(items, config)
    model.item_keys = [item_key(i) for i in items]
    model.groups = [group_key(i) for i in items]
    return model
