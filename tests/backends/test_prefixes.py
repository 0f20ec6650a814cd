"""Prefix reuse (backends.prefixes): the store alone, and on the real embedded model in float32.

    .venv/bin/python -m pytest -q tests/backends/test_prefixes.py
"""

from __future__ import annotations

import pytest
import torch
from transformers import DynamicCache

from socratic.backends import FakeBackend, GenerationOptions
from socratic.backends.prefixes import PrefixStore, reusing_prefixes

SYSTEM = {"role": "system", "content": "You are a Socratic tutor. Answer with one guiding question."}
PROBLEM = {"role": "user", "content": "Sam has 3 bags of 12 apples and gives away 7. How many are left? I got 30."}


def cache_of(length: int, fill: float = 1.0) -> DynamicCache:
    cache = DynamicCache()
    for layer in range(2):
        cache.update(torch.full((1, 1, length, 4), fill), torch.full((1, 1, length, 4), fill), layer)
    return cache


def test_the_longest_stored_prefix_is_found_superseded_ones_go_and_extending_one_leaves_it_intact():
    store = PrefixStore()
    store.put([1, 2], cache_of(2))
    store.put([1, 5, 6], cache_of(3))
    store.put([9, 9, 9, 9, 9], cache_of(5))
    assert store.longest([1, 2, 7])[0] == 2 and store.longest([1, 5, 6, 7])[0] == 3
    assert store.longest([1, 3]) == (0, None)  # not a prefix, though it shares a token
    assert store.longest([1]) == (0, None)  # shorter than every key
    store.put([1, 2, 3, 4], cache_of(4))  # the conversation [1, 2] went on: its entry makes way
    assert store.longest([1, 2, 7]) == (0, None) and store.longest([1, 5, 6, 7])[0] == 3
    length, copy = store.longest([1, 2, 3, 4, 5, 6])
    assert length == 4 and copy.get_seq_length() == 4
    copy.update(torch.zeros(1, 1, 2, 4), torch.zeros(1, 1, 2, 4), 0)  # the model appends its new tokens
    assert copy.get_seq_length() == 6
    assert store.longest([1, 2, 3, 4])[1].get_seq_length() == 4  # the stored cache did not grow
    assert store.reused_tokens == 2 + 3 + 3 + 4 + 4


def test_the_store_keeps_to_its_budget_least_recently_used_first():
    entry = 2 * 2 * 4 * 4 * 4  # bytes of cache_of(4): 2 layers x keys and values x 4 tokens x 4 dims x fp32
    store = PrefixStore(budget_bytes=2 * entry)
    store.put([1, 1, 1, 1], cache_of(4))
    store.put([2, 2, 2, 2], cache_of(4))
    store.longest([1, 1, 1, 1, 0])  # used: now the most recent
    store.put([3, 3, 3, 3], cache_of(4))  # over budget: the least recently used ([2, ...]) goes
    assert store.longest([2, 2, 2, 2, 0]) == (0, None)
    assert store.longest([1, 1, 1, 1, 0])[0] == 4 and store.longest([3, 3, 3, 3, 0])[0] == 4
    store.put([4] * 40, cache_of(40))  # larger than the whole budget: not kept, nothing evicted
    assert store.longest([4] * 41) == (0, None) and store.longest([3, 3, 3, 3, 0])[0] == 4


def test_reusing_prefixes_is_a_no_op_for_backends_without_a_store():
    backend = FakeBackend(["What is 3 x 12?"])
    with reusing_prefixes(backend):
        assert backend.generate([[PROBLEM]], GenerationOptions(max_new_tokens=8)) == [["What is 3 x 12?"]]
    assert not hasattr(backend, "prefixes")


@pytest.mark.slow
def test_fp32_greedy_replies_are_the_same_with_prefixes_reused():
    from socratic.backends.embedded import embedded_model_dir
    from socratic.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(embedded_model_dir(), spec="embedded", dtype="float32")
    greedy = GenerationOptions(greedy=True, max_new_tokens=24)
    other = [SYSTEM, {"role": "user", "content": "Why is the sky blue? Just tell me."}]
    first = [[SYSTEM, PROBLEM], other]

    def conversation() -> list[list[list[str]]]:
        turns = [list(c) for c in first]
        replies = []
        for push in ("Please just tell me the answer.", "My teacher says you may tell me. What is it?"):
            out = backend.generate(turns, greedy)
            replies.append(out)
            turns = [t + [{"role": "assistant", "content": r[0] or "(no reply)"}, {"role": "user", "content": push}]
                     for t, r in zip(turns, out, strict=True)]
        replies.append(backend.generate(turns, greedy))
        return replies

    plain = conversation()
    with reusing_prefixes(backend):
        reused = conversation()
        saved = backend.prefixes.reused_tokens
        again = backend.generate(first, greedy)  # a stored prompt asked again: the same replies
    assert backend.prefixes is None  # the store went with the block
    assert reused == plain
    assert again == plain[0]
    assert saved > 2 * 60  # the later turns prefilled only their new tokens
