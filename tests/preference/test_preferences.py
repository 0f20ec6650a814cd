"""`socratic preferences` end to end: generate -> judge -> pairs into one folder, resumable."""

from __future__ import annotations

import json

import pytest

import socratic.judge
from fakes.backends import SeededBackend
from fakes.data import make_dialogues
from socratic.errors import ConfigError
from socratic.judge.base import Judge, Outcome
from socratic.preference import generate
from socratic.preference import oneshot as preferences
from socratic.preference.generate import CandidatesSettings
from socratic.preference.oneshot import PreferencesConfig
from socratic.records import Candidate, PairRecord
from socratic.scores import Judgment, Scores
from socratic.store.cache import Cache
from socratic.store.jsonl import read_jsonl, write_jsonl


class KeywordJudge(Judge):
    """Scores by hand-written rules so the expected pairs are known: '?' asks, 'answer' reveals.

    Built on the real Judge base class, so caching and failure records behave as in production.
    `fail_on` replies get a failed judgment; `crash_after` judged items simulates an interruption.
    """

    spec, version = "keyword", "1"

    def __init__(self, cache, fail_on: str | None = None, crash_after: int | None = None):
        super().__init__(cache)
        self.fail_on, self.crash_after = fail_on, crash_after
        self.judged: list[str] = []

    def _score(self, items, done):
        outcomes = []
        for position, (_dialogue, reply) in enumerate(items):
            if self.crash_after is not None and len(self.judged) >= self.crash_after:
                raise KeyboardInterrupt("simulated interruption")
            self.judged.append(reply)
            if self.fail_on and self.fail_on in reply:
                outcome = Outcome(error="bad json", attempts=3)
            else:
                outcome = Outcome(scores=Scores(questions="?" in reply, on_topic=5 if reply else 1, helpful=3,
                                                reveal_answer="answer" in reply))
            done(position, outcome)
            outcomes.append(outcome)
        return outcomes


class IndexedBackend(SeededBackend):
    """Sample 0 asks a question, sample 1 reveals the answer, the rest say something plain."""

    def generate(self, conversations, options):
        base = super().generate(conversations, options)
        styles = ["Why do you think {t}?", "The answer is {t}.", "Let us look at {t}."]
        return [[styles[min(i, 2)].format(t=r[4:10]) for i, r in enumerate(rs)] for rs in base]


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "dialogues.jsonl"
    write_jsonl(path, make_dialogues(6))
    return path


def fakes(monkeypatch, backend, **judge_options):
    """Route the model to `backend` and the judge to a KeywordJudge; returns the judges made."""
    judges: list[KeywordJudge] = []

    def load_judge(spec, *, cache=None, **_):
        judges.append(KeywordJudge(cache if cache is not None else Cache(), **judge_options))
        return judges[-1]

    monkeypatch.setattr(generate, "load_backend", lambda spec: backend)
    monkeypatch.setattr(socratic.judge, "load_judge", load_judge)
    return judges


def cfg(dataset, out, **overrides) -> PreferencesConfig:
    """One dialogue per model call, so a backend's `fail_after` counts dialogues."""
    return PreferencesConfig(**{"dataset": str(dataset), "model": "fake:seeded", "k": 3, "judge": "keyword",
                                "out": out, "batch_dialogues": 1, **overrides})


def test_end_to_end_with_fakes(tmp_path, dataset, monkeypatch):
    from datasets import load_dataset

    fakes(monkeypatch, IndexedBackend())
    out = tmp_path / "prefs"
    pairs_path = preferences.run(cfg(dataset, out, limit=4))
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "candidates.jsonl", "candidates.jsonl.config.json", "judgments.jsonl", "pairs.jsonl"]
    judgments = read_jsonl(out / "judgments.jsonl", Judgment)
    assert [(j.dialogue.id, j.meta["index"], j.meta["model"]) for j in judgments] == [
        (f"t-{i}", n, "fake:seeded") for i in range(4) for n in range(3)]
    rows = load_dataset("json", data_files=str(pairs_path), split="train")
    assert rows.num_rows == 4
    # Every row carries its format's version (socratic.store.artifact.ArtifactRow), a column TRL and datasets ignore.
    assert set(rows["version"]) == {PairRecord.VERSION}
    for name, model in (("candidates.jsonl", Candidate), ("judgments.jsonl", Judgment)):
        assert {json.loads(line)["version"] for line in (out / name).open()} == {model.VERSION}, name
    assert json.loads((out / "candidates.jsonl.config.json").read_text())["version"] == CandidatesSettings.VERSION
    for row in rows:
        assert row["chosen"][0]["content"].startswith("Why do you think")
        assert row["rejected"][0]["content"].startswith("The answer is")
        assert (row["chosen_score"], row["rejected_score"]) == (0.875, 0.375)
        assert row["prompt"][0]["role"] == "system"
    assert "| **pairs kept** | **4** |" in (out / "README.md").read_text()


def test_failed_judgments_are_counted_and_their_dialogues_skipped(tmp_path, dataset, monkeypatch):
    fakes(monkeypatch, IndexedBackend())
    out = tmp_path / "prefs"
    preferences.run(cfg(dataset, out))
    # The judge now fails on one reply (t-0's third candidate): t-0 gives no pair, the other 5 do.
    first_plain = read_jsonl(out / "candidates.jsonl", Candidate)[2].reply
    fakes(monkeypatch, IndexedBackend(), fail_on=first_plain)
    preferences.run(cfg(dataset, tmp_path / "again", no_cache=True))
    card = (tmp_path / "again" / "README.md").read_text()
    assert "| judgments failed | 1 |" in card and "| dropped: `judge_failed` | 1 |" in card
    assert "| **pairs kept** | **5** |" in card


def test_interrupted_run_resumes_to_the_clean_result_without_paying_twice(tmp_path, dataset, monkeypatch):
    fakes(monkeypatch, IndexedBackend())
    clean = tmp_path / "clean"
    preferences.run(cfg(dataset, clean, no_cache=True))

    out = tmp_path / "resumed"
    # Crash in generation (after 2 dialogues), then in judging (after 8 judgments) ...
    fakes(monkeypatch, IndexedBackend(fail_after=2))
    with pytest.raises(KeyboardInterrupt):
        preferences.run(cfg(dataset, out))
    fakes(monkeypatch, IndexedBackend(), crash_after=8)
    with pytest.raises(KeyboardInterrupt):
        preferences.run(cfg(dataset, out))
    assert not (out / "judgments.jsonl").exists()  # written atomically at the end, never half
    # ... then finish: only the 10 unjudged replies are judged, and every file equals the clean run's.
    judges = fakes(monkeypatch, IndexedBackend())
    preferences.run(cfg(dataset, out))
    assert len(judges[0].judged) == 18 - 8
    for name in ("candidates.jsonl", "judgments.jsonl", "pairs.jsonl"):
        assert (out / name).read_bytes() == (clean / name).read_bytes(), name
    assert (out / "README.md").read_text().replace(str(out), "X") == \
        (clean / "README.md").read_text().replace(str(clean), "X")


def test_changed_settings_are_refused_and_overwrite_restarts(tmp_path, dataset, monkeypatch):
    fakes(monkeypatch, IndexedBackend())
    out = tmp_path / "prefs"
    preferences.run(cfg(dataset, out, limit=2))
    with pytest.raises(ConfigError, match="seed: 0 in the existing run, 7 now"):
        preferences.run(cfg(dataset, out, limit=2, seed=7))
    preferences.run(cfg(dataset, out, limit=2, seed=7, overwrite=True))
    assert json.loads((out / "candidates.jsonl.config.json").read_text())["seed"] == 7
    judged = read_jsonl(out / "judgments.jsonl", Judgment)
    assert [j.reply for j in judged] == [c.reply for c in read_jsonl(out / "candidates.jsonl", Candidate)]


def test_cli_preferences(tmp_path, dataset, monkeypatch):
    from typer.testing import CliRunner

    from socratic.cli import app

    fakes(monkeypatch, IndexedBackend())
    result = CliRunner().invoke(app, ["preferences", "--dataset", str(dataset), "--limit", "3", "--model", "fake:x",
                                      "-k", "3", "--judge", "keyword", "-o", str(tmp_path / "p"),
                                      "--min-margin", "0.6"])
    assert result.exit_code == 0, result.output
    card = (tmp_path / "p" / "README.md").read_text()
    assert "| dropped: `margin_too_small` | 3 |" in card and "min_margin: 0.6" in card


@pytest.mark.slow
def test_end_to_end_with_the_rubric_judge(tmp_path, dataset, monkeypatch):
    """The real rubric judge (helper C) on fake candidates: chosen must outscore rejected."""
    monkeypatch.setattr(generate, "load_backend", lambda spec: IndexedBackend())
    out = tmp_path / "prefs"
    pairs_path = preferences.run(cfg(dataset, out, judge="rubric", limit=3, min_chosen_score=0.0))
    judgments = read_jsonl(out / "judgments.jsonl", Judgment)
    assert len(judgments) == 9 and all(j.judge.startswith("rubric") for j in judgments)
    rows = [json.loads(line) for line in pairs_path.read_text().splitlines()]
    assert rows and all(r["chosen_score"] > r["rejected_score"] for r in rows)
    assert "dropped" in (out / "README.md").read_text()
