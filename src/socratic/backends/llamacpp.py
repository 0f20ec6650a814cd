"""GGUF models through llama-cpp-python: `llamacpp:FILE.gguf` (install with scripts/install-llamacpp.sh).

    backend = load_backend("llamacpp:/models/tutor-q4.gguf")

llama.cpp is the fastest single-stream path on a CPU. The chat template comes from the GGUF's
metadata. The n samples of a conversation run one after another with seeds seed+i; llama.cpp keeps
the evaluated prompt in its context, so the prompt is processed once, not n times. One Llama object
is not thread-safe, so calls are serialised.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from socratic.backends.base import BackendError, GenerationOptions, cut_at_turn_end, stream_until_turn_end
from socratic.errors import SocraticError
from socratic.render import Message

# Not `pip install 'socratic[llamacpp]'` alone: pip's default build is -march=native, which segfaults on
# Intel Xeons with AMX (issue 14); the script builds a portable wheel and checks it.
INSTALL_HINT = ("bash scripts/install-llamacpp.sh .venv/bin/python from the repository "
                "(a portable build, ~5 min; pip's default -march=native build crashes on Intel Xeons with AMX)")
# Cut at a new speaker's turn server-side too, so no tokens are spent on the student's next line.
STOP = ["<|im_end|>", "\nStudent:", "\nUser:", "\nuser:", "\nstudent:"]


def llamacpp_available() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


def file_fingerprint(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha256(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]


class LlamaCppBackend:
    supports_json_schema = True

    def __init__(self, path: str | Path, spec: str | None = None, *, n_ctx: int = 4096,
                 n_threads: int | None = None):
        self.path = Path(path).expanduser()
        self.spec = spec or f"llamacpp:{self.path}"
        try:
            from llama_cpp import Llama
        except ImportError as error:
            raise SocraticError(f"{self.spec} needs llama-cpp-python, which is not installed: {INSTALL_HINT}") \
                from error
        if not self.path.is_file():
            raise SocraticError(f"{self.spec}: no GGUF file at {self.path}")
        self.cache_id = f"{self.spec}#{file_fingerprint(self.path)}"
        self._lock = threading.Lock()
        try:
            self.llm = Llama(model_path=str(self.path), n_ctx=n_ctx, n_threads=n_threads or os.cpu_count(),
                             verbose=False)
        except (ValueError, RuntimeError) as error:
            raise SocraticError(f"{self.spec}: llama.cpp cannot load {self.path}: {error}") from error

    def _kwargs(self, options: GenerationOptions, seed: int | None) -> dict:
        kwargs = {"max_tokens": options.max_new_tokens,
                  "temperature": 0.0 if options.greedy else options.temperature,
                  "top_p": 1.0 if options.greedy else options.top_p,
                  "top_k": 1 if options.greedy else 0,  # 0 = whole vocabulary, like transformers
                  "stop": [] if options.json_schema is not None else STOP}
        if seed is not None:
            kwargs["seed"] = seed
        if options.json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": options.json_schema}
        return kwargs

    def _complete(self, messages: Sequence[Message], options: GenerationOptions, seed: int | None) -> str:
        with self._lock:
            try:
                result = self.llm.create_chat_completion(messages=list(messages), **self._kwargs(options, seed))
            except (ValueError, RuntimeError) as error:
                raise BackendError(f"{self.spec}: generation failed: {error}") from error
        text = result["choices"][0]["message"]["content"] or ""
        return text if options.json_schema is not None else cut_at_turn_end(text)

    def generate(self, conversations: Sequence[list[Message]], options: GenerationOptions) -> list[list[str]]:
        return [[self._complete(c, options, options.seed + i if options.seed is not None else None)
                 for i in range(options.n)] for c in conversations]

    def stream(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        def pieces() -> Iterator[str]:
            with self._lock:
                chunks = self.llm.create_chat_completion(messages=list(messages), stream=True,
                                                         **self._kwargs(options, options.seed))
                for chunk in chunks:
                    piece = chunk["choices"][0].get("delta", {}).get("content")
                    if piece:
                        yield piece

        if options.json_schema is not None:
            yield from pieces()
        else:
            yield from stream_until_turn_end(pieces())
