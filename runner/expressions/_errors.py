"""The one public exception, and the internal one that functions raise while evaluating."""
from __future__ import annotations

__all__ = ["ExpressionError", "Failure"]


class ExpressionError(ValueError):
    """An expression that is not valid, or that cannot be evaluated.

    ``message`` is the whole sentence (``str(error)`` is the same text); ``expression`` is the
    expression text it is about (without the leading ``@``, or the text inside ``@{...}``);
    ``position`` is the 0-based offset in ``expression`` of the part that failed (a function
    call's name, a property or index access, the unexpected character), or ``None`` when the
    failure concerns the whole value. ``kind`` says what is wrong with an expression that does not
    parse: ``"syntax"``, ``"function"`` (an unknown function), ``"arguments"`` (a wrong number of
    arguments) or ``"limit"`` (too long, too deep); ``"evaluation"`` for a failure while evaluating.
    """

    def __init__(self, message: str, expression: str | None = None, position: int | None = None,
                 kind: str = "evaluation"):
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.position = position
        self.kind = kind

    def __reduce__(self):  # keep the attributes through pickling (xdist, multiprocessing)
        return (type(self), (self.message, self.expression, self.position, self.kind))


class Failure(Exception):
    """Raised inside evaluation with the reason only ("because ..." text); the expression turns it
    into an ``ExpressionError`` that names the expression and the position."""

    def __init__(self, reason: str, position: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.position = position
