"""The judge kinds, one row each: what `rubric`, `learned`, `pairwise`, `qmark` and `llm` are in code.

    from socratic.judge import registry
    kind, argument = registry.kind_of("pairwise:mine.json")  # (the `pairwise` row, "mine.json")
    kind.judge_class()      # PairwiseJudge, imported on first use (its `detectors` too)
    kind.version()          # "reward_v1/reward_features_v2/features_v4" (versions keep their first names:
                            # saved files and caches stay valid), without loading a model
    kind.saved()            # socratic.judge.pairwise.store: load, load_or_train, train, default_path, ENV
    kind.load(spec, argument, cache=cache)   # the judge itself (JudgeClass.from_spec)

load_judge, judge_version, judge_detectors (socratic.judge) and the saved files behind a spec
(socratic.judge.files) all read this table. What a spec may look like (which kinds exist, which take
':ARG', their help) is socratic.specs.JUDGE_KINDS, pure, for the validators and the help text; a new kind
is a row there and a row here (tests/judge/test_registry.py checks that the two list the same kinds).
Modules are named by strings and imported on first use, so reading the table loads no model. A kind is
named after what the judge is (`pairwise`: a pairwise reward model), not the role it may play (any kind can
be the run's `reward_judge`); the old name `reward` still finds the `pairwise` row (specs.RENAMED_JUDGE_KINDS).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from socratic.specs import parse_judge_spec

if TYPE_CHECKING:
    from socratic.judge.base import Judge
    from socratic.store.cache import Cache


def _resolve(path: str) -> Any:
    """The object at "module:NAME" (imported now)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class JudgeKind:
    """One kind of judge: its class, what its version is made of, and where a fitted one is saved."""

    name: str  # the spec's prefix: `rubric`, `learned:PATH`, `llm:<model spec>`, ...
    judge: str  # "module:Class" of its Judge; the class declares its `detectors` and builds itself (`from_spec`)
    # "module:CONSTANT"s joined by "/": the version of its rules, features or prompt, known without loading a
    # model; what a stage that judges records (a fitted judge's own version adds its weights' hash)
    version_parts: tuple[str, ...]
    store: str | None = None  # the module that saves, loads and fits one (None: nothing to fit)
    fit_command: str | None = None  # the command that fits one into a file of the user's
    # Fitted or calibrated on human labels: the evaluation leaves out the test items whose problems it saw.
    from_labels: bool = False

    def judge_class(self) -> type[Judge]:
        return _resolve(self.judge)

    def version(self) -> str:
        return "/".join(str(_resolve(part)) for part in self.version_parts)

    def saved(self) -> ModuleType | None:
        return importlib.import_module(self.store) if self.store else None

    def load(self, spec: str, argument: str, *, cache: Cache, max_tries: int = 3, concurrency: int = 4) -> Judge:
        return self.judge_class().from_spec(spec, argument, cache=cache, max_tries=max_tries, concurrency=concurrency)


KINDS: dict[str, JudgeKind] = {kind.name: kind for kind in (
    JudgeKind("rubric", "socratic.judge.rubric.judge:RubricJudge", ("socratic.judge.rubric.judge:RUBRIC_VERSION",),
              from_labels=True),
    JudgeKind("learned", "socratic.judge.learned.judge:LearnedJudge",
              ("socratic.judge.learned.fit:LEARNED_VERSION", "socratic.judge.learned.features:FEATURES_VERSION"),
              store="socratic.judge.learned.store", fit_command="socratic judge-train", from_labels=True),
    JudgeKind("pairwise", "socratic.judge.pairwise.judge:PairwiseJudge",
              ("socratic.judge.pairwise.fit:REWARD_VERSION", "socratic.judge.pairwise.features:REWARD_FEATURES",
               "socratic.judge.learned.features:FEATURES_VERSION"),
              store="socratic.judge.pairwise.store", fit_command="socratic judge-train --reward", from_labels=True),
    JudgeKind("qmark", "socratic.judge.baseline:QuestionMarkJudge", ("socratic.judge.baseline:QMARK_VERSION",)),
    JudgeKind("llm", "socratic.judge.llm.judge:LLMJudge", ("socratic.judge.llm.judge:PROMPT_VERSION",)),
)}


def kind_of(spec: str) -> tuple[JudgeKind, str]:
    """(its kind, the argument after 'kind:' or ''); SocraticError naming the valid specs for anything else."""
    name, argument = parse_judge_spec(spec)
    return KINDS[name], argument
