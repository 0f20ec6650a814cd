"""Generation through the content cache: pay for each (model, conversation, options) once.

    replies = generate_cached(backend, conversations, options, Cache())

Each conversation's n replies are stored under `content_key(backend.cache_id, messages, options)`;
only the misses are generated, in one batched call, and stored as soon as they exist. The cache id
holds a fingerprint of the model's files, so retraining into the same folder never hits old entries.
With `options.seed=None` sampling is not reproducible, so nothing is read from or written to the cache.
"""

from __future__ import annotations

from collections.abc import Sequence

from socratic.backends.base import Backend, GenerationOptions
from socratic.render import Message
from socratic.store.cache import Cache, content_key

KIND = "generation"


def generation_key(backend: Backend, messages: Sequence[Message], options: GenerationOptions) -> str:
    cache_id = getattr(backend, "cache_id", backend.spec)
    return content_key(KIND, cache_id, list(messages), options.model_dump(mode="json"))


def generate_cached(backend: Backend, conversations: Sequence[list[Message]], options: GenerationOptions,
                    cache: Cache) -> list[list[str]]:
    """`backend.generate` with a cache in front; same result shape: n replies per conversation."""
    if options.seed is None and not options.greedy:
        return backend.generate(conversations, options)
    keys = [generation_key(backend, c, options) for c in conversations]
    results: list[list[str] | None] = []
    for key in keys:
        hit = cache.get(key)
        valid = isinstance(hit, list) and len(hit) == options.n and all(isinstance(r, str) for r in hit)
        results.append(hit if valid else None)
    # Each distinct missing conversation is generated once, even if it appears twice in the input.
    missing: dict[str, int] = {}
    for index, (key, result) in enumerate(zip(keys, results)):
        if result is None and key not in missing:
            missing[key] = index
    if missing:
        generated = backend.generate([conversations[i] for i in missing.values()], options)
        fresh = dict(zip(missing, generated))
        for key, replies in fresh.items():
            cache.put(key, replies, kind=KIND)
        results = [fresh[key] if result is None else result for key, result in zip(keys, results)]
    return [list(r) for r in results]  # type: ignore[arg-type]
