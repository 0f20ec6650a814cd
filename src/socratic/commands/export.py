"""`socratic export`: merged model folder + model card, GGUF files, Ollama Modelfile (see socratic.export.hf_folder)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        model: str = typer.Option(None, "--model", "-m",
                                  help="embedded | hf:DIR | DIR: a trained folder (or a PEFT adapter folder)."),
        out: Path = opt.out_option("Output folder."),
        gguf: str = typer.Option(None, "--gguf",
                                 help="Comma-separated GGUF types, e.g. q8_0,q4_k_m (needs llama-cpp-python)."),
        ollama: str = typer.Option(None, "--ollama", help="Write an Ollama Modelfile for this model name."),
        run: Path = typer.Option(None, "--run",
                                 help="Run folder whose evaluation/agreement results go into the model card."),
        name: str = typer.Option(None, "--name", help="File-name stem of the GGUF files (default: OUT's name)."),
        system_prompt: Path = opt.system_prompt_option("Tutor system prompt for the Modelfile and the check."),
        no_verify: bool = typer.Option(False, "--no-verify", help="Skip loading each GGUF back in llama.cpp."),
        force: bool = typer.Option(False, "--force", help="Replace a non-empty output folder (whole: its old "
                                                          "files are removed once the new export is complete)."),
        config: Path = opt.config_option(),
    ) -> None:
        """Export the tutor: safetensors folder with a model card, GGUF files and an Ollama Modelfile."""
        from socratic.export import hf_folder as stage

        settings = load_config(stage.ExportConfig, config, {
            "model": model, "out": out, "gguf": gguf, "ollama": ollama, "run": run, "name": name,
            "system_prompt": system_prompt, "force": force or None, **opt.cleared(verify=no_verify)})
        stage.run(settings)
