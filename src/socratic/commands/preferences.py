"""`socratic preferences`: generate -> judge -> pairs into one folder (see socratic.preference.oneshot)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.paths import check_output_folder
from socratic.preference.oneshot import PreferencesConfig as C


def register(app: typer.Typer) -> None:
    @app.command("preferences")
    def preferences(
        dataset: str = opt.option(C, "dataset", "--dataset"),
        split: str = opt.option(C, "split", "--split"),
        dedupe: bool = opt.option(C, "dedupe", "--dedupe/--no-dedupe"),
        limit: int = opt.option(C, "limit", "--limit"),
        model: str = opt.option(C, "model", "--model"),
        k: int = opt.option(C, "k", "-k", "--k"),
        judge: str = opt.option(C, "judge", "--judge"),
        out: Path = opt.option(C, "out", "-o", "--out"),
        temperature: float = opt.option(C, "temperature", "--temperature"),
        top_p: float = opt.option(C, "top_p", "--top-p"),
        max_new_tokens: int = opt.option(C, "max_new_tokens", "--max-new-tokens"),
        seed: int = opt.option(C, "seed", "--seed"),
        batch_dialogues: int = opt.option(C, "batch_dialogues", "--batch-dialogues"),
        system_prompt: Path = opt.option(C, "system_prompt", "--system-prompt"),
        answer_key: bool = opt.switch(C, "answer_key", "--answer-key"),
        judge_concurrency: int = opt.option(C, "judge_concurrency", "--judge-concurrency"),
        strategy: str = opt.option(C, "strategy", "--strategy"),
        min_chosen: float = opt.option(C, "min_chosen_score", "--min-chosen"),
        min_margin: float = opt.option(C, "min_margin", "--min-margin"),
        chosen_asks_question: bool = opt.option(C, "chosen_asks_question", "--chosen-asks-question/--any-chosen"),
        formula: str = opt.option(C, "formula", "--formula"),
        no_cache: bool = opt.switch(C, "no_cache", "--no-cache", help="Do not read or write the caches."),
        overwrite: bool = opt.switch(C, "overwrite", "--overwrite"),
        config: Path = opt.config_option(),
    ) -> None:
        """Preference data in one go: candidates, judgments, pairs and a dataset card in one folder."""
        from socratic.judge import files
        from socratic.preference import oneshot as stage

        settings = load_config(C, config, {
            "dataset": dataset, "split": split,
            "dedupe": dedupe, "limit": limit, "model": model, "k": k, "judge": judge,
            "out": out, "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens,
            "seed": seed, "batch_dialogues": batch_dialogues, "system_prompt": system_prompt,
            "judge_concurrency": judge_concurrency, "strategy": strategy, "min_chosen_score": min_chosen,
            "min_margin": min_margin, "chosen_asks_question": chosen_asks_question, "formula": formula,
            **opt.flags(no_cache=no_cache, overwrite=overwrite, answer_key=answer_key)})
        check_output_folder(settings.out)  # before the model loads, and the judge's file before candidates are drawn
        files.check([settings.judge])
        stage.run(settings)
