"""The llama.cpp backend on the embedded model's own GGUF (Q4_1), through llama-cpp-python.

    .venv/bin/python -m pytest -q tests/test_backends_llamacpp.py

llama-cpp-python is the optional extra `socratic[llamacpp]`; `make setup` installs it. These tests
are not skipped when it is missing: they fail and say how to install it.
"""

from __future__ import annotations

import json

import pytest

from socratic.backends import GenerationOptions, load_backend
from socratic.backends.embedded import embedded_gguf
from socratic.backends.llamacpp import INSTALL_HINT, llamacpp_available

pytestmark = pytest.mark.slow

MESSAGES = [{"role": "system", "content": "You are a Socratic tutor. Ask one guiding question."},
            {"role": "user", "content": "How do I solve x^2-4=0?"}]


@pytest.fixture(scope="module")
def backend():
    assert llamacpp_available(), f"llama-cpp-python is not installed: {INSTALL_HINT}"
    return load_backend(f"llamacpp:{embedded_gguf()}")


def test_generates_seeded_samples_and_greedy_text(backend):
    [[greedy]] = backend.generate([MESSAGES], GenerationOptions(greedy=True, max_new_tokens=16))
    assert sum(c.isalpha() for c in greedy) >= 10, greedy
    options = GenerationOptions(n=3, seed=4, max_new_tokens=12)
    first = backend.generate([MESSAGES], options)
    assert len(first[0]) == 3 and len(set(first[0])) > 1
    assert backend.generate([MESSAGES], options) == first
    assert backend.cache_id.startswith(f"llamacpp:{embedded_gguf()}#")


def test_stream_and_json_schema(backend):
    pieces = list(backend.stream(MESSAGES, GenerationOptions(greedy=True, max_new_tokens=12)))
    assert len(pieces) > 1 and "".join(pieces).strip()
    schema = {"type": "object", "properties": {"questions": {"type": "boolean"}}, "required": ["questions"]}
    [[text]] = backend.generate([MESSAGES], GenerationOptions(max_new_tokens=24, json_schema=schema))
    assert isinstance(json.loads(text)["questions"], bool)
