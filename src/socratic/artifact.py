"""The base of every result file a run writes: typed, versioned, written and read through its model.

    class TrainSummary(Artifact):
        VERSION: ClassVar[int] = 1
        steps: int | None = None
    TrainSummary(steps=3).write(path)            # {"version": 1, "steps": 3}, atomically
    TrainSummary.read(path).steps                # bad input -> InputError naming the file and the field

`version` is the file format's version, stamped on every write; a file from before versions reads as
version 0 (the models give its missing fields defaults), and a file from a NEWER format than this
code knows is refused with one line rather than half-read. Unknown keys are kept (`extra="allow"`).
Subclasses: socratic.train.summary.TrainSummary, socratic.pipeline.records (stage manifests, timings),
socratic.evaluate.result.Evaluation, socratic.agreement.result.Agreement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, model_validator

from socratic.jsonl import read_json_model, write_json


class Artifact(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    VERSION: ClassVar[int] = 1
    version: int = 0  # 0: written before files had versions

    @model_validator(mode="after")
    def _known_version(self) -> Self:
        if self.version > self.VERSION:
            raise ValueError(f"format version {self.version} is newer than this socratic reads "
                             f"({type(self).__name__} {self.VERSION}): upgrade socratic")
        return self

    @classmethod
    def read(cls, path: str | Path) -> Self:
        return read_json_model(path, cls)

    @classmethod
    def read_if_exists(cls, path: str | Path) -> Self | None:
        """The record, or None when the file is missing (a stage that has not run)."""
        return cls.read(path) if Path(path).exists() else None

    def write(self, path: str | Path) -> Path:
        return write_json(path, self.model_copy(update={"version": self.VERSION}).model_dump(mode="json"))

    @classmethod
    def write_checked(cls, path: str | Path, document: dict[str, Any]) -> dict[str, Any]:
        """Stamp the version on `document`, check it against the model, write it as it is (atomically):
        what readers will refuse is refused here, before the file exists. Returns what was written."""
        document = {**document, "version": cls.VERSION}
        cls.model_validate(document)  # our own bug if it fails: a traceback, not a user error
        write_json(path, document)
        return document
