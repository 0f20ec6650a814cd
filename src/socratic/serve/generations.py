"""Running generations for the server: admission control, worker threads, stop sequences.

Backends are synchronous and CPU-bound, so each reply is generated in a worker thread of a
pool sized `max_concurrency`; its text pieces cross into the event loop through an asyncio
queue. `Limiter` admits at most `max_concurrency` running plus `queue_size` waiting requests and
turns everything beyond into an immediate `Busy` (the server answers 503 + Retry-After), so load
never piles up unbounded work or memory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Executor
from typing import Any

from socratic.backends import Backend, GenerationOptions
from socratic.render import Message


class Busy(Exception):
    """The server is at capacity: every worker busy and the waiting queue full."""


class Limiter:
    """At most `max_active` generations at once and `queue_size` more waiting (for `queue_timeout` s)."""

    def __init__(self, max_active: int, queue_size: int, queue_timeout: float):
        self.max_active = max_active
        self.capacity = max_active + queue_size
        self.queue_timeout = queue_timeout
        self.admitted = 0  # running + waiting; only touched on the event loop thread
        self.active = 0
        self._semaphore = asyncio.Semaphore(max_active)

    @property
    def waiting(self) -> int:
        return self.admitted - self.active

    async def acquire(self) -> None:
        if self.admitted >= self.capacity:
            raise Busy()
        self.admitted += 1
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.queue_timeout)
        except TimeoutError:
            self.admitted -= 1
            raise Busy() from None
        except BaseException:
            self.admitted -= 1
            raise
        self.active += 1

    def release(self) -> None:
        self.active -= 1
        self.admitted -= 1
        self._semaphore.release()


class StopScanner:
    """Cuts a streamed reply at the first stop sequence, holding back text that may begin one.

    `feed(piece)` returns the text that is safe to show now; after a stop sequence `stopped`
    is True and nothing more comes out; `flush()` returns what was held back at the end.
    Whitespace around the reply is dropped.
    """

    def __init__(self, stops: list[str]):
        self.stops = [s for s in stops if s]
        self.stopped = False
        self._buffer = ""
        self._started = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        if not self._started:
            piece = piece.lstrip()
            self._started = bool(piece)
        self._buffer += piece
        hits = [i for i in (self._buffer.find(s) for s in self.stops) if i >= 0]
        if hits:
            out, self._buffer, self.stopped = self._buffer[: min(hits)].rstrip(), "", True
            return out
        hold = max((k for s in self.stops for k in range(1, len(s)) if self._buffer.endswith(s[:k])), default=0)
        # Trailing whitespace waits too, so that a reply cut at a stop does not end in a space.
        cut = len(self._buffer[: len(self._buffer) - hold].rstrip())
        out, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return out

    def flush(self) -> str:
        out, self._buffer = ("" if self.stopped else self._buffer.rstrip()), ""
        return out


class Generation:
    """One reply generated in a worker thread, started at construction.

    The limiter slot is released when the thread is done (not when the client goes away), so
    the number of busy threads never exceeds the limit. `pieces()` yields the text; leaving it
    early (client disconnected, stop sequence) tells the thread to stop at its next piece.
    """

    def __init__(self, backend: Backend, messages: list[Message], options: GenerationOptions,
                 executor: Executor, on_done):
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.cancel = threading.Event()
        future = self._loop.run_in_executor(executor, self._work, backend, messages, options)
        future.add_done_callback(lambda _f: on_done())

    def _post(self, kind: str, value: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (kind, value))
        except RuntimeError:  # the event loop is gone (server shutting down)
            self.cancel.set()

    def _work(self, backend: Backend, messages: list[Message], options: GenerationOptions) -> None:
        stream: Iterator[str] | None = None
        try:
            stream = iter(backend.stream(messages, options))
            for piece in stream:
                if self.cancel.is_set():
                    break
                if piece:
                    self._post("piece", piece)
        except Exception as error:  # noqa: BLE001 - any backend failure goes to the client as a 500 / an error event
            self._post("error", error)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            self._post("end", None)

    async def pieces(self) -> AsyncIterator[str]:
        try:
            while True:
                kind, value = await self._queue.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            self.cancel.set()
