"""Streamed replies of concurrent requests, generated together in one batch.

    backend = StreamBatcher(load_backend("embedded"), max_batch=8)
    for piece in backend.stream(messages, options): ...       # from many threads at once

A local model on a CPU is slow per token but nearly as fast for 8 rows as for one (each step's cost is
mostly overhead and weight reads), so the server gives every concurrent request a row of one batched
generation (`generate_streaming` of the transformers backend) instead of queueing them one after
another. One thread runs the model: it takes every request waiting (up to `max_batch`) and decodes
them together; requests that arrive meanwhile form the next batch. A row ends on its own (its end
token, its max_tokens, its turn end, its client gone) without stopping the others.

In bfloat16 a sampled reply can depend on which requests share its batch (see transformers_backend).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from socratic.backends import Backend, BackendError, GenerationOptions, stream_until_turn_end
from socratic.render import Message


def can_batch(backend: Backend) -> bool:
    return callable(getattr(backend, "generate_streaming", None))


@dataclass
class _Job:
    messages: list[Message]
    options: GenerationOptions
    pieces: queue.Queue = field(default_factory=queue.Queue)  # str, then None at the end
    cancelled: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class StreamBatcher:
    """A backend whose `stream` calls, made from any threads, are decoded in shared batches."""

    def __init__(self, backend: Any, max_batch: int):
        self.backend = backend
        self.max_batch = max(1, max_batch)
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="socratic-batcher")
        self._thread.start()

    def __getattr__(self, name: str) -> Any:  # spec, cache_id, tokenizer, generate, ... of the model
        return getattr(self.backend, name)

    def stream(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        job = _Job(list(messages), options)
        self._jobs.put(job)

        def raw() -> Iterator[str]:
            while (piece := job.pieces.get()) is not None:
                yield piece
            if job.error is not None:
                raise BackendError(f"{self.backend.spec}: generation failed: {job.error}") from job.error

        try:
            yield from stream_until_turn_end(raw())
        finally:
            job.cancelled.set()  # the reader is done: its row stops at the next token

    def _take_batch(self) -> list[_Job]:
        batch = [self._jobs.get()]
        while len(batch) < self.max_batch:
            try:
                batch.append(self._jobs.get_nowait())
            except queue.Empty:
                break
        return [job for job in batch if not job.cancelled.is_set()]

    def _serve(self) -> None:
        while True:
            batch = self._take_batch()
            if batch:
                self._run(batch)

    def _run(self, batch: list[_Job]) -> None:
        try:
            self.backend.generate_streaming(
                [job.messages for job in batch], [job.options for job in batch],
                emit=lambda row, piece: batch[row].pieces.put(piece),
                cancelled=lambda row: batch[row].cancelled.is_set())
        except Exception as error:  # noqa: BLE001 - every request of the batch gets the error
            for job in batch:
                job.error = error
        finally:
            for job in batch:
                job.pieces.put(None)  # a row that ended already put its None: extra ones are never read
