"""Math functions: add, div, max, min, mod, mul, rand, range, sub.

Two integers give an integer (64-bit; overflow is an error), otherwise a float. ``div`` of two
integers truncates toward zero and ``mod`` takes the sign of the dividend, as in .NET. Dividing by
zero, and a float result that is not finite, are errors. ``range`` returns at most 100,000 integers
(an adfemu limit that keeps a mistaken count from exhausting memory).
"""
from __future__ import annotations

import math as _m
import random as _random

from .._errors import Failure
from .._values import check_int64
from ._registry import function, want_int, want_number

RANGE_LIMIT = 100_000


def _result(fn: str, a, b, value):
    if type(a) is int and type(b) is int:
        return check_int64(value, f"the result of '{fn}',")
    if not _m.isfinite(value):
        raise Failure(f"the result of '{fn}' is not a finite number")
    return value


@function("add", 2)
def add(a, b):
    a, b = want_number("add", 0, a), want_number("add", 1, b)
    return _result("add", a, b, a + b)


@function("sub", 2)
def sub(a, b):
    a, b = want_number("sub", 0, a), want_number("sub", 1, b)
    return _result("sub", a, b, a - b)


@function("mul", 2)
def mul(a, b):
    a, b = want_number("mul", 0, a), want_number("mul", 1, b)
    return _result("mul", a, b, a * b)


def _truncating_quotient(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


@function("div", 2)
def div(a, b):
    a, b = want_number("div", 0, a), want_number("div", 1, b)
    if b == 0:
        raise Failure("the function 'div' was asked to divide by zero")
    if type(a) is int and type(b) is int:
        return check_int64(_truncating_quotient(a, b), "the result of 'div',")
    return _result("div", a, b, a / b)


@function("mod", 2)
def mod(a, b):
    a, b = want_number("mod", 0, a), want_number("mod", 1, b)
    if b == 0:
        raise Failure("the function 'mod' was asked to divide by zero")
    if type(a) is int and type(b) is int:
        return a - b * _truncating_quotient(a, b)
    return _result("mod", a, b, _m.fmod(a, b))


def _extreme(fn: str, values, pick):
    if len(values) == 1 and type(values[0]) is list:
        values = values[0]
        if not values:
            raise Failure(f"the function '{fn}' was given an empty array")
    for i, v in enumerate(values):
        want_number(fn, i, v)
    best = values[0]
    for v in values[1:]:
        if pick(v, best):
            best = v
    return best


@function("max", 1, None)
def max_(*values):
    return _extreme("max", values, lambda v, best: v > best)


@function("min", 1, None)
def min_(*values):
    return _extreme("min", values, lambda v, best: v < best)


@function("rand", 2, needs_context=True)
def rand(ctx, low, high):
    low, high = want_int("rand", 0, low), want_int("rand", 1, high)
    if low > high:
        raise Failure(f"the function 'rand' was given a minimum {low} greater than the maximum {high}")
    if low == high:
        return low
    rng = getattr(ctx, "random", None) or _random
    return rng.randrange(low, high)


@function("range", 2)
def range_(start, count):
    start, count = want_int("range", 0, start), want_int("range", 1, count)
    if count < 0:
        raise Failure(f"the function 'range' was given the count {count}: it must not be negative")
    if count > RANGE_LIMIT:
        raise Failure(f"the function 'range' was given the count {count}: adfemu allows at most {RANGE_LIMIT}")
    check_int64(start + count - 1 if count else start, "the last value of 'range',")
    return list(range(start, start + count))

