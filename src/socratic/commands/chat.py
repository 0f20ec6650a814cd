"""`socratic chat`: talk to the tutor in the terminal, or pipe one student message in (see socratic.serve.chat)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.serve.chat import ChatConfig as C


def register(app: typer.Typer) -> None:
    @app.command("chat")
    def chat(
        model: str = opt.option(C, "model", "--model", "-m"),
        system_prompt: Path | None = opt.option(C, "system_prompt", "--system-prompt"),
        answer_key: bool = opt.switch(C, "answer_key", "--answer-key"),
        start: str | None = opt.option(C, "start", "--from"),
        split: str | None = opt.option(C, "split", "--split"),
        max_new_tokens: int = opt.option(C, "max_new_tokens", "--max-new-tokens"),
        temperature: float = opt.option(C, "temperature", "--temperature"),
        top_p: float = opt.option(C, "top_p", "--top-p"),
        seed: int = opt.option(C, "seed", "--seed"),
        interactive: bool | None = opt.option(C, "interactive", "--interactive/--no-interactive"),
    ) -> None:
        """Chat with the tutor (streams; /reset, /quit). `echo "How do I solve x^2-4=0?" | socratic chat`."""
        from socratic.serve import chat as stage

        config = load_config(C, None, {
            "model": model, "system_prompt": system_prompt, "start": start, "split": split,
            "max_new_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p, "seed": seed,
            "interactive": interactive, **opt.flags(answer_key=answer_key)})
        code = stage.run(config)
        if code:
            raise typer.Exit(code)
