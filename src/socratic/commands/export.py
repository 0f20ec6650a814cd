"""`socratic export`: merged model folder + model card, GGUF files, Ollama Modelfile (see socratic.export.hf_folder)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.export.config import ExportConfig as C


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        model: str = opt.option(C, "model", "--model", "-m"),
        out: Path = opt.option(C, "out", "-o", "--out"),
        gguf: str = opt.option(C, "gguf", "--gguf"),
        ollama: str = opt.option(C, "ollama", "--ollama"),
        run: Path = opt.option(C, "run", "--run"),
        name: str = opt.option(C, "name", "--name"),
        system_prompt: Path = opt.option(C, "system_prompt", "--system-prompt"),
        no_verify: bool = opt.switch(C, "verify", "--no-verify", help="Skip loading each GGUF back in llama.cpp."),
        force: bool = opt.switch(C, "force", "--force"),
        config: Path = opt.config_option(),
    ) -> None:
        """Export the tutor: safetensors folder with a model card, GGUF files and an Ollama Modelfile."""
        from socratic.export import hf_folder as stage

        settings = load_config(C, config, {
            "model": model, "out": out, "gguf": gguf, "ollama": ollama, "run": run, "name": name,
            "system_prompt": system_prompt, **opt.flags(force=force), **opt.cleared(verify=no_verify)})
        stage.run(settings)
