"""Dataset adapters: every source becomes a list of `Dialogue` records ending on a student turn.

Sources (`socratic data list` shows counts):
- `mathdial`, `debugging`, `tutorchat`: the reference's prompt sets (the paper's train/test sets;
  the pipeline's defaults), parsed by `socratic.data.socratic_llm`;
- `mathdial-raw`: raw MathDial, one dialogue per teacher turn (`socratic.data.mathdial`);
- `debugging-raw`: the Socratic Debugging Benchmark v2, one per Assistant turn (`socratic.data.debugging`);
- a path to a user `.jsonl` of Dialogues (`socratic.data.user`).

    from socratic.data import load_dialogues
    test = load_dialogues("mathdial", "test")
    train = load_dialogues("debugging", "train", dedupe=True)  # drops duplicates and test overlap

Items that cannot be made valid are counted and logged (`socratic.data` logger), never silently lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from socratic.data import debugging, mathdial, socratic_llm, user
from socratic.data import overlap as overlaps
from socratic.data.labelled import load_labelled
from socratic.data.location import (
    DATASETS,
    NOT_SHIPPED,
    TUTORCHAT_RAW,
    Loaded,
    Skipped,
    data_dir,
    dataset_locations,
    search_path,
    user_data_dir,
)
from socratic.data.overlap import Dropped
from socratic.errors import SocraticError
from socratic.records import Dialogue

__all__ = [
    "DATASETS",
    "SOURCES",
    "TUTORCHAT_RAW",
    "DatasetInfo",
    "Dropped",
    "Skipped",
    "SourceInfo",
    "data_dir",
    "get_dialogue",
    "list_datasets",
    "list_sources",
    "load_dialogues",
    "load_labelled",
    "load_with_report",
]

log = logging.getLogger("socratic.data")


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    loader: Callable[[str], Loaded]
    splits: Callable[[], list[str]]
    dataset: str  # the folder under the data folder it reads (location.DATASETS)


SOURCES: dict[str, Source] = {
    kind: Source(kind, f"socratic-llm {kind} prompt set (the paper's train/test)",
                 (lambda split, kind=kind: socratic_llm.load(kind, split)), lambda: list(socratic_llm.SPLITS),
                 "socratic_llm")
    for kind in socratic_llm.KINDS
} | {
    "mathdial-raw": Source("mathdial-raw", "raw MathDial, one dialogue per teacher turn",
                           mathdial.load, mathdial.available_splits, "mathdial"),
    "debugging-raw": Source("debugging-raw", "Socratic Debugging Benchmark v2, one per Assistant turn",
                            debugging.load, lambda: list(debugging.FOLDERS), "socratic_debugging"),
}


@lru_cache(maxsize=32)
def _load_cached(source: str, split: str, folder: str) -> Loaded:
    """Parse each (source, split) once per process; `folder` keys the cache on the data location."""
    loaded = SOURCES[source].loader(split)
    for item in loaded.skipped:
        log.warning("%s: skipped %s: %s", source, item.id, item.reason)
    return loaded


def _load(source: str, split: str) -> Loaded:
    if source in SOURCES:
        return _load_cached(source, split, str(search_path()))
    if user.looks_like_path(source):
        return user.load(source)
    if source == "tutorchat-raw":
        raise SocraticError(TUTORCHAT_RAW)
    known = ", ".join(SOURCES)
    raise SocraticError(f"unknown dataset {source!r}: use one of {known}, or a path to a .jsonl of dialogues")


def load_with_report(source: str, split: str, *, dedupe: bool = False) -> tuple[list[Dialogue], list[Dropped],
                                                                                  list[Skipped]]:
    """(dialogues, dropped by dedupe, skipped as invalid)."""
    loaded = _load(source, split)
    dialogues, dropped = list(loaded.dialogues), []
    if dedupe:
        test = None
        if source in SOURCES and split != "test" and "test" in SOURCES[source].splits():
            test = _load(source, "test").dialogues
        dialogues, dropped = overlaps.dedupe(dialogues, test)
        if dropped:
            log.info("%s/%s: dropped %d of %d (duplicates or also in test)", source, split, len(dropped),
                     len(loaded.dialogues))
    return dialogues, dropped, list(loaded.skipped)



def load_dialogues(source: str, split: str, *, dedupe: bool = False) -> list[Dialogue]:
    """The dialogues of `source` (a known name or a .jsonl path) and `split` ("train" / "test").

    dedupe=True drops exact duplicates within the split and, for non-test splits, items also
    in the test split (`load_with_report` says which)."""
    return load_with_report(source, split, dedupe=dedupe)[0]


def get_dialogue(source: str, split: str, id: str) -> Dialogue:
    for dialogue in load_dialogues(source, split):
        if dialogue.id == id:
            return dialogue
    example = next(iter(load_dialogues(source, split)), None)
    hint = f" (ids look like {example.id!r})" if example else ""
    raise SocraticError(f"no dialogue {id!r} in {source} {split}{hint}")


@dataclass(frozen=True)
class SourceInfo:
    source: str
    split: str
    count: int
    duplicates: int
    overlap_with_test: int | None  # distinct contents also in test; None for the test split itself
    with_reference: int
    skipped: int
    description: str
    note: str = ""


def list_sources() -> list[SourceInfo]:
    """Counts, in-split duplicates and train/test overlap of every known source and split."""
    out = []
    for source in SOURCES.values():
        splits = source.splits()
        test = _load(source.name, "test").dialogues if "test" in splits else []
        for split in ("train", "test"):
            if split not in splits:
                out.append(SourceInfo(source.name, split, 0, 0, None, 0, 0, source.description,
                                      note="not shipped"))
                continue
            loaded = _load(source.name, split)
            dialogues = loaded.dialogues
            out.append(SourceInfo(
                source.name, split, len(dialogues), len(overlaps.duplicates(dialogues)),
                None if split == "test" else overlaps.overlap_count(dialogues, test),
                sum(d.reference is not None for d in dialogues), len(loaded.skipped), source.description))
    return out


@dataclass(frozen=True)
class DatasetInfo:
    folder: str
    title: str
    license: str
    origin: str
    read_from: list[Path]  # the folders its present files were found in
    missing: list[str]  # shipped files not found (a broken install or a partial SOCRATIC_DATA_DIR)
    absent_optional: list[tuple[str, str]]  # (file, where to put it and where it comes from)


def list_datasets() -> list[DatasetInfo]:
    """Every dataset folder: where its files are read from, its license and origin, what is missing."""
    out = []
    for dataset in DATASETS.values():
        found = dataset_locations(dataset)
        read_from = []
        for name, path in found.items():
            if path is not None:
                root = path.parents[len(Path(name).parts) - 1]
                if root not in read_from:
                    read_from.append(root)
        missing = [name for name in dataset.files if found[name] is None]
        absent = [(name, f"{NOT_SHIPPED.get((dataset.folder, name), 'not shipped')}; put it at "
                         + str(user_data_dir() / dataset.folder / name))
                  for name in dataset.optional if found[name] is None]
        out.append(DatasetInfo(dataset.folder, dataset.title, dataset.license, dataset.origin, read_from, missing,
                               absent))
    return out
