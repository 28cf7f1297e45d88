"""The function table: ``@function`` registers an implementation under its (case-insensitive) name."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .._errors import Failure
from .._values import type_name

__all__ = ["FunctionSpec", "function", "lookup", "names", "fail_type", "want_str", "want_int",
           "want_number", "want_bool", "want_list"]


@dataclass(frozen=True)
class FunctionSpec:
    name: str                  # canonical spelling, as documented
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None       # None: no upper bound
    lazy: bool = False         # impl(context, argument_nodes): evaluates what it needs
    needs_context: bool = False  # impl(context, *values)
    category: str = ""

    def arity_text(self) -> str:
        def n(k: int) -> str:
            return f"{k} argument" + ("" if k == 1 else "s")
        if self.max_args is None:
            return f"at least {n(self.min_args)}"
        if self.min_args == self.max_args:
            return f"exactly {n(self.min_args)}"
        if self.max_args == self.min_args + 1:
            return f"{self.min_args} or {n(self.max_args)}"
        return f"{self.min_args} to {n(self.max_args)}"


_TABLE: dict[str, FunctionSpec] = {}


def function(name: str, min_args: int, max_args: int | None = -1, *, lazy: bool = False,
             needs_context: bool = False, category: str = ""):
    """Register the decorated function. ``max_args=-1`` (the default) means ``max_args = min_args``."""
    def register(impl):
        key = name.lower()
        if key in _TABLE:
            raise RuntimeError(f"expression function {name!r} registered twice")
        _TABLE[key] = FunctionSpec(name, impl, min_args, min_args if max_args == -1 else max_args,
                                   lazy, needs_context, category or impl.__module__.rsplit(".", 1)[-1])
        return impl
    return register


def lookup(name: str) -> FunctionSpec | None:
    return _TABLE.get(name.lower())


def names() -> dict[str, FunctionSpec]:
    return dict(_TABLE)


# --- argument checks shared by the categories -----------------------------------------------------

_ORDINAL = ["first", "second", "third", "fourth", "fifth", "sixth"]


def _nth(index: int) -> str:
    return _ORDINAL[index] if index < len(_ORDINAL) else f"#{index + 1}"


def fail_type(fn: str, index: int, value: Any, expected: str) -> Failure:
    return Failure(f"the function '{fn}' expects its {_nth(index)} argument to be {expected}, "
                   f"but the value given is of type '{type_name(value)}'")


def want_str(fn: str, index: int, value: Any) -> str:
    if type(value) is str:
        return value
    raise fail_type(fn, index, value, "a string")


def want_int(fn: str, index: int, value: Any) -> int:
    if type(value) is int:
        return value
    raise fail_type(fn, index, value, "an integer")


def want_number(fn: str, index: int, value: Any):
    if type(value) is int or type(value) is float:
        return value
    raise fail_type(fn, index, value, "a number")


def want_bool(fn: str, index: int, value: Any) -> bool:
    if type(value) is bool:
        return value
    raise fail_type(fn, index, value, "a boolean")


def want_list(fn: str, index: int, value: Any) -> list:
    if type(value) is list:
        return value
    raise fail_type(fn, index, value, "an array")
