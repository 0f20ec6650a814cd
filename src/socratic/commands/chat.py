"""`socratic chat`: talk to the tutor in the terminal, or pipe one student message in (see socratic.serve.chat)."""

from __future__ import annotations

import typer

from socratic.commands import _options as opt
from socratic.serve.chat import ChatConfig as C


def register(app: typer.Typer) -> None:
    @app.command("chat")
    @opt.config_command(C, opt.Opt("model", ("--model", "-m")), *opt.PROMPT, "start", "split", "max_new_tokens",
                        "temperature", "top_p", "seed", "interactive")
    def chat(settings: C) -> None:
        """Chat with the tutor (streams; /reset, /quit). `echo "How do I solve x^2-4=0?" | socratic chat`."""
        from socratic.serve import chat as stage

        code = stage.run(settings)
        if code:
            raise typer.Exit(code)
