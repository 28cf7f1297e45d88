"""Collection functions: contains, empty, first, intersection, join, last, length, skip, take, union.

Arrays and strings (and objects for contains/empty/intersection/union). Element comparisons use the
rules of ``equals()``. ``union``/``intersection`` keep the order of first occurrence and drop
duplicates; for objects, ``union`` merges keys (later arguments win) and ``intersection`` keeps the
keys whose values are equal in every argument.
"""
from __future__ import annotations

from .._errors import Failure
from .._values import check_text_size, to_text, values_equal
from ._registry import fail_type, function, want_int, want_list, want_str


def _member(value, items) -> bool:
    return any(values_equal(value, x) for x in items)


def _key(value):
    """A hashable key such that equal keys <=> ``values_equal`` (used for union/intersection)."""
    kind = type(value)
    if kind is int or kind is float:
        return ("n", value)
    if kind is list:
        return ("l", tuple(_key(v) for v in value))
    if kind is dict:
        return ("o", frozenset((k, _key(v)) for k, v in value.items()))
    if kind is bytes or kind is str or kind is bool or value is None:
        return (kind.__name__, value)
    return ("x", repr(value))


@function("contains", 2)
def contains(collection, value):
    kind = type(collection)
    if kind is str:
        return want_str("contains", 1, value) in collection
    if kind is list:
        return _member(value, collection)
    if kind is dict:
        return want_str("contains", 1, value) in collection
    raise fail_type("contains", 0, collection, "a string, an array or an object")


@function("empty", 1)
def empty(collection):
    if collection is None:
        return True
    if type(collection) in (str, list, dict):
        return len(collection) == 0
    raise fail_type("empty", 0, collection, "a string, an array, an object or null")


@function("first", 1)
def first(collection):
    if type(collection) is str:
        return collection[:1]
    if type(collection) is list:
        return collection[0] if collection else None
    raise fail_type("first", 0, collection, "a string or an array")


@function("last", 1)
def last(collection):
    if type(collection) is str:
        return collection[-1:]
    if type(collection) is list:
        return collection[-1] if collection else None
    raise fail_type("last", 0, collection, "a string or an array")


@function("length", 1)
def length(collection):
    if type(collection) in (str, list):
        return len(collection)
    raise fail_type("length", 0, collection, "a string or an array")


@function("join", 2)
def join(items, delimiter):
    items = want_list("join", 0, items)
    delimiter = want_str("join", 1, delimiter)
    texts = [to_text(x) for x in items]
    check_text_size("join", sum(map(len, texts)) + len(delimiter) * max(len(texts) - 1, 0))
    return delimiter.join(texts)


@function("skip", 2)
def skip(items, count):
    items = want_list("skip", 0, items)
    count = want_int("skip", 1, count)
    if count < 0:
        raise Failure(f"the function 'skip' was given the count {count}: it must not be negative")
    return items[count:]


@function("take", 2)
def take(collection, count):
    count = want_int("take", 1, count)
    if count < 0:
        raise Failure(f"the function 'take' was given the count {count}: it must not be negative")
    if type(collection) in (str, list):
        return collection[:count]
    raise fail_type("take", 0, collection, "a string or an array")


def _same_kind(fn: str, collections) -> type:
    kind = type(collections[0])
    if kind not in (list, dict):
        raise fail_type(fn, 0, collections[0], "an array or an object")
    for i, c in enumerate(collections[1:], start=1):
        if type(c) is not kind:
            raise fail_type(fn, i, c, "an array" if kind is list else "an object")
    return kind


@function("union", 1, None)
def union(*collections):
    if _same_kind("union", collections) is list:
        out: list = []
        seen: set = set()
        for c in collections:
            for x in c:
                key = _key(x)
                if key not in seen:
                    seen.add(key)
                    out.append(x)
        return out
    merged: dict = {}
    for c in collections:
        merged.update(c)
    return merged


@function("intersection", 1, None)
def intersection(*collections):
    if _same_kind("intersection", collections) is list:
        others = [{_key(x) for x in c} for c in collections[1:]]
        out: list = []
        seen: set = set()
        for x in collections[0]:
            key = _key(x)
            if key not in seen and all(key in other for other in others):
                seen.add(key)
                out.append(x)
        return out
    first_obj = collections[0]
    return {k: v for k, v in first_obj.items()
            if all(k in c and values_equal(v, c[k]) for c in collections[1:])}
