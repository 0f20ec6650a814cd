"""`socratic generate`: k sampled tutor replies per dialogue (see socratic.preference.generate)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config


def register(app: typer.Typer) -> None:
    @app.command("generate")
    def generate(
        dataset: str = opt.dataset_option(),
        split: str = typer.Option(None, "--split", help="Split to read (default train)."),
        dedupe: bool = opt.dedupe_option(),
        model: str = opt.model_option(),
        k: int = typer.Option(None, "-k", "--k", help="Candidates per dialogue (default 5)."),
        limit: int = opt.limit_option(),
        out: Path = opt.out_option("Output JSONL of candidates."),
        temperature: float = opt.temperature_option(),
        top_p: float = opt.top_p_option(),
        max_new_tokens: int = opt.max_new_tokens_option(),
        seed: int = opt.seed_option("Base seed; same seed, same candidates (default 0)."),
        batch_dialogues: int = typer.Option(None, "--batch-dialogues",
                                            help="Dialogues per model call, k sequences each (default 4)."),
        system_prompt: Path = opt.system_prompt_option(),
        concurrency: int = opt.concurrency_option("Requests in flight to an openai: server (default 8)."),
        no_cache: bool = opt.no_cache_option("Do not read or write the generation cache."),
        overwrite: bool = opt.overwrite_option("Start the output afresh instead of resuming."),
        config: Path = opt.config_option(),
    ) -> None:
        """Sample k candidate tutor replies per dialogue; resumes an interrupted run."""
        from socratic.preference import generate as stage

        settings = load_config(stage.GenerateConfig, config, {
            "dataset": dataset, "split": split,
            "dedupe": dedupe, "model": model, "k": k, "limit": limit, "out": out,
            "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens, "seed": seed,
            "batch_dialogues": batch_dialogues, "system_prompt": system_prompt, "concurrency": concurrency,
            **opt.flags(no_cache=no_cache, overwrite=overwrite)})
        stage.run(settings)
