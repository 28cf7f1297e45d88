"""The exceptions of the public API. Each message is one line naming what and where, with a hint."""
from __future__ import annotations


class AdfemuError(Exception):
    """Base class of every error adfemu's Python API raises on purpose."""


class FactoryError(AdfemuError):
    """A factory cannot be loaded or has validation errors (``problems`` lists each one as a line)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


class StartError(AdfemuError):
    """The emulated Azure side cannot start (Node.js or Azurite missing, a port in use) or be reached."""


class RunInputError(AdfemuError):
    """A run cannot start: unknown pipeline, missing or ill-typed parameter, bad stubs or settings."""


class StorageError(AdfemuError):
    """A blob operation failed (unknown account, missing blob, bad path)."""
