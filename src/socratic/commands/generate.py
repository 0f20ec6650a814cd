"""`socratic generate`: k sampled tutor replies per dialogue (see socratic.generate)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.config import load_config

DATASET_HELP = ("mathdial | debugging | tutorchat | mathdial-raw | debugging-raw | path to a .jsonl of "
                "Dialogues")
MODEL_HELP = "embedded | hf:PATH | openai:MODEL[@BASE_URL] | llamacpp:FILE.gguf | fake[:REPLY]"


def flags(**values: bool) -> dict[str, bool]:
    """Only flags that were set, so that a YAML config's True is not overridden by an unset flag."""
    return {name: True for name, value in values.items() if value}


def register(app: typer.Typer) -> None:
    @app.command("generate")
    def generate(
        dataset: str = typer.Option(None, "--dataset", help=DATASET_HELP),
        split: str = typer.Option(None, "--split", help="Split to read (default train)."),
        dedupe: bool = typer.Option(None, "--dedupe/--no-dedupe", help="Drop duplicate dialogues and, for a "
                                    "train split, those also in the test split (default: dedupe)."),
        model: str = typer.Option(None, "--model", help=f"Model spec (default embedded): {MODEL_HELP}."),
        k: int = typer.Option(None, "-k", "--k", help="Candidates per dialogue (default 5)."),
        limit: int = typer.Option(None, "--limit", help="Only the first N dialogues."),
        out: Path = typer.Option(None, "-o", "--out", help="Output JSONL of candidates."),
        temperature: float = typer.Option(None, "--temperature", help="Sampling temperature (default 1.0)."),
        top_p: float = typer.Option(None, "--top-p", help="Nucleus sampling (default 0.95)."),
        max_new_tokens: int = typer.Option(None, "--max-new-tokens", help="Reply length cap (default 128)."),
        seed: int = typer.Option(None, "--seed", help="Base seed; same seed, same candidates (default 0)."),
        batch_dialogues: int = typer.Option(None, "--batch-dialogues",
                                            help="Dialogues per model call, k sequences each (default 4)."),
        system_prompt: Path = typer.Option(None, "--system-prompt", help="Tutor system prompt file."),
        concurrency: int = typer.Option(None, "--concurrency",
                                        help="Requests in flight to an openai: server (default 8)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the generation cache."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Start the output afresh instead of resuming."),
        config: Path = typer.Option(None, "--config", help="YAML file of these options (flags win)."),
    ) -> None:
        """Sample k candidate tutor replies per dialogue; resumes an interrupted run."""
        from socratic import generate as stage

        settings = load_config(stage.GenerateConfig, config, {
            "dataset": dataset, "split": split,
            "dedupe": dedupe, "model": model, "k": k, "limit": limit, "out": out,
            "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens, "seed": seed,
            "batch_dialogues": batch_dialogues, "system_prompt": system_prompt, "concurrency": concurrency,
            **flags(no_cache=no_cache, overwrite=overwrite)})
        stage.run(settings)
