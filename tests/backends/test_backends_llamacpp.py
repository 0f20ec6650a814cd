"""The llama.cpp backend on the embedded model's own GGUF (Q4_1), through llama-cpp-python.

    .venv/bin/python -m pytest -q tests/backends/test_backends_llamacpp.py

llama-cpp-python is the optional extra `socratic[llamacpp]`; `make test` installs it. These tests
are not skipped when it is missing: they fail and say how to install it.

llama.cpp runs in a child process (`python tests/backends/test_backends_llamacpp.py` does the calls and prints
what came back as JSON; the tests judge it here): a crash in its native code fails these tests with
a readable message instead of killing the whole pytest run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MESSAGES = [{"role": "system", "content": "You are a Socratic tutor. Ask one guiding question."},
            {"role": "user", "content": "How do I solve x^2-4=0?"}]
SCHEMA = {"type": "object", "properties": {"questions": {"type": "boolean"}}, "required": ["questions"]}


def run_in_child(script: Path, *args: str, timeout: float = 600) -> dict:
    """Run `script` with this Python; its last stdout line is JSON. A crash fails the test, readably."""
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=timeout,
                          check=False)
    if done.returncode < 0:
        import signal

        pytest.fail(f"llama.cpp crashed the child process ({signal.Signals(-done.returncode).name}); is "
                    "llama-cpp-python the portable build? bash scripts/install-llamacpp.sh .venv/bin/python\n"
                    + done.stderr[-1500:], pytrace=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def calls() -> dict:
    return run_in_child(Path(__file__))


def test_generates_seeded_samples_and_greedy_text(calls):
    from socratic.backends.embedded import embedded_gguf

    assert calls["available"], f"llama-cpp-python is not installed: {calls['install_hint']}"
    [[greedy]] = calls["greedy"]
    assert sum(c.isalpha() for c in greedy) >= 10, greedy
    first = calls["samples"]
    assert len(first[0]) == 3 and len(set(first[0])) > 1
    assert calls["samples_again"] == first
    assert calls["cache_id"].startswith(f"llamacpp:{embedded_gguf()}#")


def test_stream_and_json_schema(calls):
    pieces = calls["stream"]
    assert len(pieces) > 1 and "".join(pieces).strip()
    [[text]] = calls["json"]
    assert isinstance(json.loads(text)["questions"], bool)


def test_a_crash_in_the_child_fails_with_a_readable_message(tmp_path):
    """What a segfault in llama.cpp looks like from here: the test fails, the run goes on."""
    crash = tmp_path / "crash.py"
    crash.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    with pytest.raises(pytest.fail.Exception, match=r"llama.cpp crashed the child process \(SIGSEGV\)"):
        run_in_child(crash)


def _child() -> dict:
    """The llama.cpp calls, made in the child process."""
    from socratic.backends import GenerationOptions, load_backend
    from socratic.backends.embedded import embedded_gguf
    from socratic.backends.llamacpp import INSTALL_HINT, llamacpp_available

    if not llamacpp_available():
        return {"available": False, "install_hint": INSTALL_HINT}
    backend = load_backend(f"llamacpp:{embedded_gguf()}")
    options = GenerationOptions(n=3, seed=4, max_new_tokens=12)
    return {
        "available": True, "cache_id": backend.cache_id,
        "greedy": backend.generate([MESSAGES], GenerationOptions(greedy=True, max_new_tokens=16)),
        "samples": backend.generate([MESSAGES], options), "samples_again": backend.generate([MESSAGES], options),
        "stream": list(backend.stream(MESSAGES, GenerationOptions(greedy=True, max_new_tokens=12))),
        "json": backend.generate([MESSAGES], GenerationOptions(max_new_tokens=24, json_schema=SCHEMA)),
    }


if __name__ == "__main__":
    print(json.dumps(_child()))
