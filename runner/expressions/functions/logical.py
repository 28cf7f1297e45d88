"""Logical and comparison functions: and, equals, greater, greaterOrEquals, if, less, lessOrEquals,
not, or.

``if`` evaluates only the chosen branch; ``and``/``or`` stop at the first argument that decides the
result. Their arguments must be booleans. Comparisons take two numbers or two strings (ordinal).
"""
from __future__ import annotations

from .._values import values_equal
from ._registry import fail_type, function, want_bool


@function("and", 2, None, lazy=True)
def and_(ctx, nodes):
    for i, node in enumerate(nodes):
        if not want_bool("and", i, node.ev(ctx)):
            return False
    return True


@function("or", 2, None, lazy=True)
def or_(ctx, nodes):
    for i, node in enumerate(nodes):
        if want_bool("or", i, node.ev(ctx)):
            return True
    return False


@function("not", 1)
def not_(value):
    return not want_bool("not", 0, value)


@function("if", 3, lazy=True)
def if_(ctx, nodes):
    condition = want_bool("if", 0, nodes[0].ev(ctx))
    return (nodes[1] if condition else nodes[2]).ev(ctx)


@function("equals", 2)
def equals(a, b):
    return values_equal(a, b)


def _comparable(fn: str, a, b):
    ta, tb = type(a), type(b)
    if ta in (int, float):
        if tb in (int, float):
            return a, b
        raise fail_type(fn, 1, b, "a number, like its first argument")
    if ta is str:
        if tb is str:
            return a, b
        raise fail_type(fn, 1, b, "a string, like its first argument")
    raise fail_type(fn, 0, a, "a number or a string")


@function("greater", 2)
def greater(a, b):
    a, b = _comparable("greater", a, b)
    return a > b


@function("greaterOrEquals", 2)
def greater_or_equals(a, b):
    a, b = _comparable("greaterOrEquals", a, b)
    return a >= b


@function("less", 2)
def less(a, b):
    a, b = _comparable("less", a, b)
    return a < b


@function("lessOrEquals", 2)
def less_or_equals(a, b):
    a, b = _comparable("lessOrEquals", a, b)
    return a <= b
