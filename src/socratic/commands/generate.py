"""`socratic generate`: k sampled tutor replies per dialogue (see socratic.preference.generate)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.paths import check_output_file
from socratic.preference.generate import GenerateConfig as C


def register(app: typer.Typer) -> None:
    @app.command("generate")
    def generate(
        dataset: str = opt.option(C, "dataset", "--dataset"),
        split: str = opt.option(C, "split", "--split"),
        dedupe: bool = opt.option(C, "dedupe", "--dedupe/--no-dedupe"),
        model: str = opt.option(C, "model", "--model"),
        k: int = opt.option(C, "k", "-k", "--k"),
        limit: int = opt.option(C, "limit", "--limit"),
        out: Path = opt.option(C, "out", "-o", "--out"),
        temperature: float = opt.option(C, "temperature", "--temperature"),
        top_p: float = opt.option(C, "top_p", "--top-p"),
        max_new_tokens: int = opt.option(C, "max_new_tokens", "--max-new-tokens"),
        seed: int = opt.option(C, "seed", "--seed"),
        batch_dialogues: int = opt.option(C, "batch_dialogues", "--batch-dialogues"),
        system_prompt: Path = opt.option(C, "system_prompt", "--system-prompt"),
        answer_key: bool = opt.switch(C, "answer_key", "--answer-key"),
        concurrency: int = opt.option(C, "concurrency", "--concurrency"),
        no_cache: bool = opt.switch(C, "no_cache", "--no-cache"),
        overwrite: bool = opt.switch(C, "overwrite", "--overwrite"),
        config: Path = opt.config_option(),
    ) -> None:
        """Sample k candidate tutor replies per dialogue; resumes an interrupted run."""
        from socratic.preference import generate as stage

        settings = load_config(C, config, {
            "dataset": dataset, "split": split,
            "dedupe": dedupe, "model": model, "k": k, "limit": limit, "out": out,
            "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens, "seed": seed,
            "batch_dialogues": batch_dialogues, "system_prompt": system_prompt, "concurrency": concurrency,
            **opt.flags(no_cache=no_cache, overwrite=overwrite, answer_key=answer_key)})
        check_output_file(settings.out)  # before the model loads
        stage.run(settings)
