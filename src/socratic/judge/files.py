"""The saved file behind a judge spec (`learned`, `pairwise`, with or without `:PATH`), without judging anything:
which file it is and how it was named, its hash, and a check that it loads (issue 41).

    from socratic.judge import files
    files.check(["reward:mine.json", "rubric"])   # ConfigError naming each missing or broken file, before any work
    files.fingerprint(["reward"])                 # {"reward": sha256 of SOCRATIC_HOME/judges/reward.json} (or {})
    files.prepare_defaults(["learned", "reward"]) # fit (or refit, when stale) the default judges, as first use would

How a file is named decides what is an error, as the judges' own loading does (`load_judge`, `load_or_train`):
- in the spec (`pairwise:PATH`): the user's file; missing or broken is an error, found before any work;
- by an environment variable (SOCRATIC_REWARD_JUDGE, SOCRATIC_LEARNED_JUDGE): fitted there on first use when
  missing; broken or stale is an error;
- neither (SOCRATIC_HOME/judges): fitted on first use, refitted when stale or corrupt.
Whatever the naming, a pipeline stage keeps the file's hash in its manifest: a refitted judge re-runs the
stages it judged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from socratic.errors import ConfigError, SocraticError
from socratic.judge.registry import kind_of

NOT_FITTED = "not fitted yet"  # the fingerprint of a judge fitted on first use, before that use
SPEC, ENVIRONMENT, DEFAULT = "spec", "environment", "default"  # how a judge's file was named


def judge_file(spec: str) -> tuple[Path, str] | None:
    """(the file `spec` loads, how it was named: SPEC, ENVIRONMENT or DEFAULT) for a saved judge; None for a
    judge without a file."""
    from socratic.judge import store

    try:
        kind, path = kind_of(spec)
    except SocraticError:
        return None  # an unknown spec is refused where the judge is loaded, with the list of specs
    saved = kind.saved()  # the kind's store module (socratic.judge.registry), None when nothing is fitted
    if saved is None:
        return None
    if path:
        return Path(path).expanduser(), SPEC
    return saved.default_path(), DEFAULT if store.is_default(None, saved.ENV) else ENVIRONMENT


def check(specs: Iterable[str]) -> None:
    """Raise a ConfigError naming every judge file of the user's that is missing (named in the spec) or does not
    load (named in the spec or by the environment)."""
    problems = []
    for spec in dict.fromkeys(specs):
        found = judge_file(spec)
        if found is None or found[1] == DEFAULT:
            continue
        path, named, kind = *found, kind_of(spec)[0]
        if not path.is_file():
            if named == SPEC:
                problems.append(f"judge {spec!r}: {path}: no such file; fit one with "
                                f"`{kind.fit_command} --out {path}`")
            continue  # named by the environment: fitted there on first use
        try:
            kind.saved().load(path)
        except SocraticError as error:
            problems.append(f"judge {spec!r}: {error}")
    if problems:
        raise ConfigError("; ".join(problems))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(specs: Iterable[str]) -> dict[str, str]:
    """{spec: sha256 of its file} for the saved judges among `specs` ({} when there is none: the manifests
    of runs judged by rubric, qmark or an LLM keep the settings they always had); NOT_FITTED for a judge
    that is not on disk yet."""
    out = {}
    for spec in dict.fromkeys(specs):
        found = judge_file(spec)
        if found is not None:
            out[spec] = _sha256(found[0]) if found[0].is_file() else NOT_FITTED
    return out


def prepare_defaults(specs: Iterable[str]) -> bool:
    """Fit the judges among `specs` not named in the spec that are not on disk yet, and refit a stale default
    one, as their first use would (a broken file of the user's stays an error); True when a file changed."""
    named = [spec for spec in dict.fromkeys(specs) if (found := judge_file(spec)) is not None and found[1] != SPEC]
    before = fingerprint(named)
    for spec in named:
        kind_of(spec)[0].saved().load_or_train()
    return fingerprint(named) != before
