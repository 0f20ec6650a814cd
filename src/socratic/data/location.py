"""Where the datasets live, what each one is (origin, license), and the result type every adapter returns.

The datasets ship inside the package, in `src/socratic/datasets/<dataset>/` (each with its SOURCE.md
and LICENSE; docs/design.md says which stage reads what). A checkout or editable install reads them
from the repository; a wheel install from `site-packages/socratic/datasets/`: the same files.

Lookup, per file (`data_file("mathdial", "test.jsonl")`):
1. the data folder: `$SOCRATIC_DATA_DIR` when set (it replaces the shipped folder entirely: a
   different copy or version of the datasets), otherwise the shipped folder;
2. `$SOCRATIC_HOME/data` (default ~/.cache/socratic/data): files you add yourself that socratic may
   not redistribute, e.g. MathDial's train split at `$SOCRATIC_HOME/data/mathdial/train.jsonl`.
Nothing outside these folders is consulted. `socratic data list` shows where each dataset was read from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from socratic.errors import SocraticError
from socratic.records import Dialogue
from socratic.store import paths

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "datasets"


@dataclass(frozen=True)
class Dataset:
    """One dataset folder: the files socratic reads from it, its license and where it comes from."""

    folder: str
    title: str
    license: str
    origin: str
    files: tuple[str, ...]  # relative to the folder; shipped
    optional: tuple[str, ...] = ()  # read when present; not redistributed, a user adds them


DATASETS: dict[str, Dataset] = {d.folder: d for d in (
    Dataset("socratic_llm", "socratic-llm prompt sets and human-eval dev labels",
            "MIT (dialogues derived from CC BY-SA 4.0 MathDial, MIT Socratic Debugging, TutorChat)",
            "https://github.com/GiovanniGatti/socratic-llm",
            tuple(f"{kind}_{split}.json" for kind in ("mathdial", "debugging", "tutorchat")
                  for split in ("train", "test")) + ("mathdial_human_eval_dev.json",)),
    Dataset("mathdial", "raw MathDial", "CC BY-SA 4.0", "https://github.com/eth-nlped/mathdial",
            ("test.jsonl",), optional=("train.jsonl",)),
    Dataset("socratic_debugging", "Socratic Debugging Benchmark v2 (SIGCSE'24)", "MIT (per the authors' dataset card)",
            "https://github.com/taisazero/socratic-debugging-benchmark",
            ("socratic_debugging_benchmark/v2_sigcse/train", "socratic_debugging_benchmark/v2_sigcse/testset")),
    Dataset("mrbench", "MRBench / BEA 2025 human-labelled tutor replies", "CC BY-SA 4.0",
            "https://github.com/kaushal0494/UnifyingAITutorEvaluation", ("MRBench_V2_dev.json", "bea2025_dev.json")),
    Dataset("teacher_pairs", "teacher turns of the training dialogues vs the embedded model's replies (issue 36)",
            "CC BY-SA 4.0 (teacher turns from MathDial, CC BY-SA 4.0, and Socratic Debugging, MIT)",
            "made here: experiments/sample_teacher_contexts.py", ("pairs.jsonl",)),
    Dataset("gsm8k", "GSM8K worked solutions (every MathDial problem's reference)", "MIT",
            "https://github.com/openai/grade-school-math", ("train.jsonl", "test.jsonl")),
)}

# Public data socratic does not ship (too large or not redistributable): what to fetch and where to put it.
NOT_SHIPPED: dict[tuple[str, ...], str] = {
    ("mathdial", "train.jsonl"): "MathDial's train split (CC BY-SA 4.0, 7 MB) is not shipped: download "
                                 "data/train.jsonl from https://github.com/eth-nlped/mathdial",
}
TUTORCHAT_RAW = ("TutorChat's raw dialogues (princeton-nlp/TutorChat on the Hugging Face Hub, 2.3 GB, no license "
                 "declared) are not shipped and socratic has no adapter for them; the 594/101 TutorChat-derived "
                 "prompts of the reference are the `tutorchat` source")


def data_dir() -> Path:
    """The data folder: $SOCRATIC_DATA_DIR when set, else the datasets shipped with the package."""
    override = os.environ.get("SOCRATIC_DATA_DIR")
    if override:
        path = Path(override).expanduser()
        if not path.is_dir():
            raise SocraticError(f"SOCRATIC_DATA_DIR={override} is not a folder")
        return path
    if not SHIPPED_DIR.is_dir():
        raise SocraticError(f"the shipped datasets are missing ({SHIPPED_DIR}): reinstall socratic, "
                            "or set SOCRATIC_DATA_DIR to a folder holding them")
    return SHIPPED_DIR


def user_data_dir() -> Path:
    """Where a user puts data socratic does not ship ($SOCRATIC_HOME/data)."""
    return paths.home() / "data"


def search_path() -> list[Path]:
    return [data_dir(), user_data_dir()]


def find_data_file(*parts: str) -> Path | None:
    """The first of the search path's folders that has this file (or folder), else None."""
    for folder in search_path():
        path = folder.joinpath(*parts)
        if path.exists():
            return path
    return None


def data_file(*parts: str) -> Path:
    """A file under the data folders, with an error that says where it was looked for and where it comes from."""
    path = find_data_file(*parts)
    if path is not None:
        return path
    tried = " and ".join(str(folder.joinpath(*parts)) for folder in search_path())
    if tuple(parts) in NOT_SHIPPED:
        raise SocraticError(f"{NOT_SHIPPED[tuple(parts)]} and put it at {user_data_dir().joinpath(*parts)}")
    dataset = DATASETS.get(parts[0]) if parts else None
    origin = f" ({dataset.title}, from {dataset.origin})" if dataset else ""
    raise SocraticError(f"dataset file not found{origin}: looked for {tried}")


def dataset_locations(dataset: Dataset) -> dict[str, Path | None]:
    """Each file the code reads from `dataset` (shipped and optional ones) -> where it is found, or None."""
    return {name: find_data_file(dataset.folder, *name.split("/")) for name in dataset.files + dataset.optional}


@dataclass
class Skipped:
    """An item that could not be turned into a valid Dialogue: reported and counted, never silent."""

    id: str
    reason: str


@dataclass
class Loaded:
    dialogues: list[Dialogue]
    skipped: list[Skipped] = field(default_factory=list)
