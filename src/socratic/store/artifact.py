"""The base of every file a run writes: typed, versioned, written and read through its model.

    class TrainSummary(Artifact):                # one JSON document
        VERSION: ClassVar[int] = 1
        steps: int | None = None
    TrainSummary(steps=3).write(path)            # {"version": 1, "steps": 3}, atomically
    TrainSummary.read(path).steps                # bad input -> InputError naming the file and the field

    class Candidate(ArtifactRow):                # one line of a JSON Lines file
        VERSION: ClassVar[int] = 1
        reply: str
    socratic.store.jsonl.write_jsonl(path, [Candidate(reply="Why?")])   # {"version": 1, "reply": "Why?"}
    socratic.store.jsonl.read_jsonl(path, Candidate)                     # bad line -> InputError file:line:field

`version` is the format's version, stamped on every write; a file (or line) from before versions reads
as version 0 (the models give its missing fields defaults), and one from a NEWER format than this code
knows is refused with one line naming the field `version` rather than half-read.

Documents keep unknown keys (`extra="allow"`). JSON Lines rows carry the version in every line, not in a
header line or a sidecar: a header would break `datasets.load_dataset("json")` and TRL on pairs.jsonl,
a sidecar gets lost when lines are copied between files, and a reader that does not know the field (TRL,
pandas) sees one more column. A row made in code is the current format (`version` = VERSION); a line
read by `socratic.store.jsonl.read_jsonl` without the key is version 0; writing any row stamps the current
version (this model wrote it).

Documents: socratic.train.artifacts (train_summary.json, train_config.json, warnings.json),
socratic.preference.generate.CandidatesSettings (candidates.jsonl.config.json), socratic.store.run_folder
(stage manifests, timings), socratic.evaluate.result.Evaluation, socratic.agreement.result.Agreement.
Rows: socratic.records (Candidate, PairRecord), socratic.scores.Judgment, socratic.evaluate.result.EvalReply,
socratic.evaluate.pressure.PressureReply, socratic.train.artifacts.TrainLog (metrics.jsonl).
config.resolved.yaml is a run config (socratic.pipeline.config.PipelineConfig), not a result: see
socratic.pipeline.stages for why it has no `version` key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_serializer, field_validator, model_validator

from socratic.store.jsonl import STORED, read_json_model, write_json


class Versioned(BaseModel):
    """The `version` field and its check, shared by documents and rows."""

    VERSION: ClassVar[int] = 1
    version: int = 0  # 0: written before files had versions

    # A field validator, not a model one: `version` is the first field, so a newer format's other changes
    # (a new key a row refuses, a changed type) are reported as what they are, a newer format.
    @field_validator("version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        if version > cls.VERSION:
            raise ValueError(f"format version {version} is newer than this socratic reads "
                             f"({cls.__name__} {cls.VERSION}): upgrade socratic")
        return version


class Artifact(Versioned):
    """One JSON document a run writes."""

    model_config = ConfigDict(extra="allow", frozen=True)

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


class ArtifactRow(Versioned):
    """One line of a JSON Lines file a run writes; subclasses set their own model_config."""

    @model_validator(mode="before")
    @classmethod
    def _made_now(cls, data: Any, info: ValidationInfo) -> Any:
        # A row made in code is the current format. A line read from a file (socratic.store.jsonl.read_jsonl says
        # so in the context) without the key is from before versions: version 0.
        if isinstance(data, dict) and "version" not in data and not (info.context or {}).get(STORED):
            return {**data, "version": cls.VERSION}
        return data

    @field_serializer("version")
    def _stamp(self, version: int) -> int:
        return self.VERSION  # whatever it was read as, it is written in this model's format
