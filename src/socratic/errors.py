"""Errors that the CLI turns into a clear one-line message and exit code 2."""

from __future__ import annotations


class SocraticError(Exception):
    """A user-facing failure: bad input, bad config, an unknown model spec."""

    exit_code = 2


class InputError(SocraticError):
    """Bad input data; the message names file, line and field where they are known."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.path, self.line, self.field = path, line, field
        where = ":".join(str(p) for p in (path, line) if p is not None)
        if field:
            where = f"{where}: field '{field}'" if where else f"field '{field}'"
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(SocraticError):
    """A configuration problem; lists every problem found, not only the first."""
