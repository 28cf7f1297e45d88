"""The ADF expression language, offline.

Public API::

    evaluate_value(value, context) -> Any   # a JSON value as ADF reads it ("@expr", "a@{x}b", objects, ...)
    parse(text) -> Expression               # one expression (the text after "@"); cached per text
    Expression.evaluate(context) -> Any
    Context(...)                            # parameters, variables, activity outputs, item(), system variables
    ExpressionError(message, expression, position, kind)
    scan(text) -> Scan                      # static analysis for validation: problems and scope references,
                                            # each at its offset in the string (see _analysis)

Everything else in this package is private. The functions are the ones ADF documents, grouped as in
its reference (``functions/string.py``, ``collection.py``, ``logical.py``, ``conversion.py``,
``math.py``, ``date.py``) plus the scope functions (``functions/scope.py``).
"""
from __future__ import annotations

from ._analysis import Problem, Reference, Scan, scan
from ._context import Context
from ._errors import ExpressionError
from ._syntax import Expression, parse
from ._template import evaluate_value

__all__ = ["Context", "Expression", "ExpressionError", "Problem", "Reference", "Scan", "evaluate_value", "parse",
           "scan"]
