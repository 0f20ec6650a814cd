"""The `learned` judge on disk: its model (socratic.judge.learned.fit) as the payload of the checksummed
judge file (socratic.judge.store), read back with every array checked; fitting it from the shipped labels
and saving it (`train`); the default judge, fitted on first use (`load_or_train`).

    socratic judge-train                      # train(): fit from the shipped labels, save under SOCRATIC_HOME/judges
    model = load(Path("path/to/learned.json"))
    model = load_or_train()                   # what `--judge learned` loads

The saved judge is one JSON file (a few hundred kB): the head weights, the training-data hash, each
training item's key and group (so `socratic agreement` can detect overlap and cross-validate), and a
checksum; a file that does not match its checksum is an error, never silently replaced; one saved by an
older version is refitted only at the default location (`load_or_train`), an error anywhere else.
The pairwise judge's file holds its criteria heads as one such payload (`to_payload` / `from_payload`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socratic.errors import SocraticError
from socratic.judge import store
from socratic.judge.labels.human import training_items
from socratic.judge.learned.features import EMBEDDING_DIM, FEATURES_VERSION
from socratic.judge.learned.fit import (
    BINARY,
    DEFAULT_FIT,
    LEARNED_VERSION,
    LEVELS,
    FitConfig,
    LearnedModel,
    fit_items,
)
from socratic.scores import CRITERIA

ENV = "SOCRATIC_LEARNED_JUDGE"


def default_path() -> Path:
    """SOCRATIC_HOME/judges/learned.json; env SOCRATIC_LEARNED_JUDGE overrides it."""
    return store.default_path("learned.json", ENV)


def to_payload(model: LearnedModel) -> dict[str, Any]:
    return {
        "version": LEARNED_VERSION, "features_version": FEATURES_VERSION, "config": model.config.__dict__,
        "data_hash": model.data_hash, "n_train": model.n_train,
        "mean": model.mean.tolist(), "scale": model.scale.tolist(),
        "pca_mean": model.pca_mean.tolist(), "pca_components": model.pca_components.tolist(),
        "heads": {c: [[coef.tolist(), bias] for coef, bias in head] for c, head in model.heads.items()},
        "item_keys": model.item_keys, "groups": model.groups, "extra_files": model.extra_files,
    }


def from_payload(payload: dict[str, Any]) -> LearnedModel:
    """The model `to_payload` wrote, unchecked (`load` checks it); ValueError, KeyError, TypeError or
    AttributeError when the payload is malformed."""
    config = FitConfig(**payload["config"])
    heads = {c: [(np.asarray(coef, dtype=np.float64), float(bias)) for coef, bias in head]
             for c, head in payload["heads"].items()}
    return LearnedModel(config, np.asarray(payload["mean"], dtype=np.float64),
                        np.asarray(payload["scale"], dtype=np.float64), heads,
                        np.asarray(payload["pca_mean"], dtype=np.float64),
                        np.asarray(payload["pca_components"], dtype=np.float64).reshape(-1, EMBEDDING_DIM),
                        payload["data_hash"], list(payload["item_keys"]), list(payload["groups"]),
                        dict(payload["n_train"]), list(payload.get("extra_files", [])))


def model_hash(model: LearnedModel) -> str:
    """Identity of the fitted weights (same seed and data -> same hash)."""
    return store.checksum(to_payload(model))


def save(model: LearnedModel, path: Path) -> Path:
    return store.save(to_payload(model), path)


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
        FitConfig(**payload["config"])  # first: settings this version does not know are "cannot read"
        if not isinstance(payload["heads"], dict) or not all(isinstance(h, list) for h in payload["heads"].values()):
            raise SocraticError(f"{path}: the saved learned judge does not fit together (heads: wrong shape, "
                                f"expected criterion -> list of [weights, bias]); {refit}")
        model = from_payload(payload)
    except SocraticError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SocraticError(f"{path}: cannot read the saved learned judge ({type(error).__name__}); {refit}") from None
    if set(model.heads) != set(CRITERIA):
        raise SocraticError(f"{path}: the saved learned judge is incomplete; {refit}")
    problem = array_problem(model)
    if problem:
        raise SocraticError(f"{path}: the saved learned judge does not fit together ({problem}); {refit}")
    return model


def array_problem(model: LearnedModel) -> str | None:
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
    default = store.is_default(path, ENV)
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

