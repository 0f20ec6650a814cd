"""Serving the tutor: an OpenAI-compatible API and a web chat page (`socratic serve`)."""

from socratic.serve.app import ServeConfig, create_app, run

__all__ = ["ServeConfig", "create_app", "run"]
