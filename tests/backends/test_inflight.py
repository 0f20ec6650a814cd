"""Generation and evaluation against an OpenAI-compatible server keep `concurrency` requests in flight
(several fixed batches at once), and the output is the same file as one request at a time.

The server is a real HTTP stub on 127.0.0.1 (tests/fakes/llm_server.py) whose reply depends only
on the request (messages and seed), each answered after DELAY seconds.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from fakes.llm_server import FakeLLM, Reply
from socratic.backends import inflight
from socratic.records import Dialogue, Turn

DELAY = 0.3


def peak_in_flight(server) -> int:
    """Most requests open at once (each open from its arrival for DELAY seconds)."""
    times = sorted(r.arrived for r in server.requests)
    return max(sum(1 for b in times if a <= b < a + DELAY) for a in times)


def answer(request) -> Reply:
    text = request.text[-40:]
    return Reply(f"Why {len(text)}-{request.body.get('seed')}?", delay=DELAY)


@pytest.fixture
def dialogues_file(tmp_path):
    path = tmp_path / "dialogues.jsonl"
    with path.open("w") as f:
        for i in range(6):
            dialogue = Dialogue(id=f"d{i}", source="test", split="test", context=f"What is {i} + {i}?",
                                turns=[Turn(role="student", text=f"Is it {3 * i}?")], reference=str(2 * i))
            f.write(dialogue.model_dump_json() + "\n")
    return path


def test_generate_keeps_concurrency_requests_in_flight_and_writes_the_same_file(tmp_path, dialogues_file):
    from socratic.preference import generate

    outputs, peaks = {}, {}
    for concurrency in (1, 8):
        with FakeLLM(answer) as server:
            config = generate.GenerateConfig(dataset=str(dialogues_file), split="test", model=f"openai:m@{server.url}",
                                             k=3, batch_dialogues=2, out=tmp_path / f"c{concurrency}.jsonl",
                                             concurrency=concurrency, no_cache=True)
            generate.run(config)
            assert len(server.requests) == 18  # 3 batches x 2 dialogues x k=3
            peaks[concurrency] = peak_in_flight(server)
        outputs[concurrency] = [json.loads(line) for line in config.out.read_text().splitlines()]
    assert peaks == {1: 1, 8: 8}  # 6 requests per batch: 8 in flight means batches overlap
    strip = lambda rows: [{k: v for k, v in r.items() if k != "model"} for r in rows]
    assert strip(outputs[1]) == strip(outputs[8])
    assert [(r["dialogue"]["id"], r["index"]) for r in outputs[8]] == [(f"d{i}", j) for i in range(6) for j in range(3)]


def test_evaluate_replies_keep_concurrency_requests_in_flight(tmp_path, dialogues_file):
    from socratic.evaluate import evaluation as evaluate
    from socratic.store.cache import NoCache

    with FakeLLM(answer) as server:
        config = evaluate.EvaluateConfig(models={"served": f"openai:m@{server.url}"}, datasets=[str(dialogues_file)],
                                         judges=["rubric"], out=tmp_path / "eval", batch_size=2, concurrency=4)
        config.out.mkdir()
        replies = evaluate.produce_replies(config, evaluate.load_test_sets(config), NoCache())
        assert peak_in_flight(server) == 4 and len(server.requests) == 6
    assert [r.dialogue.id for r in replies] == [f"d{i}" for i in range(6)]
    assert all(r.reply.startswith("Why ") for r in replies)


def test_ordered_map_yields_in_order_and_raises_in_turn():
    def slow_first(x):
        time.sleep(0.05 if x == 0 else 0)
        if x == 3:
            raise ValueError("three")
        return x * 10

    results = []
    with pytest.raises(ValueError, match="three"):
        for item, result in inflight.ordered_map(slow_first, range(6), workers=3):
            results.append((item, result))
    assert results == [(0, 0), (1, 10), (2, 20)]
    assert list(inflight.ordered_map(lambda x: x + 1, [1, 2], workers=1)) == [(1, 2), (2, 3)]


def test_ordered_map_runs_at_most_workers_at_once():
    running, peak, lock = [0], [0], threading.Lock()

    def work(x):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return x

    assert [r for _, r in inflight.ordered_map(work, range(12), workers=4)] == list(range(12))
    assert peak[0] == 4


def test_batches_in_flight_cover_the_concurrency():
    assert inflight.batches_in_flight(8, 20) == 2    # one batch fills the slots; one more for its tail
    assert inflight.batches_in_flight(32, 8) == 5
    assert inflight.batches_in_flight(1, 1) == 2
