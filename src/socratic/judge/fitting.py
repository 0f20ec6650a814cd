"""The `socratic judge-train` stage: fit the `learned` judge (or, `reward`, the `pairwise` one) on human labels
and save it, or keep the judge already saved there.

    socratic judge-train                                  # SOCRATIC_HOME/judges/learned.json (`--judge learned`)
    socratic judge-train --labels mine.jsonl -o runs/learned.json
    socratic judge-train --reward --force                 # refit SOCRATIC_HOME/judges/reward.json
    socratic judge-train --reward --restating -o runs/reward-restating.json   # then reward_judge: pairwise:PATH

    from socratic.judge.fitting import JudgeTrainConfig, run
    saved = run(JudgeTrainConfig(labels=[Path("mine.jsonl")], out=Path("runs/learned.json")))
    saved.path, saved.fitted, saved.summary()

The fit itself and the judge file are the judge's store (socratic.judge.learned.store, socratic.judge.pairwise.store,
found through socratic.judge.registry); this module decides whether to fit and checks what it is given first.
The stores load when `run` runs: the command line builds its options from `JudgeTrainConfig` at start.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from socratic.errors import InputError, SocraticError
from socratic.judge.registry import KINDS
from socratic.store.paths import check_output_file


class JudgeTrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    labels: list[Path] = Field(default_factory=list, description=(
        "Extra Labelled-reply JSONL (or MRBench JSON) to learn from, besides the shipped labels; repeat for "
        "several files."))
    out: Path | None = Field(default=None, description=(
        "Where to save the judge (default: SOCRATIC_HOME/judges/learned.json, which `--judge learned` loads)."))
    force: bool = Field(default=False, description="Refit even when a saved judge exists.")
    reward: bool = Field(default=False, description=(
        "Fit the `pairwise` judge (a reward model) instead (shipped labels + synthetic dodges; default path "
        "SOCRATIC_HOME/judges/reward.json)."))
    restating: bool = Field(default=False, description=(
        "With --reward: also fit on how much the reply's questions are the problem's own question handed back "
        "(two features and that dodge family as hard negatives; experiments/restating)."))


@dataclass(frozen=True)
class SavedJudge:
    """The judge file `run` leaves: fitted by this run, or (`fitted` False) saved before and kept."""

    kind: str  # "learned" or "pairwise"
    path: Path
    fitted: bool
    model_hash: str  # the weights' identity (socratic.judge.store.checksum of the payload)
    data_hash: str  # the training data's

    def summary(self) -> str:
        if self.fitted:
            return f"{self.kind} judge {self.model_hash[:12]} saved to {self.path}"
        return (f"{self.path} already holds a {self.kind} judge (training data {self.data_hash[:12]}); "
                "--force refits it")


def check(config: JudgeTrainConfig) -> None:
    """Before a fit of a minute or more: where it goes, and that each extra labels file holds labels (an empty
    one would fit on the shipped labels alone). SocraticError, one line, exit 2."""
    from socratic.data import load_labelled

    if config.out is not None:
        check_output_file(config.out)
    if config.reward and config.labels:
        raise SocraticError("--labels: the pairwise judge learns from the shipped labels only (for now)")
    if config.restating and not config.reward:
        raise SocraticError("--restating: a setting of the pairwise judge; add --reward")
    for path in config.labels:
        if not load_labelled(path):
            raise InputError("no labelled replies in the file (--labels)", path=str(path))


def run(config: JudgeTrainConfig) -> SavedJudge:
    """Fit and save the judge; keep a saved one unless `force` or extra `labels` ask for a new fit."""
    check(config)
    kind = KINDS["pairwise" if config.reward else "learned"]
    store = kind.saved()
    path = config.out or store.default_path()
    if path.exists() and not config.force and not config.labels:
        model = store.load(path)
        return SavedJudge(kind.name, path, False, store.model_hash(model), model.data_hash)
    if config.labels:
        model, path = store.train(path, extra=config.labels)
    elif config.restating:
        model, path = store.train(path, replace(store.DEFAULT_REWARD, restating=True))
    else:
        model, path = store.train(path)
    return SavedJudge(kind.name, path, True, store.model_hash(model), model.data_hash)
