"""The saved file behind a judge spec (`learned`, `reward`, with or without `:PATH`), without judging anything:
which file it is, whether it is the user's, its hash, and a check that it loads (issue 41).

    from socratic.judge import files
    files.check(["reward:mine.json", "rubric"])   # ConfigError naming each missing or broken file, before any work
    files.fingerprint("reward")                   # {"reward": sha256 of SOCRATIC_HOME/judges/reward.json} (or {})
    files.prepare_defaults(["learned", "reward"]) # fit (or refit, when stale) the default judges, as first use would

A judge named by its file (`reward:PATH`, or the file an environment variable points to) is the user's: a
missing or broken one is an error, found before any reply is generated or judged. A default judge
(SOCRATIC_HOME/judges) is fitted on first use and refitted when stale, so only its hash matters here: a
pipeline stage keeps it in its manifest, and a refitted judge re-runs the stages it judged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from socratic.errors import ConfigError, SocraticError
from socratic.specs import parse_judge_spec

# judge kind -> (the module that saves it, the environment variable that names its file)
SAVED = {"learned": ("socratic.judge.learned_store", "SOCRATIC_LEARNED_JUDGE"),
         "reward": ("socratic.judge.reward", "SOCRATIC_REWARD_JUDGE")}
NOT_FITTED = "not fitted yet"  # the fingerprint of a default judge before its first use


def _store(kind: str):
    import importlib

    return importlib.import_module(SAVED[kind][0])


def judge_file(spec: str) -> tuple[Path, bool] | None:
    """(the file `spec` loads, whether it is the user's) for a saved judge; None for a judge without a file."""
    from socratic.judge import store

    try:
        kind, path = parse_judge_spec(spec)
    except SocraticError:
        return None  # an unknown spec is refused where the judge is loaded, with the list of specs
    if kind not in SAVED:
        return None
    if path:
        return Path(path).expanduser(), True
    return _store(kind).default_path(), not store.is_default(None, SAVED[kind][1])


def check(specs: Iterable[str]) -> None:
    """Raise a ConfigError naming every judge file of the user's that is missing or does not load."""
    problems = []
    for spec in dict.fromkeys(specs):
        found = judge_file(spec)
        if found is None or not found[1]:
            continue
        path, kind = found[0], parse_judge_spec(spec)[0]
        if not path.is_file():
            fit = "--reward " if kind == "reward" else ""
            problems.append(f"judge {spec!r}: {path}: no such file; fit one with "
                            f"`socratic judge-train {fit}--out {path}`")
            continue
        try:
            _store(kind).load(path)
        except SocraticError as error:
            problems.append(f"judge {spec!r}: {error}")
    if problems:
        raise ConfigError("; ".join(problems))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(specs: Iterable[str]) -> dict[str, str]:
    """{spec: sha256 of its file} for the saved judges among `specs` ({} when there is none: the manifests
    of runs judged by rubric, qmark or an LLM keep the settings they always had); NOT_FITTED for a default
    judge that is not on disk yet."""
    out = {}
    for spec in dict.fromkeys(specs):
        found = judge_file(spec)
        if found is not None:
            out[spec] = _sha256(found[0]) if found[0].is_file() else NOT_FITTED
    return out


def prepare_defaults(specs: Iterable[str]) -> bool:
    """Fit the default judges among `specs` that are not on disk yet, and refit those that are stale or
    corrupt (as their first use would); True when a file changed."""
    defaults = [spec for spec in dict.fromkeys(specs) if (found := judge_file(spec)) is not None and not found[1]]
    before = fingerprint(defaults)
    for spec in defaults:
        _store(parse_judge_spec(spec)[0]).load_or_train()
    return fingerprint(defaults) != before
