"""The commands that run one stage each: its Config's fields are the options (socratic.config.options), the
docstring is the help, and the body runs the stage, loading its heavy modules only then.

    socratic generate --dataset mathdial --limit 8 -k 5 -o runs/candidates.jsonl
    socratic judge -i runs/candidates.jsonl -o runs/judgments.jsonl && socratic pairs --judgments runs/judgments.jsonl
    socratic run configs/quickstart.yaml --dry-run       # every stage from one YAML file (socratic.pipeline)
    socratic rate export runs/quickstart/eval -o sheet/ --items 40 --seed 0 && socratic rate import sheet/*.csv
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from socratic.agreement.config import AgreementConfig
from socratic.config.options import COMMON, DATASET, PAIRING, PROMPT, SAMPLING, Opt, config_command
from socratic.evaluate.config import EvaluateConfig
from socratic.export.config import ExportConfig
from socratic.judge import fitting
from socratic.judge import stage as judging
from socratic.pipeline.config import PipelineConfig
from socratic.preference import generate as generating
from socratic.preference import oneshot
from socratic.preference import pairs as pairing
from socratic.rate.config import ExportConfig as RateExportConfig
from socratic.rate.config import ImportConfig as RateImportConfig
from socratic.serve import chat as chatting
from socratic.serve.config import ServeConfig
from socratic.specs import MODEL_SPEC_HELP
from socratic.store.paths import check_output_file, check_output_folder
from socratic.train import dpo

# The stages whose Config lives in the stage module itself are imported whole; the others load when they run.

app = typer.Typer()
rate = typer.Typer(help="Blind ratings by people: export a rating sheet, import the filled ratings.",
                   no_args_is_help=True)
TUTOR = Opt("model", ("--model", "-m"))  # the model that chat, serve and export ship


@app.command()
@config_command(*DATASET, "model", "k", "limit", "out", *SAMPLING, "batch_dialogues", *PROMPT, "concurrency", *COMMON)
def generate(settings: generating.GenerateConfig) -> None:
    """Sample k candidate tutor replies per dialogue; resumes an interrupted run."""
    check_output_file(settings.out)  # before the model loads
    generating.run(settings)


@app.command()
@config_command(Opt("input", required=True), "judge", Opt("output", required=True), "max_tries", "concurrency",
                "no_cache", "formula", "limit")
def judge(settings: judging.JudgeConfig) -> None:
    """Judge tutor replies: questions, on_topic, helpful, reveal_answer and the summary score."""
    summary = judging.run(settings)
    judging.print_summary(summary, settings.judge, settings.formula)
    typer.echo(f"wrote {summary.count} judgments ({summary.failures} failed) to {summary.output}")


@app.command()
@config_command("judgments", "out", *PAIRING, "formula", *PROMPT, "teacher_judgments", "teacher_share", "config")
def pairs(settings: pairing.PairsConfig) -> None:
    """Best candidate = chosen, worst = rejected, with guards (judge failures, minimum score and margin)."""
    from socratic.preference import teacher_pairs

    check_output_file(settings.out)
    (pairing if settings.teacher_judgments is None else teacher_pairs).run(settings)


@app.command()
@config_command(*DATASET, "limit", "model", "k", "judge", "out", *SAMPLING, "batch_dialogues", *PROMPT,
                "judge_concurrency", *PAIRING, "formula", Opt("no_cache", help="Do not read or write the caches."),
                "overwrite", "config")
def preferences(settings: oneshot.PreferencesConfig) -> None:
    """Preference data in one go: candidates, judgments, pairs and a dataset card in one folder."""
    from socratic.judge import files

    check_output_folder(settings.out)  # before the model loads, and the judge's file before candidates are drawn
    files.check([settings.judge])
    oneshot.run(settings)


@app.command()
@config_command("pairs", "model", "out", "config",
                Opt("lora", ("--full",), clears=True, help="Full fine-tune instead of LoRA."), "lora_r",
                "lora_alpha", "beta", "learning_rate", "epochs", "max_steps", "batch_size", "grad_accum",
                "loss_type", "max_length", "max_prompt_length", "precompute_ref_log_probs", "bf16", "save_steps",
                "system_prompt", "seed", "resume", "processes")
def train(
    settings: dpo.TrainConfig,
    processes: int = typer.Option(1, "--processes", min=1, help="Data-parallel processes on this machine (one per "
                                  "GPU; CPU: gloo). --batch-size is per process."),
) -> None:
    """Train the tutor with DPO (TRL); the output folder holds the merged model, the adapter and metrics."""
    check_output_folder(settings.out)  # before the model loads
    if processes > 1:
        from socratic.train import launch

        dpo.check_before_launch(settings)  # a bad option or folder: one line, before N processes start
        launch.relaunch(settings, processes)
    else:
        dpo.run(settings)


def _models(given: list[str] | None) -> dict[str, str] | None:
    """--model NAME=SPEC, repeated -> the config's `models` mapping."""
    from socratic.evaluate.evaluation import parse_model_option

    return dict(parse_model_option(m) for m in given) if given else None


@app.command()
@config_command(Opt("models", type=list[str], convert=_models,
                    help=f"NAME=SPEC (repeatable; the first is the baseline), SPEC = {MODEL_SPEC_HELP}"),
                "datasets", "split", "limit", "judges", "training_judge", "out", "max_new_tokens", "batch_size",
                "concurrency", "formula", *PROMPT, "seed", "no_cache", "overwrite", "no_report", "pressure",
                "pressure_limit", "teacher", "config")
def evaluate(
    settings: EvaluateConfig,
    no_report: bool = typer.Option(False, "--no-report", help="Do not write report.html / report.md."),
) -> None:
    """Evaluate models on test sets: mean summary with 95% CIs, criteria, paired tests; resumable."""
    from socratic.evaluate import evaluation as stage
    from socratic.evaluate.result import Evaluation
    from socratic.progress import console
    from socratic.report.headline import print_headline

    path = stage.run(settings)
    print_headline(Evaluation.read(path), console)
    console.print(f"evaluation: {path}")
    if not no_report:
        _report(settings.out)


@app.command()
@config_command("labels", "judges", "out", "formula", "top_k", "bootstrap", "seed", "folds", "teacher_pairs",
                "no_cache", "config")
def agreement(settings: AgreementConfig) -> None:
    """Judge validation: agreement of each judge with human labels, per criterion and on the summary."""
    from socratic.agreement import measure as stage
    from socratic.agreement.table import print_agreement

    check_output_folder(settings.out)  # before any judge runs
    print_agreement(stage.run(settings))


@app.command()
@config_command("config", "force", "dry_run", "out", Opt("reward_judge", prefix="Overrides the config's reward_judge. "),
                Opt("eval_judges", ("--eval-judge",), prefix="Overrides the config's eval_judges (repeatable). "),
                Opt("rounds", prefix="Overrides the config's rounds. ", min=1),
                config=typer.Argument(..., help="Pipeline config (see configs/quickstart.yaml)."))
def run(
    settings: PipelineConfig,
    force: list[str] = typer.Option(None, "--force", help=(
        "Re-run a stage (repeatable): e.g. train:mathdial, train (all train stages), evaluate, report, all.")),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print which stages would run and why; run nothing."),
) -> None:
    """Run the pipeline: data -> generate -> judge -> pairs -> train -> evaluate -> agreement -> report."""
    from socratic import pipeline

    pipeline.run(settings, force=force or [], dry_run=dry_run, own_processes=True)


@app.command()
def report(
    folder: Path = typer.Argument(..., help="A `socratic run` folder or a `socratic evaluate -o` folder."),
    out: Path = typer.Option(None, "-o", "--out", help="Where to write the report (default: the folder)."),
    examples: int = typer.Option(2, "--examples", help="Example dialogues per test set."),
) -> None:
    """Build the self-contained HTML report and the Markdown report from finished stage outputs."""
    if out is not None:
        check_output_folder(out)
    _report(folder, out_dir=out, examples_per_dataset=examples)


def _report(folder: Path, **options: Any) -> None:
    from socratic.progress import console
    from socratic.report import build_report

    html, md = build_report(folder, **options)
    console.print(f"[bold]report:[/] {html}  (and {md})")


@app.command()
@config_command(TUTOR, "out", Opt("gguf", type=str), "ollama", "run", "name", "system_prompt",
                Opt("verify", ("--no-verify",), clears=True, help="Skip loading each GGUF back in llama.cpp."),
                "force", "config")
def export(settings: ExportConfig) -> None:
    """Export the tutor: safetensors folder with a model card, GGUF files and an Ollama Modelfile."""
    from socratic.export import hf_folder as stage

    stage.run(settings)


@app.command()
@config_command(TUTOR, "host", "port", "system_prompt", "served_model_name", "max_concurrency", "queue_size",
                "max_tokens_limit", "default_temperature", "config")
def serve(settings: ServeConfig) -> None:
    """Serve the tutor: /v1/chat/completions, /v1/models, /health and a chat page at /.

    Set SOCRATIC_API_KEY in the environment to require 'Authorization: Bearer <key>'.
    """
    from socratic import serve as stage

    stage.run(settings)


@app.command()
@config_command(TUTOR, *PROMPT, "start", "split", "max_new_tokens", "temperature", "top_p", "seed", "interactive")
def chat(settings: chatting.ChatConfig) -> None:
    """Chat with the tutor (streams; /reset, /quit). `echo "How do I solve x^2-4=0?" | socratic chat`."""
    if code := chatting.run(settings):
        raise typer.Exit(code)


@rate.command("export")
@config_command(Opt("evaluation", argument=True), Opt("out", required=True), "items", "seed", "models", "datasets")
def rate_export(settings: RateExportConfig) -> None:
    """A blind rating sheet: an offline HTML form and a CSV of an evaluation's replies, and the private key."""
    from socratic.rate import export as stage

    key = stage.run(settings)
    replies = sum(len(item.letters) for item in key.items)
    typer.echo(f"sheet: {settings.out / stage.SHEET_HTML} ({len(key.items)} items, {replies} replies; "
               f"blank CSV {stage.SHEET_CSV})")
    if key.left_out:
        typer.echo(f"left out {key.left_out} items: not every chosen source replied to them")
    typer.echo(f"key:   {settings.out / stage.KEY} (which source wrote which letter: keep it from the raters)")


@rate.command("import")
@config_command(Opt("files", argument=True), "key", "evaluation", "out", "formula", "bootstrap", "seed")
def rate_import(settings: RateImportConfig) -> None:
    """Filled ratings CSVs -> per source mean, acceptable and harmful shares, win rates, agreement."""
    from socratic.rate import importing as stage
    from socratic.rate.table import print_result

    print_result(stage.run(settings))
    typer.echo(f"wrote {settings.result_path()}")


@app.command("judge-train")
@config_command("labels", "out", "force", "reward", "restating")
def judge_train(settings: fitting.JudgeTrainConfig) -> None:
    """Fit the `learned` (or, with --reward, the `pairwise`) judge on human labels (CPU, offline, deterministic)."""
    typer.echo(fitting.run(settings).summary())
