"""The settings of `socratic rate export` and `socratic rate import`, apart from their stages so the
command line builds its options from them without importing jinja2, scipy and scikit-learn."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from socratic.scores import Formula


class ExportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    evaluation: Path = Field(description="A `socratic evaluate -o` folder (its replies.jsonl).")
    out: Path = Field(description="The sheet's folder: sheet.html, sheet.csv and the private key.json.")
    items: int | None = Field(default=None, ge=1, description="Rate a seeded sample of this many items "
                              "(test conversations); default all.")
    seed: int = Field(default=0, description="Seed of the item sample and of each item's reply order.")
    models: list[str] = Field(default_factory=list, description="A reply source to rate (a model name of the "
                              "evaluation, or teacher); repeat; default all.")
    datasets: list[str] = Field(default_factory=list, description="A test set to draw items from; repeat; "
                                "default all.")


class ImportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    files: list[Path] = Field(min_length=1, description="Ratings CSVs, one rater each.")
    key: Path | None = Field(default=None, description="The sheet's key.json; default: key.json beside the "
                             "first CSV.")
    evaluation: Path | None = Field(default=None, description="The evaluation folder whose judges are compared "
                                    "with the raters; default: the one the key names.")
    out: Path | None = Field(default=None, description="Where to write the result; default: ratings.json beside "
                             "the key.")
    formula: Formula = Field(default="uniform", description="Summary formula of the judges' scores.")
    bootstrap: int = Field(default=4000, ge=100, description="Bootstrap resamples of each CI.")
    seed: int = Field(default=0, description="Seed of the bootstrap.")

    def key_path(self) -> Path:
        return self.key or self.files[0].parent / "key.json"

    def result_path(self) -> Path:
        return self.out or self.key_path().parent / "ratings.json"
