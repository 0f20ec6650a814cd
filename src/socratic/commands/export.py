"""`socratic export`: merged model folder + model card, GGUF files, Ollama Modelfile (see socratic.export.hf_folder)."""

from __future__ import annotations

import typer

from socratic.commands import _options as opt
from socratic.export.config import ExportConfig as C


def register(app: typer.Typer) -> None:
    @app.command("export")
    @opt.config_command(C, opt.Opt("model", ("--model", "-m")), "out", opt.Opt("gguf", type=str), "ollama", "run",
                        "name", "system_prompt",
                        opt.Opt("verify", ("--no-verify",), clears=True,
                                help="Skip loading each GGUF back in llama.cpp."),
                        "force", opt.CONFIG)
    def export(settings: C) -> None:
        """Export the tutor: safetensors folder with a model card, GGUF files and an Ollama Modelfile."""
        from socratic.export import hf_folder as stage

        stage.run(settings)
