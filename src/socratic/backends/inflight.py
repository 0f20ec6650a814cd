"""Keeping a served model busy: several batches of HTTP requests in flight, results still in order.

    for batch, replies in ordered_map(fetch, batches, workers=3):
        write(batch, replies)            # in input order, while later batches are already being fetched

`socratic generate` and `socratic evaluate` with an `openai:MODEL@URL` model fetch fixed batches (their
cache keys and seeds depend on the batch, so batches stay as they are) but no longer wait for a batch's
slowest request before starting the next: `batches_in_flight` batches are fetched at once and the
backend's own limit (`OpenAIBackend.limit_in_flight`) keeps exactly `concurrency` requests open, so
a vLLM server is fed at its batch size. The LLM judge does the same per item (socratic.judge.llm).
Local models keep one batch at a time (workers=1 runs inline, no thread).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def is_remote(backend: Any) -> bool:
    """Whether the backend sends HTTP requests (and so gains from requests in flight)."""
    return str(getattr(backend, "spec", "")).split(":", 1)[0] == "openai" and hasattr(backend, "limit_in_flight")


def batches_in_flight(concurrency: int, requests_per_batch: int) -> int:
    """Enough batches that `concurrency` requests stay open while the oldest batch finishes its tail."""
    return max(1, math.ceil(concurrency / max(1, requests_per_batch))) + 1


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[tuple[T, R]]:
    """(item, fn(item)) in input order, with up to `workers` calls running at once.

    An exception from fn is raised when its item's turn comes; on any exit (error, Ctrl-C, the caller
    stops early) the queued calls are cancelled and only the running ones finish.
    """
    if workers <= 1:
        for item in items:
            yield item, fn(item)
        return
    pool = ThreadPoolExecutor(workers)
    pending: deque[tuple[T, Future]] = deque()
    try:
        for item in items:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) >= workers:
                first, future = pending.popleft()
                yield first, future.result()
        while pending:
            first, future = pending.popleft()
            yield first, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
