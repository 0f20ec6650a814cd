"""serve/batcher.py: concurrent streamed requests decoded in shared batches.

    .venv/bin/python -m pytest -q tests/serve/test_serve_batcher.py

A recording backend shows how requests are grouped; the slow test runs the real embedded model
(float32, where a greedy reply does not depend on its batch-mates) through the batcher and the server.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from socratic.backends import BackendError, GenerationOptions
from socratic.serve.batcher import StreamBatcher, can_batch

GREEDY = GenerationOptions(greedy=True, max_new_tokens=12)


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


class Recorder:
    """generate_streaming that records each batch; the first batch waits for `gate`."""

    spec = "recorder"

    def __init__(self, fail: bool = False):
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.fail = fail

    def generate_streaming(self, conversations, options, emit, cancelled=None):
        self.batches.append([c[-1]["content"] for c in conversations])
        if len(self.batches) == 1:
            self.gate.wait(10)
        if self.fail:
            raise RuntimeError("the model fell over")
        for row, conversation in enumerate(conversations):
            for piece in ("Why ", conversation[-1]["content"], "?"):
                emit(row, piece)
            emit(row, None)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.parametrize("max_batch, sizes", [(8, [1, 3]), (2, [1, 2, 1])])
def test_requests_arriving_during_a_batch_form_the_next_ones(max_batch, sizes):
    backend = Recorder()
    batcher = StreamBatcher(backend, max_batch=max_batch)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(lambda: "".join(batcher.stream(ask("a"), GREEDY)))
        wait_for(lambda: len(backend.batches) == 1)
        later = [pool.submit(lambda t=t: "".join(batcher.stream(ask(t), GREEDY))) for t in "bcd"]
        wait_for(lambda: batcher._jobs.qsize() == 3)
        backend.gate.set()
        assert [f.result(10) for f in [first, *later]] == ["Why a?", "Why b?", "Why c?", "Why d?"]
    assert [len(b) for b in backend.batches] == sizes
    assert sorted(text for batch in backend.batches for text in batch) == ["a", "b", "c", "d"]


def test_a_backend_error_reaches_every_request_of_the_batch():
    backend = Recorder(fail=True)
    backend.gate.set()
    batcher = StreamBatcher(backend, max_batch=4)
    with pytest.raises(BackendError, match="recorder: generation failed: the model fell over"):
        list(batcher.stream(ask("a"), GREEDY))


def test_a_reader_that_leaves_cancels_its_row():
    saw_cancel = threading.Event()

    class Watcher:
        spec = "watcher"

        def generate_streaming(self, conversations, options, emit, cancelled=None):
            emit(0, "Why")
            wait_for(lambda: cancelled(0))
            saw_cancel.set()
            emit(0, None)

    batcher = StreamBatcher(Watcher(), max_batch=4)
    stream = batcher.stream(ask("a"), GREEDY)
    assert next(stream) == "Why"
    stream.close()
    assert saw_cancel.wait(10)
    assert can_batch(Watcher()) and not can_batch(object())


@pytest.mark.slow
def test_concurrent_real_streams_equal_their_replies_alone():
    from socratic.backends.embedded import embedded_model_dir
    from socratic.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(embedded_model_dir(), spec="embedded", dtype="float32")
    questions = [ask("How do I solve x^2-4=0?"), ask("Is 7 times 8 equal to 54?"), ask("What is a prime?")]
    alone = [reply for [reply] in backend.generate(questions, GREEDY)]
    batcher = StreamBatcher(backend, max_batch=8)
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda q: "".join(batcher.stream(q, GREEDY)), questions))
    assert together == alone
    assert all(reply.strip() for reply in together)
