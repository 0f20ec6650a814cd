"""`socratic chat`: talk to the tutor in the terminal, or pipe one student message in (see socratic.serve.chat)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.config import load_config
from socratic.specs import MODEL_SPEC_HELP


def register(app: typer.Typer) -> None:
    @app.command("chat")
    def chat(
        model: str = typer.Option("embedded", "--model", "-m", help=f"Model spec: {MODEL_SPEC_HELP}."),
        system_prompt: Path | None = typer.Option(None, "--system-prompt", help="A file with the tutor's "
                                                  "instructions (default: the packaged Socratic prompt)."),
        start: str | None = typer.Option(None, "--from", help="Start from a dataset dialogue, DATASET:ID, e.g. "
                                         "mathdial:mathdial-test-0007 (socratic data show lists ids)."),
        split: str | None = typer.Option(None, "--split", help="Split of --from (default: read from the id, "
                                         "else test)."),
        max_new_tokens: int = typer.Option(200, "--max-new-tokens", help="Longest reply, in tokens."),
        temperature: float = typer.Option(0.7, "--temperature", help="Sampling temperature; 0 = greedy."),
        top_p: float = typer.Option(0.9, "--top-p", help="Nucleus sampling mass."),
        seed: int = typer.Option(0, "--seed", help="Sampling seed (same conversation + seed = same reply)."),
        interactive: bool | None = typer.Option(None, "--interactive/--no-interactive", help="Default: "
                                                "interactive when stdin is a terminal; otherwise all of stdin "
                                                "is one student message and one reply is printed."),
    ) -> None:
        """Chat with the tutor (streams; /reset, /quit). `echo "How do I solve x^2-4=0?" | socratic chat`."""
        from socratic.serve import chat as stage

        config = load_config(stage.ChatConfig, None, {
            "model": model, "system_prompt": system_prompt, "start": start, "split": split,
            "max_new_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p, "seed": seed,
            "interactive": interactive})
        code = stage.run(config)
        if code:
            raise typer.Exit(code)
