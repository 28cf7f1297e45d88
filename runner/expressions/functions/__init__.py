"""Expression functions, one module per documented category (string, collection, logical,
conversion, math, date) plus ``scope`` (pipeline(), activity(), item(), variables(), ...).

Importing this package registers them all; ``lookup(name)`` finds one case-insensitively.
"""
from __future__ import annotations

from ._registry import FunctionSpec, lookup, names
from . import collection, conversion, date, logical, math, scope, string  # noqa: F401  (registration)

__all__ = ["FunctionSpec", "lookup", "names"]
