"""`socratic preferences`: generate -> judge -> pairs into one folder (see socratic.preference.oneshot)."""

from __future__ import annotations

import typer

from socratic.commands import _options as opt
from socratic.preference.oneshot import PreferencesConfig as C
from socratic.store.paths import check_output_folder


def register(app: typer.Typer) -> None:
    @app.command("preferences")
    @opt.config_command(C, *opt.DATASET, "limit", "model", "k", "judge", "out", *opt.SAMPLING, "batch_dialogues",
                        *opt.PROMPT, "judge_concurrency", *opt.PAIRING, "formula",
                        opt.Opt("no_cache", help="Do not read or write the caches."), "overwrite", opt.CONFIG)
    def preferences(settings: C) -> None:
        """Preference data in one go: candidates, judgments, pairs and a dataset card in one folder."""
        from socratic.judge import files
        from socratic.preference import oneshot as stage

        check_output_folder(settings.out)  # before the model loads, and the judge's file before candidates are drawn
        files.check([settings.judge])
        stage.run(settings)
