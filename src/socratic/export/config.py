"""The settings of `socratic export` (ExportConfig), apart from the stage (export.hf_folder) so the command
line can build its options from them without importing the stage's numpy, scipy and jinja2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ExportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    model: str = Field(description="embedded | hf:DIR | DIR: a trained folder (or a PEFT adapter folder).")
    out: Path = Field(description="Output folder.")
    gguf: list[str] = Field(default_factory=list, description=(
        "Comma-separated GGUF types, e.g. q8_0,q4_k_m (needs llama-cpp-python)."))
    ollama: str | None = Field(None, description="Write an Ollama Modelfile for this model name.")
    run: Path | None = Field(None, description="Run folder whose evaluation/agreement results go into the model card.")
    name: str | None = Field(None, description="File-name stem of the GGUF files (default: OUT's name).")
    system_prompt: Path | None = Field(None, description="Tutor system prompt for the Modelfile and the check.")
    verify: bool = Field(True, description="Load each GGUF back in llama.cpp and compare it with the model.")
    force: bool = Field(False, description=(
        "Replace a non-empty output folder (whole: its old files are removed once the new export is complete)."))

    @field_validator("gguf", mode="before")
    @classmethod
    def _split(cls, value: Any) -> list[str]:
        items = value.split(",") if isinstance(value, str) else list(value or [])
        parts = [p.strip().lower() for item in items for p in str(item).split(",")]
        return list(dict.fromkeys(p for p in parts if p))
