"""`socratic preferences`: generate -> judge -> pairs into one folder (see socratic.preference.oneshot)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config


def register(app: typer.Typer) -> None:
    @app.command("preferences")
    def preferences(
        dataset: str = opt.dataset_option(),
        split: str = typer.Option(None, "--split", help="Split to read (default train)."),
        dedupe: bool = opt.dedupe_option(),
        limit: int = opt.limit_option(),
        model: str = opt.model_option("Candidate model (default embedded)"),
        k: int = typer.Option(None, "-k", "--k", help="Candidates per dialogue (default 5)."),
        judge: str = opt.judge_option("Judge spec (default rubric)"),
        out: Path = opt.out_option("Output folder."),
        temperature: float = opt.temperature_option(),
        top_p: float = opt.top_p_option(),
        max_new_tokens: int = opt.max_new_tokens_option(),
        seed: int = opt.seed_option("Base seed (default 0)."),
        batch_dialogues: int = typer.Option(None, "--batch-dialogues", help="Dialogues per model call (default 4)."),
        system_prompt: Path = opt.system_prompt_option(),
        judge_concurrency: int = typer.Option(None, "--judge-concurrency", help="Parallel judge calls (default 4)."),
        strategy: str = typer.Option(None, "--strategy", help="best-worst (default) or all-pairs."),
        min_chosen: float = typer.Option(None, "--min-chosen", help="Minimum chosen summary (default 0.5)."),
        min_margin: float = typer.Option(None, "--min-margin", help="Minimum score margin (default 0.05)."),
        chosen_asks_question: bool = typer.Option(
            None, "--chosen-asks-question/--any-chosen",
            help="The question filter: the chosen reply must ask a question (the judge's `questions`)."),
        formula: str = opt.formula_option(),
        no_cache: bool = opt.no_cache_option("Do not read or write the caches."),
        overwrite: bool = opt.overwrite_option("Start every output afresh instead of resuming."),
        config: Path = opt.config_option(),
    ) -> None:
        """Preference data in one go: candidates, judgments, pairs and a dataset card in one folder."""
        from socratic.preference import oneshot as stage

        settings = load_config(stage.PreferencesConfig, config, {
            "dataset": dataset, "split": split,
            "dedupe": dedupe, "limit": limit, "model": model, "k": k, "judge": judge,
            "out": out, "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens,
            "seed": seed, "batch_dialogues": batch_dialogues, "system_prompt": system_prompt,
            "judge_concurrency": judge_concurrency, "strategy": strategy, "min_chosen_score": min_chosen,
            "min_margin": min_margin,
            "chosen_asks_question": chosen_asks_question, "formula": formula, **opt.flags(no_cache=no_cache, overwrite=overwrite)})
        stage.run(settings)
