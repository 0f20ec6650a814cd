"""Fake model backends beyond socratic.backends.FakeBackend."""

from __future__ import annotations

from socratic.store.cache import content_key


class SeededBackend:
    """A deterministic stand-in for a sampling model: reply = f(messages, seed, sample number, batch position).

    Like a real batched sampler, a reply depends on the batch it was drawn in, so the tests also
    prove that batches are the same whatever the resume state. `fail_after` simulates a crash.
    """

    supports_json_schema = False

    def __init__(self, spec: str = "fake:seeded", fail_after: int | None = None, empty_every: int = 0):
        self.spec, self.fail_after, self.empty_every = spec, fail_after, empty_every
        self.calls: list[int] = []

    def generate(self, conversations, options):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        self.calls.append(len(conversations))
        out = []
        for position, messages in enumerate(conversations):
            replies = []
            for i in range(options.n):
                tag = content_key(messages, options.seed, i, position, len(conversations))[:6]
                empty = self.empty_every and i % self.empty_every == self.empty_every - 1
                replies.append("<|im_end|>Student: sure" if empty else f"Why {tag}?")
            out.append(replies)
        return out

    def stream(self, messages, options):  # pragma: no cover - unused
        yield from ()
