"""`socratic serve`: the tutor behind an OpenAI-compatible API and a web chat page (see socratic.serve)."""

from __future__ import annotations

import typer

from socratic.commands import _options as opt
from socratic.serve.config import ServeConfig as C


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @opt.config_command(C, opt.Opt("model", ("--model", "-m")), "host", "port", "system_prompt", "served_model_name",
                        "max_concurrency", "queue_size", "max_tokens_limit", "default_temperature", opt.CONFIG)
    def serve(settings: C) -> None:
        """Serve the tutor: /v1/chat/completions, /v1/models, /health and a chat page at /.

        Set SOCRATIC_API_KEY in the environment to require 'Authorization: Bearer <key>'.
        """
        from socratic import serve as stage

        stage.run(settings)
