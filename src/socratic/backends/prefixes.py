"""Prefilled KV caches of recent prompts, so that a prompt which extends one is prefilled only from there.

    with reusing_prefixes(backend):          # any backend; only the transformers one keeps prefixes
        backend.generate(first_turns, greedy)
        backend.generate(first_turns_plus_a_reply_and_a_push, greedy)   # prefills only the new tokens

The pressure test asks the same model three times about one conversation, each time with the previous
prompt, the tutor's reply and one more student turn: without this, every push prefills the whole
conversation again (two thirds of its prefill was done before). A chat turn is the same shape.

The store is opt-in and bounded in bytes (a 900-token prompt of the embedded model is ~40 MB of fp32 keys and
values): a caller turns it on around work that re-asks, and the memory goes when it leaves the block. A
stored prompt that a newer one extends is dropped (the conversation went on), so the pressure test holds one
prompt per conversation of its batch, not one per push.
Entries are immutable once stored: a later prompt extends a shallow copy whose layers append with
`torch.cat` (new tensors), never writing into the stored ones.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # no transformers import for backends that do not keep prefixes
    from transformers import DynamicCache

# Enough for the pressure test's batch of 16 conversations of ~1,300 tokens with the embedded model in fp32.
DEFAULT_BUDGET_BYTES = 1 << 30


class PrefixStore:
    """Least-recently-used prefilled caches, keyed by the exact token ids they hold."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES):
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[tuple[int, ...], tuple[DynamicCache, int]] = OrderedDict()
        self._bytes = 0
        self.reused_tokens = 0  # what the store saved so far: prompt tokens not prefilled again

    def longest(self, tokens: Sequence[int]) -> tuple[int, DynamicCache | None]:
        """(length, a copy to extend) of the longest stored prefix of `tokens`; (0, None) when none is."""
        best: tuple[int, ...] | None = None
        for key in self._entries:
            if len(key) <= len(tokens) and (best is None or len(key) > len(best)) and tuple(tokens[:len(key)]) == key:
                best = key
        if best is None:
            return 0, None
        self._entries.move_to_end(best)
        self.reused_tokens += len(best)
        return len(best), _extendable_copy(self._entries[best][0])

    def put(self, tokens: Sequence[int], cache: DynamicCache) -> None:
        """Keep `cache` (which holds exactly `tokens`) in place of the stored prompts it extends (a conversation
        goes on from its latest turn), evicting the least recently used over the budget."""
        key = tuple(tokens)
        size = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values)
                   if t is not None)
        if key in self._entries or size > self.budget_bytes:
            return
        for old in [old for old in self._entries if len(old) < len(key) and key[:len(old)] == old]:
            self._drop(old)
        self._entries[key] = (cache, size)
        self._bytes += size
        while self._bytes > self.budget_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[int, ...]) -> None:
        self._bytes -= self._entries.pop(key)[1]


def _extendable_copy(cache: DynamicCache) -> DynamicCache:
    """A cache with the same tensors whose layers can grow without touching the original's."""
    clone = copy.copy(cache)
    clone.layers = [copy.copy(layer) for layer in cache.layers]
    return clone


@contextmanager
def reusing_prefixes(backend: object, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> Iterator[None]:
    """Within the block, a backend that can (the transformers one) reuses the prefills of earlier prompts."""
    if not hasattr(backend, "prefixes"):
        yield
        return
    previous = backend.prefixes
    backend.prefixes = PrefixStore(budget_bytes)
    try:
        yield
    finally:
        backend.prefixes = previous
