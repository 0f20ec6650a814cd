"""A supervised warm-up before DPO: TRL's SFTTrainer on the chosen replies of the preference pairs, on the
real teachers' turns of the training dialogues, or on both (`data:`).

    socratic run CONFIG.yaml       # with `sft: {epochs: 1}` in the config: the stage sft:X, before train:X
    socratic run CONFIG.yaml       # `sft: {data: teacher}`: imitate the teachers (socratic.data.teacher_turns)
    python -c "from socratic.train import sft; ..."   # sft.run(sft.warm_up_config(settings, dpo_config, out))

The warm-up teaches the model the *form* of a tutor turn before DPO teaches the preference itself: a
135M model rarely samples a question, so DPO alone sees few pairs whose chosen side asks one.
- `data: chosen` (the default) imitates the best of the model's own samples, as the judge ranked them;
- `data: teacher` imitates what real tutors said at each point of the training dialogues: MathDial's
  teachers, Socratic Debugging's instructors (and the benchmark's alternative utterances), never a test
  problem (`docs/teachers.md`); `teacher_sources` picks them (default: those of the training dataset);
- `data: both`: the two sets together.
`skip_openings` leaves out each conversation's opening tutor turn (37% of MathDial's teacher turns, half of them a
formula asking to be walked through the solution, which a 135M model then says at any point of a conversation).
Off by default: the try without them invented numbers again and dodged no less (docs/results.md).
The loss is on the reply only (TRL's prompt-completion format: prompt = the pair's prompt or the teacher
turn's conversation rendered by `socratic.render.render_messages`, completion = the reply), and only the
reply positions go through the LM head (`shared_prompt.score_replies_only`; TRL scores every position on a CPU).

It trains what the DPO that follows trains, within the same length budget: the adapter shape (lora,
lora_r, ...), max_length / max_prompt_length, bf16, the instructions override and the seed come from the
DPO TrainConfig (`warm_up_config`); only the schedule (epochs, learning rate, batch) is the warm-up's own,
and its LoRA dropout where it sets one (its adapter is merged before DPO starts).
Prompts are fitted by `socratic.train.rows` (prepare_pairs, prepare_completions), exactly as for DPO.

OUT ends up like a `socratic train` folder: the merged full model (so DPO starts from `hf:OUT`, and its
reference model is the warmed-up one), adapter/ (LoRA runs), metrics.jsonl, train_config.json, and
train_summary.json written LAST. No checkpoints: an interrupted warm-up starts again (it is short).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socratic.config import Output
from socratic.data.teacher_turns import TEACHERS_OF
from socratic.errors import SocraticError
from socratic.progress import console
from socratic.records import Dialogue
from socratic.train.artifacts import FINISHED_MARKER, TrainConfigRecord, TrainSummary
from socratic.train.dpo import DEFAULT_LR, TrainConfig, is_finished, resolve_model_dir

# TrainConfig fields the warm-up takes from the DPO run it prepares (their defaults live there);
# lora_dropout only where the warm-up does not set its own.
FROM_DPO = ("model", "seed", "lora", "lora_r", "lora_alpha", "lora_dropout", "target_modules", "max_length",
            "max_prompt_length", "bf16", "gradient_checkpointing", "system_prompt")


class SftSettings(BaseModel):
    """The warm-up's schedule: the `sft:` section of a run config."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    epochs: Output[float] = Field(1.0, gt=0)
    learning_rate: Output[float | None] = Field(None, gt=0,
                                                description="default: DPO's (2e-4 LoRA / 5e-6 full)")
    max_steps: Output[int | None] = Field(None, ge=1,
                                          description="stop after this many steps (overrides epochs)")
    batch_size: Output[int] = Field(2, ge=1)
    grad_accum: Output[int] = Field(2, ge=1)
    lora_dropout: Output[float | None] = Field(None, ge=0, lt=1, description=(
        "the warm-up's LoRA dropout (default: DPO's); the adapter is merged before DPO, so DPO keeps its own. "
        "On a CPU its random masks cost about a quarter of a warm-up step and a gigabyte (bench/RESULTS.md)"))
    logging_steps: Output[int] = Field(1, ge=1)
    data: Output[Literal["chosen", "teacher", "both"]] = Field(
        "chosen", description="what the warm-up imitates: the pairs' chosen replies, the real teachers' turns of "
                              "the training dialogues, or both")
    teacher_sources: Output[list[Literal["mathdial", "debugging", "debugging-raw", "tutorchat"]] | None] = Field(
        None, description="the teacher turns to imitate (default: those of the training dataset)")
    teacher_test_sets: Output[list[Literal["mathdial", "debugging", "tutorchat", "mathdial-raw",
                                           "debugging-raw"]] | None] = Field(
        None, description="test sets whose problems no teacher turn may come from (default: all of them)")
    model_written: Output[bool] = Field(False, description="allow TutorChat's tutor turns, written by a model")
    skip_openings: Output[bool] = Field(False, description=(
        "leave out each conversation's opening tutor turn (MathDial: 393 of 1,073 turns, half of them asking "
        "the student to walk the tutor through the solution), so the warm-up imitates the turns that answer a student's work"))
    teacher_moves: Output[list[Literal["focus", "probing", "telling", "generic"]] | None] = Field(None, description=(
        "imitate only the teacher turns whose MathDial move tags are all among these (focus: points at a step; "
        "probing: asks for reasoning; telling: gives it; generic: greetings, praise, the opening formula); "
        "turns without move tags (the other sources) are kept"))
    # Not an output of the warm-up (its weights do not change): it decides what round 1 samples from.
    sample_from_warm_up: bool = Field(False, description=(
        "sample round 1's candidates from the warm-up model instead of the base model, so that round 1's DPO, "
        "which starts from the warm-up, learns from its own replies (on-policy); needs data: teacher, the only "
        "warm-up that comes before any pair"))

    @property
    def reads_pairs(self) -> bool:
        """A warm-up on the teachers' turns alone reads no pair (it can run before any is made)."""
        return self.data != "teacher"

    @model_validator(mode="after")
    def _sampling_needs_a_warm_up_before_the_pairs(self) -> SftSettings:
        if self.sample_from_warm_up and self.reads_pairs:
            raise ValueError(f"sample_from_warm_up needs data: teacher (data: {self.data} trains on the pairs, "
                             "which are made from the candidates)")
        return self


class SftConfig(SftSettings):
    """One warm-up run; build it with `warm_up_config` so the shared fields match the DPO run."""

    pairs: Path | None  # needed unless data is "teacher"
    out: Path
    # The teacher turns' prompts carry their reference as the answer key (the pairs' prompts already do
    # when the run has `answer_key: true`: they were rendered so at the pairs stage).
    answer_key: Output[bool] = False
    model: Output[str]
    seed: Output[int]
    lora: Output[bool]
    lora_r: Output[int]
    lora_alpha: Output[int]
    lora_dropout: Output[float]
    target_modules: Output[str | list[str]]
    max_length: Output[int]
    max_prompt_length: Output[int]
    bf16: Output[bool | None]
    gradient_checkpointing: Output[bool]
    system_prompt: Output[Path | None]

    @property
    def lr(self) -> float:
        return self.learning_rate if self.learning_rate is not None else DEFAULT_LR[self.lora]


def warm_up_config(settings: SftSettings, dpo: TrainConfig, out: Path, dataset: str | None = None, *,
                   answer_key: bool = False) -> SftConfig:
    """The warm-up before `dpo` (trained on `dataset`): its pairs and model, its adapter shape and length
    budget, and the teachers of `dataset` unless `settings` names them, into `out`."""
    shared = {name: getattr(dpo, name) for name in FROM_DPO}
    fields = settings.model_dump()
    own_dropout = fields.pop("lora_dropout")
    if own_dropout is not None:
        shared["lora_dropout"] = own_dropout
    if settings.data != "chosen" and settings.teacher_sources is None:
        if dataset not in TEACHERS_OF:
            raise SocraticError(f"sft.data {settings.data!r}: no teacher turns known for the training dataset "
                                f"{dataset!r}; name them in sft.teacher_sources ({', '.join(TEACHERS_OF)} have some)")
        fields["teacher_sources"] = list(TEACHERS_OF[dataset])
    if settings.data != "chosen" and "tutorchat" in fields["teacher_sources"] and not settings.model_written:
        raise SocraticError("sft: TutorChat's tutor turns were written by a model, not by people; set "
                            "sft.model_written: true to imitate them anyway")
    return SftConfig(**fields, **shared, pairs=dpo.pairs, out=out, answer_key=answer_key)


def completion_rows(rows: list[dict]) -> list[dict]:
    """TRL prompt-completion rows from prepared preference rows: the chosen reply is the completion."""
    return [{"prompt": row["prompt"], "completion": row["chosen"]} for row in rows]


def teacher_examples(config: SftConfig) -> list[tuple[list[dict[str, str]], list[dict[str, str]]]]:
    """(prompt, reply) messages of the teacher turns the config names, rendered as every prompt is."""
    from socratic.data.teacher_turns import TEST_SETS, load_teacher_turns
    from socratic.render import load_system_prompt, render_messages

    if not config.teacher_sources:
        raise SocraticError("sft.data needs teacher turns: name them in sft.teacher_sources")
    turns = load_teacher_turns(config.teacher_sources, include_model_written=config.model_written,
                               test_sets=config.teacher_test_sets or TEST_SETS)
    if config.skip_openings:
        turns = [turn for turn in turns if not is_opening(turn.dialogue)]
    if config.teacher_moves:
        turns = [turn for turn in turns if set(turn.meta.get("moves") or ()) <= set(config.teacher_moves)]
    instructions = load_system_prompt(config.system_prompt)
    return [([dict(m) for m in render_messages(turn.dialogue, instructions, answer_key=config.answer_key)],
             [{"role": "assistant", "content": turn.reply}]) for turn in turns]


def is_opening(dialogue: Dialogue) -> bool:
    """Whether the tutor has not spoken yet: the next tutor turn opens the conversation."""
    return not any(turn.role == "tutor" for turn in dialogue.turns)


def training_rows(config: SftConfig, tokenizer: Any) -> tuple[list[dict], Any, str]:
    """The warm-up's prompt-completion rows fitted to the length budget, what fitting them did (all rows
    together), and a line saying what they are."""
    from socratic.train import dpo
    from socratic.train import rows as train_rows

    rows: list[dict] = []
    said, total = [], train_rows.PrepareStats()
    if config.data in ("chosen", "both"):
        if config.pairs is None:
            raise SocraticError(f"sft.data {config.data!r} trains on the pairs' chosen replies: it needs pairs")
        pair_rows, stats = dpo.read_training_pairs(config, tokenizer)
        rows += completion_rows(pair_rows)
        total = total.plus(stats)
        said.append(f"the chosen replies of {stats.pairs} pairs ({stats.prompts_shortened} prompts shortened)")
    if config.data in ("teacher", "both"):
        teacher_rows, stats = train_rows.prepare_completions(
            teacher_examples(config), tokenizer, max_length=config.max_length,
            max_prompt_length=config.max_prompt_length, source="teacher turns", skip_too_long=True)
        rows += teacher_rows
        total = total.plus(stats)
        said.append(f"{stats.pairs} teacher turns of {', '.join(config.teacher_sources or [])} "
                    f"({stats.prompts_shortened} prompts shortened, {stats.skipped} left out: their instructions "
                    "and last student turn alone exceed max_prompt_length"
                    + ("; conversations' opening turns left out" if config.skip_openings else "")
                    + (f"; only the moves {', '.join(config.teacher_moves)}" if config.teacher_moves else "") + ")")
    return rows, total, " and ".join(said)


def run(config: SftConfig) -> Path:
    """Fine-tune on the chosen replies and/or the teachers' turns; save adapter + merged model + metrics."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig as TrlSFTConfig
    from trl import SFTTrainer

    from socratic.train import dpo, starting_model
    from socratic.train import monitor as train_monitor
    from socratic.train.shared_prompt import score_replies_only

    starting_model.silence_known_warnings()
    out = config.out
    if is_finished(out):
        raise SocraticError(f"{out} already holds a finished warm-up; choose another folder")
    model_dir = resolve_model_dir(config.model)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rows, stats, what = training_rows(config, tokenizer)
    if not rows:
        raise SocraticError(f"the SFT warm-up has nothing to train on ({what})")
    console.print(f"SFT warm-up on {what}; longest prompt {stats.longest_prompt} tokens")
    out.mkdir(parents=True, exist_ok=True)
    TrainConfigRecord.save(out / "train_config.json", config)
    (out / "metrics.jsonl").unlink(missing_ok=True)

    on_cpu = not torch.cuda.is_available()
    bf16 = starting_model.trains_in_bf16(config, on_cpu)
    args = TrlSFTConfig(
        output_dir=str(out / "checkpoints"), per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum, num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1, learning_rate=config.lr, seed=config.seed, data_seed=config.seed,
        max_length=config.max_length, completion_only_loss=True, packing=False, save_strategy="no",
        logging_steps=config.logging_steps, report_to="none", bf16=bf16,
        activation_checkpointing=config.gradient_checkpointing, use_cpu=on_cpu, dataloader_num_workers=0,
    )
    trainer = SFTTrainer(model=starting_model.load(model_dir), args=args,
                         train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         peft_config=starting_model.lora_config(config),
                         callbacks=[train_monitor.MetricsCallback(out)])
    model = trainer.model
    score_replies_only(model.get_base_model() if hasattr(model, "get_base_model") else model)
    started = time.time()
    result = trainer.train()
    seconds = time.time() - started
    dpo.save_outputs(trainer, tokenizer, out, lora=config.lora)
    records = train_monitor.read_metrics(out / "metrics.jsonl")
    steps = trainer.state.global_step
    TrainSummary(
        kind="sft", steps=steps, epochs=trainer.state.epoch, seconds_this_session=round(seconds, 1),
        seconds_per_step=round(seconds / max(1, steps), 2), train_loss=result.training_loss,
        final_metrics=train_monitor.final_metrics(records), pairs=stats.pairs,
        prompts_shortened=stats.prompts_shortened, longest_prompt_tokens=stats.longest_prompt,
        base_model=config.model, base_model_dir=str(model_dir), lora=config.lora, bf16=bf16,
        learning_rate=config.lr,
    ).write(out / FINISHED_MARKER)  # last: marks the folder as a finished model
    console.print(f"SFT warm-up: {steps} steps in {seconds:.0f} s; model in {out}")
    return out
