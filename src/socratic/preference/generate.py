"""Candidate generation: k sampled tutor replies per dialogue, the first stage of preference data.

    socratic generate --dataset mathdial --split train --model embedded -k 5 --limit 32 -o candidates.jsonl

Output is JSON Lines of `Candidate` records, k per dialogue, in dataset order. The run is built to be
interrupted and re-run:
- Each batch's seed is derived from the config seed and the batch's own messages, never from a
  global RNG stream, and batches are fixed slices of the dataset order; so a dialogue's candidates
  do not depend on where an earlier run stopped.
- Records are appended one fsynced line at a time; on start the existing file is read (a torn last
  line is dropped), complete dialogues are skipped and a partly written one is completed, so a
  resumed run's file equals an uninterrupted run's, line for line.
- Model calls go through the shared cache (`generate_cached`), so regenerating costs nothing.
  (The loop that keeps these promises is shared with the evaluation: socratic.backends.reply_loop.)
- A larger `limit` extends a run. Its file equals a run made with that limit from the start, except
  where the old limit cut a batch short: those dialogues keep the candidates drawn in the shorter
  batch (a sampled batch's replies depend on its members).
- `<out>.config.json` (`CandidatesSettings`, versioned) records the settings; resuming with different
  settings is an error naming the setting, unless `overwrite=True` (`--overwrite`) starts the file afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from socratic.backends import GenerationOptions, count_tokens, cut_at_turn_end, load_backend
from socratic.backends.reply_loop import Ask, ModelWork, Step, fill, fixed_batches
from socratic.config import Output, output_fields
from socratic.errors import ConfigError, SocraticError
from socratic.progress import console
from socratic.records import Candidate, Dialogue
from socratic.render import load_system_prompt, render_messages
from socratic.specs import DATASET_HELP, MODEL_SPEC_HELP, parse_model_spec
from socratic.store.artifact import Artifact
from socratic.store.cache import Cache, NoCache, content_key
from socratic.store.jsonl import read_jsonl, repair_torn_tail

# 4 dialogues x k=5 filled the transformers backend's batch of 20 sequences: 1.9-2.2x the candidates/s of
# one dialogue per call on the 2-core dev CPU (32 MathDial dialogues; bench/RESULTS.md, bench_generate.py).
# The backend's batch is now 32 rows, so 4 x k=8 (configs/cpu.yaml) is one batch too (bench_decode.py).
DEFAULT_BATCH_DIALOGUES = 4


class Sampling(BaseModel):
    """How candidates are drawn: shared by `socratic generate`, `socratic preferences` and the pipeline."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    k: Output[int] = Field(default=5, ge=1, le=64, description="Candidates per dialogue.")
    temperature: Output[float] = Field(default=1.0, ge=0.0, le=2.0, description="Sampling temperature.")
    top_p: Output[float] = Field(default=0.95, gt=0.0, le=1.0, description="Nucleus sampling.")
    max_new_tokens: Output[int] = Field(default=128, ge=1, le=8192, description="Reply length cap.")
    # Dialogues per model call (each contributes k sequences); see the module docstring for why
    # batches are fixed slices, and DEFAULT_BATCH_DIALOGUES for the default.
    batch_dialogues: Output[int] = Field(default=DEFAULT_BATCH_DIALOGUES, ge=1, le=64,
                                         description="Dialogues per model call, k sequences each.")


class GenerateConfig(Sampling):
    """Settings of `socratic generate`."""

    dataset: Output[str] = Field(min_length=1, description=DATASET_HELP)
    split: Output[str] = Field(default="train", description="Split to read.")
    # Drop duplicate dialogues and (for a non-test split) those also in the test split: training on
    # test conversations would inflate every evaluation.
    dedupe: Output[bool] = Field(default=True, description=(
        "Drop duplicate dialogues and, for a train split, those also in the test split."))
    model: Output[str] = Field(default="embedded", description=f"Candidate model: {MODEL_SPEC_HELP}.")
    limit: Output[int | None] = Field(default=None, ge=1, description="Only the first N dialogues.")
    out: Path = Field(description="Output JSONL of candidates.")
    seed: Output[int] = Field(default=0, description="Base seed; same seed, same candidates.")
    system_prompt: Output[Path | None] = Field(default=None, description="Tutor system prompt file.")
    answer_key: Output[bool] = Field(default=False, description=(
        "Put each dialogue's reference in the tutor's system message as its answer key (docs/teachers.md)."))
    # Requests in flight to an `openai:` server (several batches at once, socratic.backends.inflight); how, not
    # what: the candidates are the same at any value. Local models ignore it.
    concurrency: int = Field(default=8, ge=1, le=256, description="Requests in flight to an openai: server.")
    no_cache: bool = Field(default=False, description="Do not read or write the generation cache.")
    overwrite: bool = Field(default=False, description="Start the output afresh instead of resuming.")

    def options(self, seed: int) -> GenerationOptions:
        return GenerationOptions(max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                                 top_p=self.top_p, greedy=self.temperature == 0.0, n=self.k, seed=seed)


# Resuming with any of the settings that change what is generated (marked Output[...]) changed is refused,
# except `limit`: a larger one just extends a run (module docstring). The prompt is compared by its content.
OUTPUT_SETTINGS = (*(name for name in output_fields(GenerateConfig) if name not in ("limit", "system_prompt")),
                   "system_prompt_sha")


def config_path(out: Path) -> Path:
    return out.with_name(out.name + ".config.json")


class CandidatesSettings(Artifact):
    """`<out>.config.json`: the settings a candidates file was made with (`settings_record`), checked on resume.

    Typed are the settings a resume compares; the rest (limit, out, ...) are kept as written. All optional:
    a file from an older socratic without one reads, and the resume then names that setting as changed.
    """

    VERSION: ClassVar[int] = 1

    dataset: str | None = None
    split: str | None = None
    dedupe: bool | None = None
    model: str | None = None
    k: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_new_tokens: int | None = None
    seed: int | None = None
    batch_dialogues: int | None = None
    system_prompt_sha: str | None = None
    answer_key: bool | None = None


# Settings added after candidates files already existed, with the value that does what came before: a file
# that lacks one was made at that value, and resumes.
ADDED_LATER = {"answer_key": False}


def batch_seed(seed: int, conversations: Sequence[list[dict[str, str]]]) -> int:
    """A 31-bit seed for one batch, from the config seed and the batch's messages."""
    return int(content_key("socratic.generate.seed", seed, list(conversations))[:8], 16) & 0x7FFFFFFF


def settings_record(config: GenerateConfig, system_prompt: str) -> dict[str, Any]:
    data = config.model_dump(mode="json", exclude={"overwrite", "no_cache", "concurrency"})
    data["system_prompt_sha"] = content_key(system_prompt)[:16]
    return data


def check_settings(saved: dict[str, Any], current: dict[str, Any], path: Path) -> None:
    """Refuse to mix candidates made with different settings in one file."""
    saved = {**ADDED_LATER, **saved}
    changed = [f"{name}: {saved.get(name)!r} in the existing run, {current[name]!r} now"
               for name in OUTPUT_SETTINGS if saved.get(name) != current[name]]
    if changed:
        raise ConfigError(f"{path} was made with other settings ({'; '.join(changed)}); "
                          "re-run with the same settings to resume, or pass --overwrite to start afresh")


def candidate_key(candidate: Candidate) -> tuple[str, int]:
    return candidate.dialogue.id, candidate.index


def _existing(out: Path, k: int) -> dict[tuple[str, int], Candidate]:
    """The candidates already on disk, by (dialogue id, index) (a torn last line is cut first)."""
    if not out.exists():
        return {}
    repair_torn_tail(out)
    done: dict[tuple[str, int], Candidate] = {}
    for candidate in read_jsonl(out, Candidate):
        if candidate.index >= k or candidate_key(candidate) in done:
            raise SocraticError(f"{out}: unexpected candidate {candidate.dialogue.id}#{candidate.index}; "
                                "the file was not written by this command (pass --overwrite)")
        done[candidate_key(candidate)] = candidate
    return done


def _prepare_output(config: GenerateConfig, settings: dict[str, Any]) -> dict[tuple[str, int], Candidate]:
    out, cfg = config.out, config_path(config.out)
    if config.overwrite:
        out.unlink(missing_ok=True)
    elif cfg.exists():
        check_settings(CandidatesSettings.read(cfg).model_dump(exclude_unset=True), settings, out)
    elif out.exists() and out.stat().st_size > 0:
        raise ConfigError(f"{out} exists without {cfg.name}; pass --overwrite to replace it")
    return _existing(out, config.k)


def run(config: GenerateConfig) -> Path:
    """Generate (or finish generating) the candidates file; returns its path."""
    from socratic.data import load_dialogues

    system_prompt = load_system_prompt(config.system_prompt)
    dialogues = load_dialogues(config.dataset, config.split, dedupe=config.dedupe)
    if config.limit is not None:
        dialogues = dialogues[: config.limit]
    if not dialogues:
        raise SocraticError(f"no dialogues in {config.dataset!r} split {config.split!r}")
    ids = [d.id for d in dialogues]
    if len(set(ids)) != len(ids):
        raise SocraticError(f"{config.dataset}: dialogue ids are not unique; candidates could not be resumed")

    parse_model_spec(config.model)  # a bad spec fails before anything is written
    settings = settings_record(config, system_prompt)
    done = _prepare_output(config, settings)

    def record_settings() -> None:  # once the model is loaded, before the first record
        config.out.parent.mkdir(parents=True, exist_ok=True)
        CandidatesSettings.write_checked(config_path(config.out), settings)

    batches = [[_candidates(batch, config, system_prompt)] for batch in fixed_batches(dialogues, config.batch_dialogues)]
    cache = NoCache() if config.no_cache else Cache()
    # Not compacted: a smaller `limit` than the file's keeps the candidates drawn before, and a file made
    # with other settings was refused above, so nothing on disk is stale.
    filled = fill(config.out, [ModelWork(config.model, cache, batches)], key=candidate_key, done=done,
                  label=f"generating k={config.k}", concurrency=config.concurrency,
                  requests_per_batch=config.batch_dialogues * config.k, compact=False, on_start=record_settings,
                  load=load_backend)
    backend = filled.backends.get(config.model)
    tokens = [count_tokens(backend, c.reply) for c in filled.written]
    reply_tokens = sum(len(c.reply.split()) if n is None else n for c, n in zip(filled.written, tokens, strict=True))
    rate = f", {reply_tokens / filled.seconds:.1f} reply tokens/s" if filled.written and filled.seconds > 0 else ""
    console.print(f"{len(filled.records)} candidates for {len(dialogues)} dialogues in {config.out} "
                  f"({len(filled.written)} new in {filled.seconds:.1f} s{rate})")
    return config.out


def _candidates(batch: list[Dialogue], config: GenerateConfig, system_prompt: str) -> Step[Candidate]:
    """One model call: k samples for each dialogue of a fixed batch, seeded by the batch's own messages."""
    def ask(earlier: list[list[Candidate]]) -> Ask:
        conversations = [render_messages(d, system_prompt, answer_key=config.answer_key) for d in batch]
        return Ask(conversations, config.options(batch_seed(config.seed, conversations)))

    def records(ask: Ask, replies: list[list[str]]) -> list[Candidate]:
        # An empty reply (the model only produced a next-turn tag) is kept: the judge scores it low.
        return [Candidate(dialogue=dialogue, reply=cut_at_turn_end(raw), model=config.model, index=index,
                          meta={"seed": ask.options.seed, "temperature": config.temperature,
                                "top_p": config.top_p, "max_new_tokens": config.max_new_tokens})
                for dialogue, samples in zip(batch, replies, strict=True) for index, raw in enumerate(samples)]

    return Step(keys=[(d.id, i) for d in batch for i in range(config.k)], size=len(batch), ask=ask, records=records)


def load_candidates(path: str | Path) -> list[Candidate]:
    return read_jsonl(path, Candidate)
