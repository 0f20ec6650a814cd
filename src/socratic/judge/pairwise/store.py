"""The `pairwise` judge on disk: its model (socratic.judge.pairwise.fit) as the payload of the checksummed judge
file (socratic.judge.store), read back with every array checked; fitting it from the shipped labels and
saving it (`train`); the default judge, fitted on first use (`load_or_train`).

    socratic judge-train --reward              # train(): fit from the shipped labels, save under SOCRATIC_HOME/judges
    model = load(Path("path/to/reward.json"))
    model = load_or_train()                    # what `--judge pairwise` loads

Saved as one JSON file with a checksum, the training items' keys and groups (so `socratic agreement`
cross-validates it by conversation/problem), deterministic for the same data; a corrupt file is an
error naming the fix, a stale one at the default path is refitted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from socratic.errors import SocraticError
from socratic.judge import store
from socratic.judge.learned.features import EMBEDDING_DIM, FEATURES_VERSION
from socratic.judge.pairwise.features import REWARD_FEATURES
from socratic.judge.pairwise.fit import (
    DEFAULT_REWARD,
    REWARD_VERSION,
    RewardConfig,
    RewardModel,
    column_count,
    fit,
    training_data,
)
from socratic.scores import CRITERIA

ENV = "SOCRATIC_REWARD_JUDGE"


def default_path() -> Path:
    """SOCRATIC_HOME/judges/reward.json; env SOCRATIC_REWARD_JUDGE overrides it."""
    return store.default_path("reward.json", ENV)


def _payload(model: RewardModel) -> dict[str, Any]:
    from socratic.judge.learned import store as learned_store

    return {"version": REWARD_VERSION, "features": REWARD_FEATURES, "features_version": FEATURES_VERSION,
            "config": model.config.__dict__, "mean": model.mean.tolist(), "scale": model.scale.tolist(),
            "pca_mean": model.pca_mean.tolist(), "pca_components": model.pca_components.tolist(),
            "weights": model.weights.tolist(), "calibration": list(model.calibration),
            "learned": learned_store.to_payload(model.learned), "data_hash": model.data_hash,
            "item_keys": model.item_keys, "groups": model.groups, "n_pairs": model.n_pairs}


def model_hash(model: RewardModel) -> str:
    return store.checksum(_payload(model))


def save(model: RewardModel, path: Path) -> Path:
    return store.save(_payload(model), path)


class StaleRewardError(SocraticError):
    """A readable saved pairwise judge written by another version of socratic."""


class CorruptRewardError(SocraticError):
    """A saved pairwise judge that fails its checksum or cannot be read."""


def load(path: Path) -> RewardModel:
    """The saved pairwise judge; SocraticError (exit 2) naming the file when it is unreadable or stale."""
    from socratic.judge.learned import store as learned_store

    # The fix refits this file, wherever it is: `--reward --force` alone would refit the default judge instead.
    refit = f"refit it with `socratic judge-train --reward --out {path} --force`"
    try:
        payload, intact = store.read(path)
        if not intact:
            raise CorruptRewardError(f"{path}: the saved pairwise judge is corrupt (checksum mismatch); {refit}")
        if (payload["version"], payload["features"], payload["features_version"]) != (
                REWARD_VERSION, REWARD_FEATURES, FEATURES_VERSION):
            raise StaleRewardError(f"{path}: saved by another version ({payload['version']}); {refit}")
        config = RewardConfig(**payload["config"])
        criteria = learned_store.from_payload(payload["learned"])
        model = RewardModel(config, np.asarray(payload["mean"], dtype=np.float64),
                            np.asarray(payload["scale"], dtype=np.float64),
                            np.asarray(payload["pca_mean"], dtype=np.float64),
                            np.asarray(payload["pca_components"], dtype=np.float64).reshape(-1, EMBEDDING_DIM),
                            np.asarray(payload["weights"], dtype=np.float64),
                            (float(payload["calibration"][0]), float(payload["calibration"][1])), criteria,
                            payload["data_hash"], list(payload["item_keys"]), list(payload["groups"]),
                            dict(payload["n_pairs"]))
    except SocraticError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
        raise CorruptRewardError(f"{path}: cannot read the saved pairwise judge ({type(error).__name__}); "
                                 f"{refit}") from None
    problem = _array_problem(model)
    if problem:
        raise CorruptRewardError(f"{path}: the saved pairwise judge does not fit together ({problem}); {refit}")
    return model


def _array_problem(model: RewardModel) -> str | None:
    """What is wrong with the arrays of a loaded pairwise judge (None: nothing): shapes, then NaN or infinity,
    then a scale or calibration slope that is not positive; its criteria heads as the learned judge checks them.
    A hand edit can keep the checksum valid, and a NaN here would turn every summary into a silent failure."""
    from socratic.judge.learned import store as learned_store

    width = column_count(model.config)
    shapes = {"mean": (model.mean.shape, (width,)), "scale": (model.scale.shape, (width,)),
              "weights": (model.weights.shape, (width,)), "pca_mean": (model.pca_mean.shape, (EMBEDDING_DIM,)),
              "pca_components": (model.pca_components.shape, (model.config.pca_dims, EMBEDDING_DIM))}
    for name, (found, expected) in shapes.items():
        if found != expected:
            return f"{name}: shape {found}, expected {expected}"
    arrays = {"mean": model.mean, "scale": model.scale, "weights": model.weights, "pca_mean": model.pca_mean,
              "pca_components": model.pca_components, "calibration": np.asarray(model.calibration)}
    for name, values in arrays.items():
        if not np.isfinite(values).all():
            return f"{name}: NaN or infinite values"
    if (model.scale <= 0).any():
        return "scale: values <= 0"
    if model.calibration[0] <= 0:
        return "calibration: slope <= 0 (the summary would reverse the reward's order)"
    if set(model.learned.heads) != set(CRITERIA):
        return "learned.heads: incomplete"
    problem = learned_store.array_problem(model.learned)
    return f"learned.{problem}" if problem else None


def train(path: Path | None = None, config: RewardConfig = DEFAULT_REWARD,
          log: Callable[[str], None] | None = None) -> tuple[RewardModel, Path]:
    """Fit from the shipped labels and save; returns the model and where it went."""
    from socratic.judge.labels.human import training_items

    say = log or (lambda message: print(message, file=sys.stderr))
    items = training_items()
    say(f"fitting the pairwise judge on {len(items)} human-labelled replies ...")
    model = fit(training_data(items, config, say), config)
    path = save(model, path or default_path())
    say(f"saved the pairwise judge to {path} (pairs: {model.n_pairs['human']} human, {model.n_pairs['dev']} dev "
        f"across conversations, {model.n_pairs['synthetic']} synthetic, {model.n_pairs.get('teacher', 0)} teacher > model)")
    return model, path


def load_or_train(path: Path | None = None) -> RewardModel:
    """The default pairwise judge: loaded when present, fitted when missing. At the default location a
    stale or corrupt file is refitted (saying so); at a path of the user's it is an error (exit 2)."""
    default = store.is_default(path, ENV)
    path = path or default_path()
    if not path.exists():
        return train(path)[0]
    try:
        return load(path)
    except (StaleRewardError, CorruptRewardError) as error:
        if not default:
            raise
        print(f"{error}; refitting it", file=sys.stderr)
        return train(path)[0]
