"""DPO training of the tutor with TRL's DPOTrainer (PEFT LoRA by default, full fine-tune by option).

    socratic train --pairs run/pairs.jsonl --model embedded -o run/tutor
    socratic train --config train.yaml --processes 2     # data-parallel over 2 processes (socratic.train.launch)
    python -c "from socratic.train.dpo import TrainConfig, run; run(TrainConfig(pairs='p.jsonl', out='o'))"

OUT ends up holding:
    config.json, model.safetensors, tokenizer + chat template   the merged full model, so `hf:OUT` loads it
    adapter/                                                      the LoRA adapter alone (LoRA runs)
    checkpoints/checkpoint-N/                                     Trainer checkpoints, for `--resume`
    metrics.jsonl, tensorboard/, training_curve.png, warnings.json    (socratic.train.artifacts)
    train_config.json                                             the resolved config (the same)
    train_summary.json                                            written LAST: a folder without it is unfinished

An interrupted run (Ctrl-C, kill -9) continues from its last complete checkpoint with `--resume`.
Prompts are fitted to the length budget by `socratic.train.rows` before TRL sees them (TRL 1.16
would otherwise silently drop prompts that fill max_length). Each pair's prompt goes through the
model once for both replies (`socratic.train.shared_prompt`), and the reference log-probs are
computed once before training, in the micro-batches the policy will see (`trainer_class`).

Learning rate: 2e-4 for LoRA by default. The paper's 5e-5 did not move a r=16 LoRA on the 135M
model in 16 steps on this project's data; 2e-4 did. Full fine-tuning defaults to 5e-6.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from socratic.config import Output
from socratic.errors import SocraticError
from socratic.progress import console
from socratic.specs import TRAINABLE_HELP, as_value_error, parse_model_spec
from socratic.train.artifacts import FINISHED_MARKER, TrainConfigRecord, TrainSummary

# The loss types TRL 1.16's DPOConfig accepts (tests compare this with the installed TRL's help text).
LOSS_TYPES = ("sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard", "aot",
              "aot_unpaired", "apo_zero", "apo_down", "discopop", "sft", "sigmoid_norm")
DEFAULT_LR = {True: 2e-4, False: 5e-6}  # keyed by `lora`


class TrainConfig(BaseModel):
    # Output[...]: every field but the locations and `resume`. The checkpoint and logging cadence change what
    # the folder holds; share_prompt and gradient_checkpointing change how (up to float rounding), and stay
    # marked because the stage manifests of existing run folders hold them (unmarked, every run would retrain).
    model_config = ConfigDict(extra="forbid", defer_build=True)

    pairs: Path = Field(description="pairs.jsonl from `socratic pairs` / `preferences`.")
    model: Output[str] = Field("embedded", description=f"Base model: {TRAINABLE_HELP}.")
    out: Path = Field(description="Output folder; `hf:OUT` then loads the tuned model.")
    lora: Output[bool] = Field(True, description=(
        "A LoRA adapter, merged into the model at the end; off: a full fine-tune."))
    lora_r: Output[int] = Field(16, ge=1, description="LoRA rank.")
    lora_alpha: Output[int] = Field(32, ge=1, description="LoRA alpha.")
    lora_dropout: Output[float] = Field(0.05, ge=0, lt=1)
    target_modules: Output[str | list[str]] = "all-linear"
    beta: Output[float] = Field(0.1, gt=0, description="DPO beta.")
    learning_rate: Output[float | None] = Field(None, gt=0,
                                                description="Learning rate (default 2e-4 LoRA, 5e-6 full).")
    epochs: Output[float] = Field(2.0, gt=0, description="Epochs.")
    max_steps: Output[int | None] = Field(None, ge=1,
                                          description="Stop after N optimizer steps (overrides epochs).")
    batch_size: Output[int] = Field(2, ge=1, description="Pairs per forward pass.")
    grad_accum: Output[int] = Field(2, ge=1, description="Gradient accumulation steps.")
    loss_type: Output[str] = Field("sigmoid", description="TRL loss: sigmoid, ipo, robust, hinge, ...")
    label_smoothing: Output[float] = Field(0.0, ge=0, lt=0.5)
    # RPO: DPO can lower both replies' likelihood and move the mass anywhere (teacher-anchored pairs collapsed into
    # repetition that way, experiments/teacher_tries); the chosen reply's NLL as a second loss holds the chosen side.
    sft_weight: Output[float] = Field(0.0, ge=0, description=(
        "Add this weight x the chosen reply's negative log-likelihood to the DPO loss (RPO; 0: none)."))
    max_length: Output[int] = Field(1024, ge=16, description="Prompt + reply tokens.")
    max_prompt_length: Output[int] = Field(768, ge=8, description="Prompt tokens; older turns dropped first.")
    seed: Output[int] = Field(0, description="Seed.")
    # The reference model's log-probs once, before training, instead of a second forward pass at every step.
    # Exact under bf16 too, because the micro-batches are fixed (see `trainer_class`): the reference sees each
    # pair in the very batch the policy will see it in. None = True (the command line's "not given").
    precompute_ref_log_probs: Output[bool | None] = Field(None, description=(
        "Compute the reference log-probs once before training instead of in each step (default: on; exact "
        "under bf16 too)."))
    # Each pair as one row, its prompt computed once for both replies, only reply tokens through the LM head
    # (socratic.train.shared_prompt): 2.3x fewer FLOPs at quickstart lengths. False = TRL's own forward.
    share_prompt: Output[bool] = True
    save_steps: Output[int] = Field(10, ge=1, description="Checkpoint every N steps.")
    save_total_limit: Output[int] = Field(2, ge=1)
    logging_steps: Output[int] = Field(1, ge=1)
    resume: bool = Field(False, description="Continue an interrupted run from its last checkpoint.")
    system_prompt: Output[Path | None] = Field(None, description=(
        "Replace the tutor instructions in every pair's prompt."))
    # bf16 autocast with fp32 master weights. None = where the hardware computes bf16 natively (CPUs with
    # avx512_bf16/amx_bf16, recent GPUs): 39.4 vs 58.9 s/step and 7.6 vs 11.0 GB on the dev CPU.
    bf16: Output[bool | None] = Field(None, description=(
        "bf16 autocast (default: where the hardware has native bf16)."))
    gradient_checkpointing: Output[bool] = False

    @field_validator("loss_type")
    @classmethod
    def _known_loss(cls, value: str) -> str:
        if value not in LOSS_TYPES:
            raise ValueError(f"{value!r} is not one of TRL's loss types: {', '.join(LOSS_TYPES)}")
        return value

    @field_validator("model")
    @classmethod
    def _known_spec(cls, value: str) -> str:
        return as_value_error(parse_model_spec, value)

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        problems = []
        if self.sft_weight > 0 and self.loss_type == "sft":
            problems.append("sft_weight adds an SFT term to a preference loss; loss_type 'sft' is one already")
        if self.loss_type == "exo_pair" and self.label_smoothing == 0:
            problems.append("loss_type 'exo_pair' needs label_smoothing > 0 (the EXO paper uses 1e-3)")
        if self.max_prompt_length >= self.max_length:
            problems.append(f"max_prompt_length ({self.max_prompt_length}) must be below max_length "
                            f"({self.max_length}) to leave room for the reply")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def lr(self) -> float:
        return self.learning_rate if self.learning_rate is not None else DEFAULT_LR[self.lora]


def reference_in_step(config: TrainConfig) -> bool:
    """Whether the reference log-probs are computed in each step instead of once before training."""
    return config.precompute_ref_log_probs is False


def resolve_model_dir(spec: str) -> Path:
    """The local transformers folder a spec names (`embedded` or `hf:PATH`)."""
    from socratic.backends import local_model_dir

    path = local_model_dir(spec)
    if path is None:
        raise SocraticError(f"cannot train {spec!r}: training needs local weights (embedded or hf:PATH)")
    if spec == "embedded":
        return path
    if (path / "adapter_config.json").exists() and not (path / "config.json").exists():
        raise SocraticError(f"{path} is an adapter; train from a full model folder (a finished "
                            "`socratic train` output folder holds one)")
    if not (path / "config.json").exists():
        raise SocraticError(f"{path}: not a transformers model folder (no config.json)")
    if (path / "checkpoints").is_dir() and not is_finished(path):
        raise SocraticError(f"{path}: an unfinished training run (no {FINISHED_MARKER}); resume it first")
    return path


def is_finished(out: str | Path) -> bool:
    """Whether `out` holds a completed run (its summary is written after everything else)."""
    return (Path(out) / FINISHED_MARKER).exists()


def last_checkpoint(checkpoints: Path) -> Path | None:
    """The newest checkpoint whose trainer_state.json (the Trainer saves it last) is complete."""
    found = []
    for path in checkpoints.glob("checkpoint-*") if checkpoints.is_dir() else []:
        try:
            step = int(path.name.rsplit("-", 1)[1])
            json.loads((path / "trainer_state.json").read_text("utf-8"))
        except (ValueError, OSError):
            continue
        found.append((step, path))
    return max(found)[1] if found else None


def check_before_launch(config: TrainConfig) -> None:
    """The checks `run` makes before writing anything, for a launcher to make before it starts processes."""
    if not (config.resume and is_finished(config.out)):
        _check_out_folder(config)
    resolve_model_dir(config.model)
    from socratic.train import rows as train_rows

    train_rows.read_pairs(config.pairs)  # a bad line is named here, not N times by N processes


def _check_out_folder(config: TrainConfig) -> Path | None:
    """The checkpoint to resume from (None to start fresh); refuses to clobber earlier work."""
    out = config.out
    checkpoint = last_checkpoint(out / "checkpoints")
    if is_finished(out):
        raise SocraticError(f"{out} already holds a finished training run; choose another -o")
    ours = (out / "train_config.json").exists() or (out / "checkpoints").is_dir()
    if out.is_dir() and any(out.iterdir()) and not ours:
        raise SocraticError(f"{out} is not empty and is not a `socratic train` folder; choose another -o")
    if config.resume:
        saved = out / "train_config.json"
        if saved.exists():
            before = TrainConfigRecord.read(saved).settings()
            now = config.model_dump(mode="json")
            changed = [k for k in now if k not in {"resume"} and before.get(k) != now[k]]
            if changed:
                raise SocraticError(f"--resume with a different config than the interrupted run "
                                    f"({', '.join(changed)}); use the same options or another -o")
        if checkpoint is None:
            console.print(f"no checkpoint in {out / 'checkpoints'} yet: starting from step 0")
        return checkpoint
    if checkpoint is not None:
        raise SocraticError(f"{out} holds checkpoints of an interrupted run: add --resume to continue it, "
                            "or choose another -o")
    return None


def replace_instructions(rows: list[dict[str, Any]], instructions: str) -> None:
    from socratic.render import CONTEXT_MARKER

    for row in rows:
        first = row["prompt"][0]
        if first["role"] == "system":
            _, marker, context = first["content"].partition(CONTEXT_MARKER)
            first["content"] = instructions + marker + context
        else:
            row["prompt"].insert(0, {"role": "system", "content": instructions})


def read_training_pairs(config: Any, tokenizer: Any) -> tuple[list[dict[str, Any]], Any]:
    """config.pairs with config.system_prompt's instructions (if any), fitted to the length budget.

    `config` is a TrainConfig or a train.sft.SftConfig; returns train.rows.prepare_pairs' rows and stats.
    """
    from socratic.train import rows as train_rows

    pairs = train_rows.read_pairs(config.pairs)
    if config.system_prompt is not None:
        from socratic.records import PairRecord
        from socratic.render import load_system_prompt

        rows = [p.model_dump(mode="json") for p in pairs]
        replace_instructions(rows, load_system_prompt(config.system_prompt))
        pairs = [PairRecord.model_validate(row) for row in rows]
    return train_rows.prepare_pairs(pairs, tokenizer, max_length=config.max_length,
                                    max_prompt_length=config.max_prompt_length, source=str(config.pairs))


def run(config: TrainConfig) -> Path:
    """Train, save adapter + merged model + metrics into config.out, and return config.out."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from datasets import Dataset
    from torch.utils.tensorboard import SummaryWriter
    from transformers import AutoTokenizer
    from transformers.integrations import TensorBoardCallback
    from transformers.trainer_callback import ProgressCallback
    from trl import DPOConfig

    from socratic.train import launch, starting_model
    from socratic.train import monitor as train_monitor

    starting_model.silence_known_warnings()

    out = config.out
    # Under `socratic train --processes N` / accelerate / torchrun: every process trains on its share of
    # each batch, and only rank 0 writes into OUT (socratic.train.launch).
    rank, world_size = launch.world()
    main = rank == 0
    say = console.print if main else (lambda *args, **kwargs: None)
    on_cpu = not torch.cuda.is_available()
    state = None
    if world_size > 1:
        from accelerate import PartialState

        if on_cpu:  # N processes x all cores each would oversubscribe the CPU
            torch.set_num_threads(launch.threads_per_process(world_size))
        state = PartialState(cpu=on_cpu)  # joins the process group (gloo on CPU, NCCL on GPUs)
    if config.resume and is_finished(out):
        say(f"{out} is already trained ({FINISHED_MARKER} present): nothing to resume")
        return out
    resume_from = _check_out_folder(config)
    if state is not None:
        state.wait_for_everyone()  # every process has checked OUT before rank 0 writes into it
    model_dir = resolve_model_dir(config.model)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rows, stats = read_training_pairs(config, tokenizer)
    say(f"{stats.pairs} pairs; {stats.prompts_shortened} prompts shortened "
        f"({stats.turns_dropped} old turns dropped, {stats.contexts_shortened} contexts cut in the "
        f"middle); longest prompt {stats.longest_prompt} tokens, longest reply "
        f"{stats.longest_completion}" + (f"; {stats.completions_cut} replies will be cut at "
                                          f"max_length" if stats.completions_cut else ""))

    if main:
        out.mkdir(parents=True, exist_ok=True)
        TrainConfigRecord.save(out / "train_config.json", config)
        if resume_from is None:
            (out / "metrics.jsonl").unlink(missing_ok=True)
            (out / "warnings.json").unlink(missing_ok=True)
        else:
            step = json.loads((resume_from / "trainer_state.json").read_text("utf-8"))["global_step"]
            train_monitor.truncate_metrics(out / "metrics.jsonl", step)
            say(f"resuming from {resume_from.name} (step {step})")
    dataset = Dataset.from_list(rows)
    if state is not None:
        dataset = _shared_dataset(dataset, out / ".dataset", main, state)

    bf16 = starting_model.trains_in_bf16(config, on_cpu)
    args = DPOConfig(
        output_dir=str(out / "checkpoints"), per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum, num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1, learning_rate=config.lr, beta=config.beta,
        loss_type=[config.loss_type, *(["sft"] if config.sft_weight > 0 else [])],
        loss_weights=[1.0, config.sft_weight] if config.sft_weight > 0 else None,
        label_smoothing=config.label_smoothing, max_length=config.max_length,
        precompute_ref_log_probs=not reference_in_step(config), seed=config.seed, data_seed=config.seed,
        save_strategy="steps", save_steps=config.save_steps, save_total_limit=config.save_total_limit,
        logging_steps=config.logging_steps, report_to="none", bf16=bf16,
        activation_checkpointing=config.gradient_checkpointing, use_cpu=on_cpu, dataloader_num_workers=0,
        disable_tqdm=False,
    )
    callbacks = [train_monitor.MetricsCallback(out)]
    if main:  # a SummaryWriter writes its event file as soon as it exists
        callbacks.append(TensorBoardCallback(SummaryWriter(log_dir=str(out / "tensorboard"))))
    trainer = trainer_class()(model=starting_model.load(model_dir), args=args, train_dataset=dataset,
                              processing_class=tokenizer, peft_config=starting_model.lora_config(config),
                              callbacks=callbacks, share_prompt=config.share_prompt)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(train_monitor.CompactProgressCallback())
    dropped = len(rows) - len(trainer.train_dataset)
    if dropped:  # cannot happen after prepare_pairs; kept loud in case TRL's rules change
        say(f"[bold yellow]warning:[/] TRL dropped {dropped} pairs whose prompt fills max_length")

    started = time.time()
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    seconds = time.time() - started
    if not main:
        return out  # rank 0 saves the model (the weights are the same in every process) and the summary

    save_outputs(trainer, tokenizer, out, lora=config.lora)
    records = train_monitor.read_metrics(out / "metrics.jsonl")
    train_monitor.plot_training_curve(records, out / "training_curve.png")
    found = train_monitor.find_warnings(records, trainer.state.max_steps)
    train_monitor.write_warnings(out / "warnings.json", found)
    summary = TrainSummary(
        kind="dpo", steps=trainer.state.global_step, epochs=trainer.state.epoch,
        seconds_this_session=round(seconds, 1),
        seconds_per_step=round(seconds / max(1, trainer.state.global_step - _step_of(resume_from)), 2),
        resumed_from_step=_step_of(resume_from), train_loss=result.training_loss,
        final_metrics=train_monitor.final_metrics(records), pairs=stats.pairs,
        pairs_trained=len(trainer.train_dataset), prompts_shortened=stats.prompts_shortened,
        turns_dropped=stats.turns_dropped, contexts_shortened=stats.contexts_shortened,
        completions_cut=stats.completions_cut, longest_prompt_tokens=stats.longest_prompt,
        base_model=config.model, base_model_dir=str(model_dir), lora=config.lora, bf16=bf16,
        reference_log_probs="per step" if reference_in_step(config) else "precomputed",
        share_prompt=config.share_prompt,
        learning_rate=config.lr, warnings=[w["kind"] for w in found], processes=world_size,
        effective_batch=world_size * config.batch_size * config.grad_accum,
    )
    shutil.rmtree(out / ".dataset", ignore_errors=True)  # the multi-process copy of the pairs, if any
    summary.write(out / FINISHED_MARKER)  # last: marks the folder as a finished model
    console.print(f"trained {summary.steps} steps in {seconds:.0f} s; model in {out} (load it as hf:{out})")
    return out


def trainer_class() -> type:
    """TRL's DPOTrainer with fixed micro-batches of similar length and, optionally, shared prompts.

    Fixed micro-batches: the pairs are sorted by length (prompt + both replies) once and cut into
    micro-batches in that order; each epoch visits them in a new random order (`FixedBatchSampler`).
    Less padding, and TRL's reference precomputation (which walks the dataset in order, in
    micro-batches of the same size) computes every pair in the batch the policy will see it in. Under bf16 that matters:
    GEMM kernels whose rounding depends on the batch's shape gave other reference log-probs than the
    policy's own pass when the batches differed (step 1 = 0.6829, not ln 2, on an AMX Xeon: issue 14).
    """
    from trl import DPOTrainer

    from socratic.train.shared_prompt import share_prompts

    class SocraticDPOTrainer(DPOTrainer):
        def __init__(self, *args: Any, share_prompt: bool = True, **kwargs: Any) -> None:
            self._share_prompt = share_prompt  # read by _precompute_ref_logps, which runs inside __init__
            super().__init__(*args, **kwargs)
            self._install_shared_prompt()

        def _install_shared_prompt(self) -> None:
            if self._share_prompt:
                model = self.model
                share_prompts(model.get_base_model() if hasattr(model, "get_base_model") else model)

        def _prepare_dataset(self, dataset: Any, processing_class: Any, args: Any, dataset_name: str) -> Any:
            from trl.trainer.utils import global_then_local_main_first

            dataset = super()._prepare_dataset(dataset, processing_class, args, dataset_name)
            lengths = [len(p) + len(c) + len(r) for p, c, r in
                       zip(dataset["prompt_ids"], dataset["chosen_ids"], dataset["rejected_ids"])]
            order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
            with global_then_local_main_first():  # an on-disk dataset: rank 0 writes the sorted copy first
                return dataset.select(order).flatten_indices()

        def _precompute_ref_logps(self, *args: Any, **kwargs: Any) -> Any:
            self._install_shared_prompt()
            return super()._precompute_ref_logps(*args, **kwargs)

        def _get_train_sampler(self, train_dataset: Any = None) -> Any:
            # One unit = the micro-batches of all processes at once, so N processes x batch b train on the
            # same pairs together as one process x batch N*b (and as the reference precomputation saw them).
            dataset = train_dataset if train_dataset is not None else self.train_dataset
            return FixedBatchSampler(len(dataset), self.args.per_device_train_batch_size * self.args.world_size,
                                     self.args.seed)

    return SocraticDPOTrainer


class FixedBatchSampler:
    """Indices 0..n-1 in micro-batches [0, b), [b, 2b), ... whose order is shuffled anew each epoch.

    A short last micro-batch stays last, so the DataLoader (batch size b) cuts exactly these batches.
    """

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        self.n, self.batch_size, self.seed, self.epoch = n, batch_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Any:
        import torch

        full = self.n // self.batch_size
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        for batch in torch.randperm(full, generator=generator).tolist():
            yield from range(batch * self.batch_size, (batch + 1) * self.batch_size)
        yield from range(full * self.batch_size, self.n)


def _shared_dataset(dataset: Any, folder: Path, main: bool, state: Any) -> Any:
    """The pairs as an on-disk dataset that every process opens.

    TRL's reference log-prob precompute writes its cache next to the dataset's files and has the other
    processes read it from there; an in-memory dataset's cache would land in each process's own
    temporary folder, where the other processes cannot find it.
    """
    from datasets import load_from_disk

    if main:
        shutil.rmtree(folder, ignore_errors=True)
        dataset.save_to_disk(str(folder))
    state.wait_for_everyone()
    return load_from_disk(str(folder))


def _step_of(checkpoint: Path | None) -> int:
    return int(checkpoint.name.rsplit("-", 1)[1]) if checkpoint else 0


def save_outputs(trainer: Any, tokenizer: Any, out: Path, *, lora: bool) -> None:
    """Adapter into OUT/adapter, merged full model into OUT (via a temp folder, config.json moved last)."""
    model = trainer.model
    if lora:
        adapter_tmp = out / ".adapter.tmp"
        shutil.rmtree(adapter_tmp, ignore_errors=True)
        model.save_pretrained(adapter_tmp)
        tokenizer.save_pretrained(adapter_tmp)
        shutil.rmtree(out / "adapter", ignore_errors=True)
        adapter_tmp.rename(out / "adapter")
        model = model.merge_and_unload()
    model.config.use_cache = True  # training switches the KV cache off; generation wants it on
    merged_tmp = out / ".merged.tmp"
    shutil.rmtree(merged_tmp, ignore_errors=True)
    model.save_pretrained(merged_tmp)
    tokenizer.save_pretrained(merged_tmp)
    files = sorted(merged_tmp.iterdir(), key=lambda p: p.name == "config.json")  # config.json last
    for path in files:
        os.replace(path, out / path.name)
    merged_tmp.rmdir()
