"""`socratic preferences`: generate -> judge -> pairs into one folder (see socratic.preference.oneshot)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands.generate import DATASET_HELP, MODEL_HELP, flags
from socratic.config import load_config


def register(app: typer.Typer) -> None:
    @app.command("preferences")
    def preferences(
        dataset: str = typer.Option(None, "--dataset", help=DATASET_HELP),
        split: str = typer.Option(None, "--split", help="Split to read (default train)."),
        dedupe: bool = typer.Option(None, "--dedupe/--no-dedupe", help="Drop duplicate dialogues and, for a "
                                    "train split, those also in the test split (default: dedupe)."),
        limit: int = typer.Option(None, "--limit", help="Only the first N dialogues."),
        model: str = typer.Option(None, "--model", help=f"Candidate model (default embedded): {MODEL_HELP}."),
        k: int = typer.Option(None, "-k", "--k", help="Candidates per dialogue (default 5)."),
        judge: str = typer.Option(None, "--judge", help="Judge spec: rubric (default) or llm:<backend spec>."),
        out: Path = typer.Option(None, "-o", "--out", help="Output folder."),
        temperature: float = typer.Option(None, "--temperature", help="Sampling temperature (default 1.0)."),
        top_p: float = typer.Option(None, "--top-p", help="Nucleus sampling (default 0.95)."),
        max_new_tokens: int = typer.Option(None, "--max-new-tokens", help="Reply length cap (default 128)."),
        seed: int = typer.Option(None, "--seed", help="Base seed (default 0)."),
        batch_dialogues: int = typer.Option(None, "--batch-dialogues", help="Dialogues per model call (default 4)."),
        system_prompt: Path = typer.Option(None, "--system-prompt", help="Tutor system prompt file."),
        judge_concurrency: int = typer.Option(None, "--judge-concurrency", help="Parallel judge calls (default 4)."),
        strategy: str = typer.Option(None, "--strategy", help="best-worst (default) or all-pairs."),
        min_chosen: float = typer.Option(None, "--min-chosen", help="Minimum chosen summary (default 0.5)."),
        min_margin: float = typer.Option(None, "--min-margin", help="Minimum score margin (default 0.05)."),
        formula: str = typer.Option(None, "--formula", help="Summary formula: uniform (default) or reference."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the caches."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Start every output afresh instead of resuming."),
        config: Path = typer.Option(None, "--config", help="YAML file of these options (flags win)."),
    ) -> None:
        """Preference data in one go: candidates, judgments, pairs and a dataset card in one folder."""
        from socratic.preference import oneshot as stage

        settings = load_config(stage.PreferencesConfig, config, {
            "dataset": dataset, "split": split,
            "dedupe": dedupe, "limit": limit, "model": model, "k": k, "judge": judge,
            "out": out, "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens,
            "seed": seed, "batch_dialogues": batch_dialogues, "system_prompt": system_prompt,
            "judge_concurrency": judge_concurrency, "strategy": strategy, "min_chosen_score": min_chosen,
            "min_margin": min_margin, "formula": formula, **flags(no_cache=no_cache, overwrite=overwrite)})
        stage.run(settings)
