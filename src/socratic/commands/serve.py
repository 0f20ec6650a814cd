"""`socratic serve`: the tutor behind an OpenAI-compatible API and a web chat page (see socratic.serve)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        model: str = opt.model_option("Model spec (default embedded)", "-m"),
        host: str = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1, this machine only)."),
        port: int = typer.Option(None, "--port", help="Port (default 8000)."),
        system_prompt: Path = opt.system_prompt_option("Tutor system prompt file (default: the packaged one)."),
        served_model_name: str = typer.Option(None, "--served-model-name",
                                              help="Model id shown in /v1/models (default: the spec)."),
        max_concurrency: int = typer.Option(None, "--max-concurrency",
                                            help="Replies generated at once, in one batch for local models (default 8)."),
        queue_size: int = typer.Option(None, "--queue-size",
                                       help="Requests that may wait for a worker; beyond that 503 (default 16)."),
        max_tokens_limit: int = typer.Option(None, "--max-tokens-limit",
                                             help="Largest max_tokens a request may ask for (default 1024)."),
        temperature: float = typer.Option(None, "--temperature",
                                          help="Temperature when a request sets none (default 0.7)."),
        config: Path = opt.config_option(),
    ) -> None:
        """Serve the tutor: /v1/chat/completions, /v1/models, /health and a chat page at /.

        Set SOCRATIC_API_KEY in the environment to require 'Authorization: Bearer <key>'.
        """
        from socratic import serve as stage

        settings = load_config(stage.ServeConfig, config, {
            "model": model, "host": host, "port": port, "system_prompt": system_prompt,
            "served_model_name": served_model_name, "max_concurrency": max_concurrency,
            "queue_size": queue_size, "max_tokens_limit": max_tokens_limit,
            "default_temperature": temperature})
        stage.run(settings)
