"""Candidate generation: k per dialogue, seeded, cached, and resumable to exactly the same file."""

from __future__ import annotations

import json

import pytest

from fakes.backends import SeededBackend
from fakes.data import make_dialogues
from socratic.errors import ConfigError
from socratic.preference import generate
from socratic.preference.generate import GenerateConfig, batch_seed, fixed_batches
from socratic.records import Candidate
from socratic.store.jsonl import read_jsonl, write_jsonl


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "dialogues.jsonl"
    write_jsonl(path, make_dialogues(5))
    return path


def use_backend(monkeypatch, backend: SeededBackend) -> SeededBackend:
    monkeypatch.setattr(generate, "load_backend", lambda spec: backend)
    return backend


def config(dataset, out, **overrides) -> GenerateConfig:
    """One dialogue per call unless a test asks for more: then a larger limit reproduces a clean run."""
    return GenerateConfig(dataset=str(dataset), model="fake:seeded", k=3, out=out, max_new_tokens=16,
                          **{"batch_dialogues": 1, **overrides})


def test_batch_seed_depends_on_seed_and_messages_only():
    a = [[{"role": "user", "content": "hi"}]]
    b = [[{"role": "user", "content": "ho"}]]
    assert batch_seed(0, a) == batch_seed(0, a)
    assert len({batch_seed(0, a), batch_seed(1, a), batch_seed(0, b)}) == 3
    assert 0 <= batch_seed(12345, b) < 2**31


def test_fixed_batches_are_slices():
    ds = make_dialogues(5)
    assert [[d.id for d in b] for b in fixed_batches(ds, 2)] == [["t-0", "t-1"], ["t-2", "t-3"], ["t-4"]]


def test_writes_k_candidates_per_dialogue_in_order_and_keeps_empty_replies(tmp_path, dataset, monkeypatch):
    use_backend(monkeypatch, SeededBackend(empty_every=3))
    out = generate.run(config(dataset, tmp_path / "c.jsonl"))
    candidates = read_jsonl(out, Candidate)
    assert [(c.dialogue.id, c.index) for c in candidates] == [(f"t-{i}", j) for i in range(5) for j in range(3)]
    assert [c.reply for c in candidates if c.index == 2] == [""] * 5  # cut to nothing, kept
    assert all(c.reply.startswith("Why ") for c in candidates if c.index < 2)
    assert candidates[0].model == "fake:seeded" and candidates[0].meta["temperature"] == 1.0
    saved = json.loads((tmp_path / "c.jsonl.config.json").read_text())
    assert saved["k"] == 3 and saved["top_p"] == 0.95 and "system_prompt_sha" in saved


def test_the_answer_key_reaches_the_prompts_and_a_keyless_file_does_not_resume_keyed(tmp_path, dataset, monkeypatch):
    from socratic.render import ANSWER_KEY_MARKER

    seen = []
    backend = use_backend(monkeypatch, SeededBackend())
    original = backend.generate

    def spy(conversations, options):
        seen.extend(conversations)
        return original(conversations, options)

    monkeypatch.setattr(backend, "generate", spy)
    generate.run(config(dataset, tmp_path / "c.jsonl", answer_key=True, no_cache=True, limit=2))
    assert seen and all(ANSWER_KEY_MARKER in c[0]["content"] for c in seen)
    assert seen[0][0]["content"].endswith(ANSWER_KEY_MARKER + "0")  # t-0's reference
    generate.run(config(dataset, tmp_path / "plain.jsonl", no_cache=True, limit=1))
    with pytest.raises(ConfigError, match="answer_key: False in the existing run, True now"):
        generate.run(config(dataset, tmp_path / "plain.jsonl", answer_key=True, limit=2))


def test_same_seed_same_candidates_other_seed_others(tmp_path, dataset, monkeypatch):
    use_backend(monkeypatch, SeededBackend())
    a = generate.run(config(dataset, tmp_path / "a.jsonl", no_cache=True)).read_bytes()
    b = generate.run(config(dataset, tmp_path / "b.jsonl", no_cache=True)).read_bytes()
    c = generate.run(config(dataset, tmp_path / "c.jsonl", no_cache=True, seed=1)).read_bytes()
    assert a == b and a != c


@pytest.mark.parametrize("batch_dialogues", [1, 2])
@pytest.mark.parametrize("no_cache", [True, False])
def test_resume_after_crash_equals_clean_run(tmp_path, dataset, monkeypatch, batch_dialogues, no_cache):
    use_backend(monkeypatch, SeededBackend())
    clean = generate.run(config(dataset, tmp_path / "clean.jsonl", batch_dialogues=batch_dialogues,
                                no_cache=True)).read_bytes()

    out = tmp_path / "resumed.jsonl"
    use_backend(monkeypatch, SeededBackend(fail_after=2))
    with pytest.raises(KeyboardInterrupt):
        generate.run(config(dataset, out, batch_dialogues=batch_dialogues, no_cache=no_cache))
    assert 0 < len(out.read_bytes()) < len(clean)
    backend = use_backend(monkeypatch, SeededBackend())
    generate.run(config(dataset, out, batch_dialogues=batch_dialogues, no_cache=no_cache))
    assert out.read_bytes() == clean
    assert sum(backend.calls) == 5 - 2 * batch_dialogues  # only the unfinished dialogues were generated


@pytest.mark.parametrize("cut", [1, 7, 20, 100, 101])
def test_resume_after_a_torn_write_equals_clean_run(tmp_path, dataset, monkeypatch, cut):
    """Kill -9 mid-append leaves a partial line and possibly a partly written dialogue."""
    use_backend(monkeypatch, SeededBackend())
    clean = generate.run(config(dataset, tmp_path / "clean.jsonl")).read_bytes()
    out = tmp_path / "torn.jsonl"
    generate.run(config(dataset, out))
    lines = clean.splitlines(keepends=True)
    # keep `cut` bytes past the 4th full line: dialogue t-1 is incomplete and its last record torn
    out.write_bytes(b"".join(lines[:4]) + lines[4][:cut])
    generate.run(config(dataset, out, no_cache=True))
    assert out.read_bytes() == clean


def test_a_larger_limit_extends_the_run(tmp_path, dataset, monkeypatch):
    use_backend(monkeypatch, SeededBackend())
    clean = generate.run(config(dataset, tmp_path / "clean.jsonl")).read_bytes()
    out = tmp_path / "grown.jsonl"
    generate.run(config(dataset, out, limit=3, no_cache=True))
    assert len(read_jsonl(out, Candidate)) == 9
    generate.run(config(dataset, out, no_cache=True))
    assert out.read_bytes() == clean


def test_with_multi_dialogue_batches_a_larger_limit_keeps_what_was_drawn(tmp_path, dataset, monkeypatch):
    # limit 3 with batches of 2 draws t-2 alone, where a limit-5 run draws it with t-3: extending
    # keeps the t-2 on disk and draws t-3 in the limit-5 run's batch.
    use_backend(monkeypatch, SeededBackend())
    clean = read_jsonl(generate.run(config(dataset, tmp_path / "clean.jsonl", batch_dialogues=2)), Candidate)
    out = generate.run(config(dataset, tmp_path / "c.jsonl", batch_dialogues=2, limit=3))
    first = read_jsonl(out, Candidate)
    grown = read_jsonl(generate.run(config(dataset, out, batch_dialogues=2)), Candidate)
    assert [c.dialogue.id for c in grown] == [c.dialogue.id for c in clean]
    assert grown[:9] == first
    assert [c.reply for c in grown[:6]] == [c.reply for c in clean[:6]]
    assert [c.reply for c in grown[6:9]] != [c.reply for c in clean[6:9]]
    assert [c.reply for c in grown[9:]] == [c.reply for c in clean[9:]]


def test_second_run_costs_nothing(tmp_path, dataset, monkeypatch):
    use_backend(monkeypatch, SeededBackend())
    first = generate.run(config(dataset, tmp_path / "a.jsonl")).read_bytes()
    backend = use_backend(monkeypatch, SeededBackend())
    generate.run(config(dataset, tmp_path / "a.jsonl"))        # complete: nothing to do
    assert backend.calls == []
    second = generate.run(config(dataset, tmp_path / "b.jsonl")).read_bytes()  # fresh file: all cache hits
    assert backend.calls == [] and second == first


def test_resuming_with_other_settings_is_refused_unless_overwrite(tmp_path, dataset, monkeypatch):
    use_backend(monkeypatch, SeededBackend())
    out = generate.run(config(dataset, tmp_path / "c.jsonl"))
    with pytest.raises(ConfigError, match=r"temperature: 1.0 in the existing run, 0.7 now"):
        generate.run(config(dataset, out, temperature=0.7))
    with pytest.raises(ConfigError, match=r"k: 3 in the existing run, 2 now"):
        generate.run(GenerateConfig(dataset=str(dataset), model="fake:seeded", k=2, out=out, max_new_tokens=16))
    generate.run(config(dataset, out, temperature=0.7, overwrite=True))
    assert json.loads((tmp_path / "c.jsonl.config.json").read_text())["temperature"] == 0.7
    assert len(read_jsonl(out, Candidate)) == 15


def test_an_unrelated_existing_file_is_not_appended_to(tmp_path, dataset, monkeypatch):
    use_backend(monkeypatch, SeededBackend())
    out = tmp_path / "c.jsonl"
    out.write_text('{"something": "else"}\n')
    with pytest.raises(ConfigError, match="exists without c.jsonl.config.json"):
        generate.run(config(dataset, out))
    assert out.read_text() == '{"something": "else"}\n'


def test_cli_generate(tmp_path, dataset, monkeypatch):
    from typer.testing import CliRunner

    from socratic.cli import app

    use_backend(monkeypatch, SeededBackend())
    out = tmp_path / "c.jsonl"
    result = CliRunner().invoke(app, ["generate", "--dataset", str(dataset), "--model", "fake:seeded", "-k", "2",
                                      "--limit", "3", "-o", str(out), "--temperature", "0.8"])
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(out, Candidate)) == 6
    assert json.loads((tmp_path / "c.jsonl.config.json").read_text())["temperature"] == 0.8


@pytest.mark.slow
def test_embedded_model_resume_equals_clean_run(tmp_path, shared_data):
    """The real model, uncached: a resumed dialogue is regenerated from its seed alone, to the same text."""
    from socratic.data import load_dialogues

    # The two shortest MathDial train conversations keep this test cheap on a CPU.
    shortest = sorted(load_dialogues("mathdial", "train"), key=lambda d: len(d.context) + sum(len(t.text)
                                                                                         for t in d.turns))
    path = tmp_path / "dialogues.jsonl"
    write_jsonl(path, shortest[:2])
    settings = {"dataset": str(path), "model": "embedded", "k": 2, "max_new_tokens": 24, "no_cache": True}
    clean = generate.run(GenerateConfig(out=tmp_path / "clean.jsonl", **settings)).read_bytes()
    candidates = read_jsonl(tmp_path / "clean.jsonl", Candidate)
    assert [(c.dialogue.id, c.index) for c in candidates] == [(d.id, i) for d in shortest[:2] for i in range(2)]
    assert len({c.reply for c in candidates}) > 1  # sampled, not one greedy reply repeated
    # Killed while writing the second dialogue's second candidate: that one is redone from scratch.
    out = tmp_path / "resumed.jsonl"
    lines = clean.splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:3]) + lines[3][:50])
    (tmp_path / "resumed.jsonl.config.json").write_bytes((tmp_path / "clean.jsonl.config.json").read_bytes())
    generate.run(GenerateConfig(out=out, **settings))
    assert out.read_bytes() == clean
