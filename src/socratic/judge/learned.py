"""The `learned` judge: per-criterion logistic heads on text signals and frozen MiniLM features, fitted
on human labels only (offline, on the CPU, seeded and deterministic).

    socratic judge-train                      # fit from the shipped labels, save under SOCRATIC_HOME/judges
    socratic judge --judge learned ...        # loads it (fits it first when it is missing)
    judge = load_judge("learned:path/to/learned.json")

Heads (features: `socratic.judge.features`, standardised):
- questions, reveal_answer: logistic regression -> P(yes); the score is P >= 0.5; the questions head
  sees only the question signals, with weights >= 0 (`FitConfig.questions_head`);
- on_topic, helpful: ordinal 1-5 as four cumulative logistic heads P(y > k) (Frank & Hall), so labels on
  a coarser scale (MRBench's 1/3/5) train every threshold; E[y] = 1 + sum_k P(y > k); the score is
  round(E[y]). Text the labels never show is gated by rules (`apply_gates`: unreadable text is not
  helpful, role-play and repetition cost a level). The judgment's summary is the expected summary (probabilities and expected values in
  the formula), a smooth reward; `meta.judge_notes` keeps every probability.
A criterion a source does not label is masked for that source (rows without the label do not enter
that head). Training data (`training_items`): the socratic_llm human-eval dev file, MRBench V2 and BEA
2025 dev (deduplicated, mapping in `socratic.data.mrbench`), plus any Labelled-reply JSONL given.

The saved judge is one JSON file (a few hundred kB): the head weights, the training-data hash, each
training item's key and group (so `socratic agreement` can detect overlap and cross-validate), and a
checksum; a file that does not match its checksum is an error, never silently replaced; one saved by an
older version is refitted only at the default location (`load_or_train`), an error anywhere else.
The choice of features and regularisation was made by grouped cross-validation with a held-out part
fixed beforehand (experiments/select_learned_judge.py; numbers in docs/results.md).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from socratic.cache import Cache
from socratic.errors import SocraticError
from socratic.judge import store
from socratic.judge.base import RULE_DETECTORS, Item, Judge, Outcome
from socratic.judge.features import EMBEDDING_DIM, FEATURES_VERSION, QUESTION_SIGNALS, SIGNAL_NAMES, featurize
from socratic.records import LabelledReply
from socratic.scores import CRITERIA, Scores

LEARNED_VERSION = "learned_v3"  # v3: a reply that only asks for material the dialogue holds is not helpful
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


# --------------------------------------------------------------------------- training data

def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def group_key(item: LabelledReply) -> str:
    """The cross-validation group: the problem (MathDial problems recur across sources), else the
    conversation. Every reply to one problem falls in the same fold."""
    problem = normalise(item.dialogue.context)[:200]
    if len(problem) >= 20:
        return "problem:" + hashlib.sha1(problem.encode()).hexdigest()[:16]
    return str(item.dialogue.meta.get("group") or item.dialogue.id)


def item_key(item: LabelledReply) -> str:
    """Identity of a labelled reply across files: the reply and the student turn it answers."""
    text = normalise(item.reply) + "\x00" + normalise(item.dialogue.turns[-1].text)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def source_of(item: LabelledReply) -> str:
    return "mrbench" if item.dialogue.source == "mrbench" else "socratic_llm"


def shipped_label_files() -> list[Path]:
    """The human-labelled files the judge learns from, found through socratic.data.location."""
    from socratic.data.location import data_file

    return [data_file("socratic_llm", "mathdial_human_eval_dev.json"),
            data_file("mrbench", "MRBench_V2_dev.json"), data_file("mrbench", "bea2025_dev.json")]


def training_items(extra: Sequence[Path] = ()) -> list[LabelledReply]:
    """The shipped labels (deduplicated) plus the user's Labelled-reply JSONL files."""
    from socratic.data import load_labelled
    from socratic.data.mrbench import load_mrbench_files

    dev, v2, bea = shipped_label_files()
    items = load_labelled(dev) + load_mrbench_files([v2, bea])
    for path in extra:
        items += load_labelled(path)
    seen, out = set(), []
    for item in items:
        key = item_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def data_hash(items: Sequence[LabelledReply], config: FitConfig) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([LEARNED_VERSION, FEATURES_VERSION, config.__dict__], sort_keys=True).encode())
    for item in items:
        digest.update(item.model_dump_json().encode())
        digest.update(b"\n")
    return digest.hexdigest()


def targets(items: Sequence[LabelledReply]) -> dict[str, np.ndarray]:
    """Per criterion, the label as float with NaN where the source does not label it (masked)."""
    out = {}
    for criterion in CRITERIA:
        values = [getattr(item.labels, criterion) for item in items]
        out[criterion] = np.array([np.nan if v is None else float(v) for v in values])
    return out


# --------------------------------------------------------------------------- the model

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


def _pca(embeddings: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
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
        pca_mean, components = _pca(X[:, len(SIGNAL_NAMES):], config.pca_dims)
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


def fit_items(items: Sequence[LabelledReply], config: FitConfig = DEFAULT_FIT,
              X: np.ndarray | None = None) -> LearnedModel:
    X = featurize([(i.dialogue, i.reply) for i in items]) if X is None else X
    model = fit(X, targets(items), [source_of(i) for i in items], config)
    model.data_hash = data_hash(items, config)
    model.item_keys = [item_key(i) for i in items]
    model.groups = [group_key(i) for i in items]
    return model


# --------------------------------------------------------------------------- saving and loading

def default_path() -> Path:
    """SOCRATIC_HOME/judges/learned.json; env SOCRATIC_LEARNED_JUDGE overrides it."""
    from socratic.paths import home

    override = os.environ.get("SOCRATIC_LEARNED_JUDGE")
    return Path(override).expanduser() if override else home() / "judges" / "learned.json"


def _payload(model: LearnedModel) -> dict[str, Any]:
    return {
        "version": LEARNED_VERSION, "features_version": FEATURES_VERSION, "config": model.config.__dict__,
        "data_hash": model.data_hash, "n_train": model.n_train,
        "mean": model.mean.tolist(), "scale": model.scale.tolist(),
        "pca_mean": model.pca_mean.tolist(), "pca_components": model.pca_components.tolist(),
        "heads": {c: [[coef.tolist(), bias] for coef, bias in head] for c, head in model.heads.items()},
        "item_keys": model.item_keys, "groups": model.groups, "extra_files": model.extra_files,
    }


def model_hash(model: LearnedModel) -> str:
    """Identity of the fitted weights (same seed and data -> same hash)."""
    return store.checksum(_payload(model))


def save(model: LearnedModel, path: Path) -> Path:
    return store.save(_payload(model), path)


class StaleJudgeError(SocraticError):
    """A readable saved judge written by another version of socratic (refittable, unlike a corrupt one)."""


def load(path: Path) -> LearnedModel:
    """The saved judge; SocraticError (exit 2) naming the file when it is unreadable, stale, or its numbers
    do not fit together (a hand edit can keep the checksum valid: it is recomputable)."""
    # The fix refits this file, wherever it is: `--force` alone would refit the default judge instead.
    refit = f"refit it with `socratic judge-train --out {path} --force`"
    try:
        payload, intact = store.read(path)
        if not intact:
            raise SocraticError(f"{path}: the saved learned judge is corrupt (checksum mismatch); {refit}")
        if payload["version"] != LEARNED_VERSION or payload["features_version"] != FEATURES_VERSION:
            raise StaleJudgeError(f"{path}: saved by another version ({payload['version']}, "
                                  f"{payload['features_version']}); {refit}")
        config = FitConfig(**payload["config"])
        if not isinstance(payload["heads"], dict) or not all(isinstance(h, list) for h in payload["heads"].values()):
            raise SocraticError(f"{path}: the saved learned judge does not fit together (heads: wrong shape, "
                                f"expected criterion -> list of [weights, bias]); {refit}")
        heads = {c: [(np.asarray(coef, dtype=np.float64), float(bias)) for coef, bias in head]
                 for c, head in payload["heads"].items()}
        model = LearnedModel(config, np.asarray(payload["mean"], dtype=np.float64),
                             np.asarray(payload["scale"], dtype=np.float64), heads,
                             np.asarray(payload["pca_mean"], dtype=np.float64),
                             np.asarray(payload["pca_components"], dtype=np.float64).reshape(-1, EMBEDDING_DIM),
                             payload["data_hash"], list(payload["item_keys"]), list(payload["groups"]),
                             dict(payload["n_train"]), list(payload.get("extra_files", [])))
    except SocraticError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SocraticError(f"{path}: cannot read the saved learned judge ({type(error).__name__}); {refit}") from None
    if set(heads) != set(CRITERIA):
        raise SocraticError(f"{path}: the saved learned judge is incomplete; {refit}")
    problem = _shape_problem(model)
    if problem:
        raise SocraticError(f"{path}: the saved learned judge does not fit together ({problem}); {refit}")
    return model


def _shape_problem(model: LearnedModel) -> str | None:
    """What is wrong with the arrays of a loaded judge (None: nothing): shapes, then NaN or infinity."""
    columns = model.config.columns()
    pca = model.config.pca_dims if model.config.features == "pca" else 0
    shapes = {"mean": (model.mean.shape, (columns,)), "scale": (model.scale.shape, (columns,)),
              "pca_mean": (model.pca_mean.shape, (EMBEDDING_DIM,) if pca else model.pca_mean.shape),
              "pca_components": (model.pca_components.shape, (pca, EMBEDDING_DIM))}
    for criterion, head in model.heads.items():
        if len(head) != (1 if criterion in BINARY else len(LEVELS) - 1):
            return f"heads.{criterion}: {len(head)} heads, wrong shape"
        shapes |= {f"heads.{criterion}[{k}]": (coef.shape, (columns,)) for k, (coef, _) in enumerate(head)}
    for name, (found, expected) in shapes.items():
        if found != expected:
            return f"{name}: shape {found}, expected {expected}"
    arrays = {"mean": model.mean, "scale": model.scale, "pca_mean": model.pca_mean,
              "pca_components": model.pca_components}
    arrays |= {f"heads.{c}": np.array([[*coef, bias] for coef, bias in head]) for c, head in model.heads.items()}
    for name, values in arrays.items():
        if not np.isfinite(values).all():
            return f"{name}: NaN or infinite values"
    if (model.scale <= 0).any():
        return "scale: values <= 0"
    return None


def train(path: Path | None = None, extra: Sequence[Path] = (), config: FitConfig = DEFAULT_FIT,
          log: Callable[[str], None] | None = None) -> tuple[LearnedModel, Path]:
    """Fit from the shipped labels (+ extra JSONL) and save; returns the model and where it went."""
    say = log or (lambda message: print(message, file=sys.stderr))
    items = training_items(extra)
    say(f"fitting the learned judge on {len(items)} human-labelled replies ...")
    model = fit_items(items, config)
    model.extra_files = [str(Path(p).resolve()) for p in extra]
    path = save(model, path or default_path())
    say(f"saved the learned judge to {path} (training data {model.short_hash}, n per criterion {model.n_train})")
    return model, path


def load_or_train(path: Path | None = None) -> LearnedModel:
    """The default judge: loaded when present (errors on corruption), fitted and saved when missing.

    At the default location (SOCRATIC_HOME/judges: the judge `--judge learned` fits on first use) a file
    saved by an older version of socratic is refitted from the shipped labels, saying so: upgrading must
    not break every command that judges. A judge at a path of the user's (`learned:PATH`,
    SOCRATIC_LEARNED_JUDGE) is theirs: a stale one is an error (exit 2) naming the fix, like a corrupt
    one anywhere."""
    default = path is None and not os.environ.get("SOCRATIC_LEARNED_JUDGE")
    path = path or default_path()
    if not path.exists():
        return train(path)[0]
    try:
        return load(path)
    except StaleJudgeError:
        if not default:
            raise
        print(f"{path}: saved by an older version of socratic (not {LEARNED_VERSION}); refitting it",
              file=sys.stderr)
        return train(path)[0]


# --------------------------------------------------------------------------- the judge

def judge_notes(proba: dict[str, np.ndarray], row: int) -> dict[str, Any]:
    expected = {c: round(float(v[row]), 4) for c, v in expected_values(proba).items()}
    return {"expected": expected,
            "proba": {c: [round(float(x), 4) for x in np.atleast_1d(proba[c][row])] for c in CRITERIA}}


_UNREADABLE = {"gibberish", "non-English", "empty"}


def apply_gates(notes: dict[str, Any], reply: str) -> dict[str, Any]:
    """Rules for text the human labels never show (so no head can have learned them): unreadable text
    (gibberish, another language, empty) is neither helpful nor on topic; a reply that only asks for
    material the conversation holds ("Can you please provide the code you're working with?") is not
    helpful; role-play as the student and repeated text cost a level of helpfulness. The raw
    probabilities stay in `proba`."""
    from socratic.judge.rubric_signals import asks_only_for_material, quality_flags

    flags = set(quality_flags(reply)) | ({"material request"} if asks_only_for_material(reply) else set())
    expected = dict(notes["expected"])
    if flags & _UNREADABLE:
        expected["helpful"], expected["on_topic"] = 1.0, min(expected["on_topic"], 2.0)
    if "material request" in flags:
        expected["helpful"] = 1.0
    for flag in sorted(flags & {"role-play", "repetition"}):
        expected["helpful"] = max(1.0, expected["helpful"] - 1.0)
    gates = sorted(flags & (_UNREADABLE | {"material request", "role-play", "repetition"}))
    return {**notes, "expected": expected, "gates": gates} if gates else notes


def scores_from_expected(expected: dict[str, float]) -> Scores:
    return Scores(questions=expected["questions"] >= 0.5, reveal_answer=expected["reveal_answer"] >= 0.5,
                  on_topic=int(min(5, max(1, round(expected["on_topic"])))),
                  helpful=int(min(5, max(1, round(expected["helpful"])))))


class LearnedJudge(Judge):
    """Scores from a fitted LearnedModel; the summary is the expected summary (see module doc)."""

    detectors = RULE_DETECTORS | {"learned_heads"}

    def __init__(self, *, cache: Cache, model: LearnedModel, name: str = "learned"):
        super().__init__(cache)
        self.model = model
        self.spec = name
        self.version = f"{LEARNED_VERSION}:{model_hash(model)[:16]}"

    def model_extra_files(self) -> list[Path]:
        return [Path(p) for p in self.model.extra_files]

    def _score(self, items: Sequence[Item], done: Callable[[int, Outcome], None]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for start in range(0, len(items), 256):
            part = items[start:start + 256]
            proba = self.model.predict(featurize(part))
            for offset, (_, reply) in enumerate(part):
                notes = apply_gates(judge_notes(proba, offset), reply)
                outcome = Outcome(scores=scores_from_expected(notes["expected"]), notes=notes)
                outcomes.append(outcome)
                done(start + offset, outcome)
        return outcomes
