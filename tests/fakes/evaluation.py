"""`socratic evaluate` run on fakes: scripted models, fake judges, made-up test dialogues; no model loaded."""

from __future__ import annotations

from pathlib import Path

from fakes.data import dialogues
from fakes.judges import FakeJudge
from socratic.backends import FakeBackend
from socratic.evaluate import evaluation as evaluate


def evaluate_with_fakes(monkeypatch, out: Path, models: dict, *, fake_judges: dict | None = None, n: int = 4,
                        **config) -> Path:
    """Evaluate `models` on n made-up dialogues per test set; returns the output folder.

    models: name -> its replies, a list (FakeBackend's queue) or a `responder(messages, options)`;
    fake_judges: spec -> judge, for judges other than a FakeJudge (which every other spec gets);
    config: the rest of EvaluateConfig (datasets, judges (default: fake_judges' specs or 'rubric'), ...)."""
    backends = {f"fake:{name}": FakeBackend(responder=replies, spec=f"fake:{name}") if callable(replies) else
                FakeBackend(replies, spec=f"fake:{name}") for name, replies in models.items()}
    judges = fake_judges or {}
    config.setdefault("judges", list(judges) or ["rubric"])
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: backends[spec])
    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: judges.get(spec) or FakeJudge(spec))
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: dialogues(source, n))
    evaluate.run(evaluate.EvaluateConfig(models={name: f"fake:{name}" for name in models}, out=out,
                                         **{"n_resamples": 200, **config}))
    return out
