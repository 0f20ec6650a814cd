"""The judge registry (socratic.judge.registry): one row per kind, the same kinds as the spec syntax, every
row's class, version and saved file resolving, and load_judge / judge_version / files dispatching through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from socratic.errors import SocraticError
from socratic.judge import judge_detectors, judge_version, load_judge, registry
from socratic.judge.base import Judge
from socratic.specs import JUDGE_KINDS
from socratic.store.cache import NoCache


def test_the_registry_lists_the_kinds_of_the_spec_syntax_in_its_order():
    assert list(registry.KINDS) == [kind.name for kind in JUDGE_KINDS]
    assert all(name == row.name for name, row in registry.KINDS.items())


@pytest.mark.parametrize("name", list(registry.KINDS))
def test_every_row_resolves_to_a_judge_class_a_version_and_its_saved_file(name):
    row = registry.KINDS[name]
    cls = row.judge_class()
    assert issubclass(cls, Judge)
    assert isinstance(cls.detectors, frozenset)
    parts = row.version().split("/")
    assert len(parts) == len(row.version_parts) and all(parts)
    saved = row.saved()
    if saved is None:
        assert row.fit_command is None
    else:  # what socratic.judge.files and the first use of the judge call
        assert all(callable(getattr(saved, f)) for f in ("default_path", "load", "load_or_train", "train"))
        assert saved.ENV.startswith("SOCRATIC_") and row.fit_command.startswith("socratic judge-train")


def test_versions_are_composed_as_the_stages_record_them():
    """The strings every manifest and cache key holds: a change here re-runs every judged stage."""
    from socratic.judge.baseline import QMARK_VERSION
    from socratic.judge.learned.features import FEATURES_VERSION
    from socratic.judge.learned.fit import LEARNED_VERSION
    from socratic.judge.llm.judge import PROMPT_VERSION
    from socratic.judge.pairwise.features import REWARD_FEATURES
    from socratic.judge.pairwise.fit import REWARD_VERSION
    from socratic.judge.rubric.judge import RUBRIC_VERSION

    assert judge_version("rubric") == RUBRIC_VERSION
    assert judge_version("qmark") == QMARK_VERSION
    assert judge_version("learned") == judge_version("learned:x.json") == f"{LEARNED_VERSION}/{FEATURES_VERSION}"
    assert judge_version("pairwise") == f"{REWARD_VERSION}/{REWARD_FEATURES}/{FEATURES_VERSION}"
    assert judge_version("llm:embedded") == judge_version("llm:openai:m") == PROMPT_VERSION


def test_reading_the_table_loads_no_judge(monkeypatch):
    from socratic.judge.learned import store as learned_store
    from socratic.judge.pairwise import store as reward_store

    for saved in (learned_store, reward_store):
        monkeypatch.setattr(saved, "load_or_train", lambda *a, **k: pytest.fail("a judge was fitted or loaded"))
        monkeypatch.setattr(saved, "load", lambda *a, **k: pytest.fail("a judge was loaded"))
    assert judge_version("pairwise") and judge_version("learned")
    assert "dodge_signals" in judge_detectors("pairwise") and "learned_heads" in judge_detectors("learned")
    assert judge_detectors("llm:embedded") == frozenset()


def test_kind_of_splits_a_spec_and_refuses_an_unknown_one():
    kind, argument = registry.kind_of("pairwise:path/to/r.json")
    assert kind is registry.KINDS["pairwise"] and argument == "path/to/r.json"
    assert registry.kind_of("rubric") == (registry.KINDS["rubric"], "")
    assert registry.kind_of("llm:openai:m@http://h:1/v1") == (registry.KINDS["llm"], "openai:m@http://h:1/v1")
    for bad in ("rubric:x", "llm:nonsense", "reward2", ""):
        with pytest.raises(SocraticError, match="unknown"):
            registry.kind_of(bad)


def test_the_old_kind_name_reward_is_the_pairwise_judge_with_one_warning_a_process(monkeypatch, capsys):
    """`reward` became `pairwise` ("the reward" is a role: the run's reward_judge). The old spec still names the
    same judge: same row, version, detectors, default file and environment variable; one line on stderr, once."""
    from socratic import specs
    from socratic.judge import files

    monkeypatch.setattr(specs, "_warned", set())
    monkeypatch.setenv("SOCRATIC_REWARD_JUDGE", "/elsewhere/r.json")
    assert specs.parse_judge_spec("reward") == ("pairwise", "")
    assert registry.kind_of("reward:mine.json") == (registry.KINDS["pairwise"], "mine.json")
    assert judge_version("reward") == judge_version("pairwise")
    assert judge_detectors("reward") == judge_detectors("pairwise")
    assert files.judge_file("reward") == files.judge_file("pairwise") == (Path("/elsewhere/r.json"), files.ENVIRONMENT)
    assert files.judge_file("reward:mine.json") == files.judge_file("pairwise:mine.json")
    lines = capsys.readouterr().err.splitlines()
    assert lines == [("warning: judge 'reward' is now 'pairwise' (`reward:PATH` is `pairwise:PATH`: the same judge "
                      "and file); the old name will go in a later version")]
    specs.parse_judge_spec("pairwise")
    for bad in ("reward2", "rewards:x"):  # only the exact old name is renamed
        with pytest.raises(SocraticError, match="unknown"):
            specs.parse_judge_spec(bad)
    assert capsys.readouterr().err == ""


def test_load_judge_builds_each_kind_through_its_class():
    from socratic.judge.baseline import QuestionMarkJudge
    from socratic.judge.llm.judge import LLMJudge
    from socratic.judge.rubric.judge import RubricJudge

    rubric = load_judge("rubric", cache=NoCache())
    assert type(rubric) is RubricJudge and rubric.spec == "rubric" and rubric.version == judge_version("rubric")
    assert type(load_judge("qmark", cache=NoCache())) is QuestionMarkJudge
    llm = load_judge("llm:fake:{}", cache=NoCache(), max_tries=2, concurrency=7)
    assert type(llm) is LLMJudge and llm.spec == "llm:fake:{}" and (llm.max_tries, llm.concurrency) == (2, 7)


def test_a_saved_kind_loads_the_file_its_spec_names(monkeypatch, tmp_path):
    """`learned:PATH` loads that file (never the default one); `learned` the default, fitted on first use."""
    from socratic.judge.learned import judge as learned_judge
    from socratic.judge.learned import store as learned_store

    calls = []
    monkeypatch.setattr(learned_store, "load", lambda path: calls.append(("load", path)) or "model")
    monkeypatch.setattr(learned_store, "load_or_train", lambda: calls.append(("default",)) or "model")
    monkeypatch.setattr(learned_judge, "model_hash", lambda model: "0" * 64)
    judge = load_judge(f"learned:{tmp_path}/mine.json", cache=NoCache())
    assert judge.spec == f"learned:{tmp_path}/mine.json" and judge.model == "model"
    assert load_judge("learned", cache=NoCache()).spec == "learned"
    assert calls == [("load", tmp_path / "mine.json"), ("default",)]
