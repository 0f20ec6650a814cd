"""`socratic serve`: the tutor behind an OpenAI-compatible API and a web chat page (see socratic.serve)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.serve.config import ServeConfig as C


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        model: str = opt.option(C, "model", "--model", "-m"),
        host: str = opt.option(C, "host", "--host"),
        port: int = opt.option(C, "port", "--port"),
        system_prompt: Path = opt.option(C, "system_prompt", "--system-prompt"),
        served_model_name: str = opt.option(C, "served_model_name", "--served-model-name"),
        max_concurrency: int = opt.option(C, "max_concurrency", "--max-concurrency"),
        queue_size: int = opt.option(C, "queue_size", "--queue-size"),
        max_tokens_limit: int = opt.option(C, "max_tokens_limit", "--max-tokens-limit"),
        temperature: float = opt.option(C, "default_temperature", "--temperature"),
        config: Path = opt.config_option(),
    ) -> None:
        """Serve the tutor: /v1/chat/completions, /v1/models, /health and a chat page at /.

        Set SOCRATIC_API_KEY in the environment to require 'Authorization: Bearer <key>'.
        """
        from socratic import serve as stage

        settings = load_config(C, config, {
            "model": model, "host": host, "port": port, "system_prompt": system_prompt,
            "served_model_name": served_model_name, "max_concurrency": max_concurrency,
            "queue_size": queue_size, "max_tokens_limit": max_tokens_limit,
            "default_temperature": temperature})
        stage.run(settings)
