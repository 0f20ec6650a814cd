"""What a pipeline run needs before it starts: a GPU, local model folders, API keys, served models.

    socratic run configs/paper.yaml --dry-run    # the plan, then this table: each need, met or not, and how to meet it
    socratic run configs/paper.yaml              # refuses with one line naming the first missing piece

`needs(config, stages)` lists the needs of the stages that will run (a finished stage needs nothing
any more); `require(needs)` raises a SocraticError for the first unmet one, before anything is
written. API keys are checked for presence only: their values are never read into a message.
`check_inputs(config)` refuses, in the dry run too, what no machine can provide: a dataset or split
that does not exist, a run folder that is a file (a config loaded from YAML already names their lines),
a judge file (`pairwise:PATH`, `learned:PATH`) that is missing or broken.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socratic.errors import ConfigError, SocraticError
from socratic.specs import parse_model_spec

KEY_VARIABLES = ("SOCRATIC_OPENAI_API_KEY", "OPENAI_API_KEY")  # as socratic.backends.openai_backend


@dataclass(frozen=True)
class Need:
    what: str     # "GPU", "model folder", "API key", "served model"
    detail: str   # which one and for what
    ok: bool
    fix: str      # how to meet it (shown when not met)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _served_model_answers(base_url: str) -> bool:
    import httpx

    try:
        httpx.get(base_url.rstrip("/") + "/models", timeout=3.0)
    except httpx.HTTPError:
        return False
    return True  # any HTTP answer: the server is up (a 401/404 is the server's to explain later)


def _backend_needs(spec: str, use: str, env: Mapping[str, str],
                   probe: Callable[[str], bool]) -> list[Need]:
    """The needs of one backend spec (`embedded`, `hf:PATH`, `openai:M[@URL]`, `llm:SPEC`, `rubric`, `learned`)."""
    if spec in ("rubric", "learned", "pairwise", "reward", "qmark") or spec.startswith(("learned:", "pairwise:", "reward:")):
        return []  # offline; the learned and pairwise judges (`reward`: its old name) are fitted from the shipped labels on first use
    spec = spec.removeprefix("llm:")
    kind, arg = parse_model_spec(spec)
    if kind == "hf":
        folder = Path(arg).expanduser()
        ok = (folder / "config.json").exists()
        return [Need("model folder", f"{folder} ({use})", ok,
                     f"put a transformers model folder there (config.json + weights), e.g. "
                     f"`huggingface-cli download <repo> --local-dir {folder}` on a machine with internet")]
    if kind == "llamacpp":
        return [Need("model file", f"{arg} ({use})", Path(arg).expanduser().is_file(), "put the GGUF file there")]
    if kind == "openai":
        from socratic.backends.openai_backend import DEFAULT_BASE_URL, split_spec_argument

        model, url = split_spec_argument(arg)
        if url == DEFAULT_BASE_URL:
            ok = any(env.get(name) for name in KEY_VARIABLES)
            return [Need("API key", f"OpenAI, for {model} ({use})", ok,
                         "export OPENAI_API_KEY=... (or SOCRATIC_OPENAI_API_KEY) in this shell")]
        return [Need("served model", f"{model} at {url} ({use})", probe(url),
                     f"start the server first (vLLM, Ollama, llama.cpp, or `socratic serve`) so that {url} answers")]
    return []


def needs(config: Any, running: Iterable[str] | None = None, *, env: Mapping[str, str] | None = None,
          cuda: Callable[[], bool] | None = None, probe: Callable[[str], bool] | None = None) -> list[Need]:
    """The needs of the stages in `running` (stage names such as 'generate:mathdial'; None = all)."""
    env = os.environ if env is None else env
    cuda = cuda or cuda_available
    probe = probe or _served_model_answers
    stages = None if running is None else {name.split(":", 1)[0] for name in running}

    def runs(*kinds: str) -> bool:
        return stages is None or bool(stages & set(kinds))

    found: list[Need] = []
    if getattr(config, "requires_gpu", False) and runs("generate", "sft", "train", "evaluate"):
        found.append(Need("GPU", "CUDA, for generation, training and evaluation (requires_gpu: true)", cuda(),
                          "run on a machine with an NVIDIA GPU and a CUDA build of torch, or set "
                          "requires_gpu: false and expect days on a CPU"))
    if runs("generate", "sft", "train"):
        found += _backend_needs(config.model, "the base model", env, probe)
    if runs("judge"):
        found += _backend_needs(config.reward_judge, "the reward judge", env, probe)
    if runs("evaluate", "agreement"):
        if runs("evaluate"):
            found += _backend_needs(config.model, "the base model", env, probe)
        for judge in config.eval_judges:
            found += _backend_needs(judge, "an evaluation judge", env, probe)
    if runs("evaluate"):
        for name, spec in config.reference_models.items():
            found += _backend_needs(spec, f"reference model {name}", env, probe)
    unique: dict[tuple[str, str], Need] = {}
    for need in found:  # one line per need, even when two roles share it
        key = (need.what, need.detail.split(" (", 1)[0])
        unique.setdefault(key, need)
    return list(unique.values())


def dataset_problem(source: str, split: str, *, test: bool) -> str | None:
    """Why `source`/`split` cannot be loaded as a training (test=False) or test slice (unknown name, missing split
    or file, bad or empty file); None if it can. Only a test slice may be a validation split."""
    from socratic.data import load_dialogues
    from socratic.data.teacher_turns import evaluation_set

    try:
        dialogues = evaluation_set(source, split) if test else load_dialogues(source, split)
    except SocraticError as error:
        return str(error)
    return None if dialogues else f"no dialogues in {source!r} split {split!r}"


def check_inputs(config: Any) -> None:
    """Raise a ConfigError listing every dataset slice that cannot be loaded, a run folder that is a file, and
    every judge file the config names (`learned:PATH`, `pairwise:PATH`) that is missing or does not load."""
    problems = []
    if config.run_dir.exists() and not config.run_dir.is_dir():
        problems.append(f"out: not a folder: {config.run_dir} is a file; name a folder for the run")
    for kind in ("train", "test"):
        for index, part in enumerate(getattr(config.datasets, kind)):
            problem = dataset_problem(part.source, part.split, test=kind == "test")
            if problem:
                problems.append(f"datasets.{kind}.{index}: {problem}")
    from socratic.judge import files

    try:
        files.check([config.reward_judge, *config.eval_judges])  # a missing or broken learned:PATH / reward:PATH
    except ConfigError as error:
        problems.append(str(error))
    if problems:
        raise ConfigError("; ".join(problems))


def require(found: Iterable[Need], name: str) -> None:
    """Raise for the first unmet need: one line naming the missing piece and how to provide it."""
    for need in found:
        if not need.ok:
            raise SocraticError(f"{name} cannot start, {need.what} missing: {need.detail}; {need.fix}")


def print_needs(found: list[Need], console: Any) -> None:
    from rich.table import Table

    if not found:
        console.print("needs: nothing beyond this machine (no GPU, model folder, API key or server required)")
        return
    table = Table(title="what this run needs")
    for column in ("need", "which", "here"):
        table.add_column(column)
    for need in found:
        table.add_row(need.what, need.detail, "[green]yes[/]" if need.ok else f"[red]missing[/]: {need.fix}")
    console.print(table)
