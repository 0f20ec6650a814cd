"""The settings of `socratic serve` (ServeConfig), apart from the server (serve.app) so the command line can
build its options from them without importing FastAPI.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from socratic.specs import MODEL_SPEC_HELP


class ServeConfig(BaseModel):
    """Options of `socratic serve` (flags map one to one)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    model: str = Field(default="embedded", description=f"Model spec: {MODEL_SPEC_HELP}.")
    host: str = Field(default="127.0.0.1", description="Address to bind; 127.0.0.1 is this machine only.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port.")
    system_prompt: Path | None = Field(default=None, description=(
        "Tutor system prompt file (default: the packaged one)."))
    served_model_name: str | None = Field(default=None, description="Model id shown in /v1/models (default: the spec).")
    # Replies generated at once. A transformers model decodes them in one batch (serve/batcher.py);
    # other backends run them side by side (HTTP) or in turn (llama.cpp).
    max_concurrency: int = Field(default=8, ge=1, le=64, description=(
        "Replies generated at once, in one batch for local models."))
    queue_size: int = Field(default=16, ge=0, le=10_000, description=(
        "Requests that may wait for a worker; beyond that 503."))
    queue_timeout_s: float = Field(default=300.0, gt=0)
    max_tokens_limit: int = Field(default=1024, ge=1, le=8192, description="Largest max_tokens a request may ask for.")
    default_max_tokens: int = Field(default=256, ge=1, le=8192)
    default_temperature: float = Field(default=0.7, ge=0.0, le=2.0, description="Temperature when a request sets none.")
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_prompt_chars: int = Field(default=60_000, ge=100)
