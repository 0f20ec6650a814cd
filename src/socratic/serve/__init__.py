"""Step 8 of the method, ship: an OpenAI-compatible API and a web chat page (`socratic serve`).

`from socratic.serve import ServeConfig, create_app, run` works as before; the server (serve.app, which
imports FastAPI) is imported on first use, so the command line can read serve.config without it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServeConfig", "create_app", "run"]


def __getattr__(name: str) -> Any:
    if name == "ServeConfig":
        from socratic.serve.config import ServeConfig

        return ServeConfig
    if name in ("create_app", "run"):
        from socratic.serve import app

        return getattr(app, name)
    raise AttributeError(f"module 'socratic.serve' has no attribute {name!r}")
