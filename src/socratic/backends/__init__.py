"""Model backends: `load_backend(spec)` for the specs of socratic.specs (embedded, hf:PATH,
openai:MODEL[@BASE_URL], llamacpp:FILE.gguf, fake[:REPLY]).

`load_backend(spec)` returns one shared instance per spec, so a run loads each model once.
"""

from __future__ import annotations

from pathlib import Path

from socratic.backends.base import (
    Backend,
    BackendError,
    FakeBackend,
    GenerationOptions,
    context_length,
    count_tokens,
    cut_at_turn_end,
    prompt_tokens,
    stream_until_turn_end,
    turn_has_ended,
)
from socratic.specs import parse_model_spec

__all__ = ["Backend", "BackendError", "FakeBackend", "GenerationOptions", "context_length", "count_tokens",
           "cut_at_turn_end", "load_backend", "local_model_dir", "prompt_tokens", "stream_until_turn_end",
           "turn_has_ended", "unload_backends"]

_LOADED: dict[str, Backend] = {}

def local_model_dir(spec: str) -> Path | None:
    """The transformers folder behind `embedded` (converted once) or `hf:PATH`; None for other specs.

    The one answer to "which folder is this model" for training, export and the transformers backend."""
    kind, arg = parse_model_spec(spec)
    if kind == "embedded":
        from socratic.backends.embedded import embedded_model_dir

        return embedded_model_dir()
    return Path(arg).expanduser() if kind == "hf" else None


def load_backend(spec: str) -> Backend:
    """The backend named by `spec`, loaded once per process."""
    if spec in _LOADED:
        return _LOADED[spec]
    kind, arg = parse_model_spec(spec)
    if kind == "fake":
        backend: Backend = FakeBackend([arg or "What do you think the first step is?"], spec=spec)
    elif kind in ("embedded", "hf"):
        from socratic.backends.transformers_backend import TransformersBackend

        backend = TransformersBackend(local_model_dir(spec), spec=spec)
    elif kind == "openai":
        from socratic.backends.openai_backend import OpenAIBackend

        backend = OpenAIBackend.from_spec(arg, spec=spec)
    else:
        from socratic.backends.llamacpp import LlamaCppBackend

        backend = LlamaCppBackend(arg, spec=spec)
    _LOADED[spec] = backend
    return backend


def unload_backends() -> None:
    """Forget the loaded backends (the next `load_backend` loads anew), so their memory can go.

    The pipeline calls it between stages: a model a stage loaded (the base model for sampling, a
    round's model for the next round) otherwise stays in memory through every later stage,
    training included (~0.5 GB each for the embedded model in fp32)."""
    _LOADED.clear()
