"""Static analysis of expressions, for ``adfemu validate``: what a JSON string's expressions refer to, and what
is wrong with them, each at its offset inside the string.

``scan(text)`` reads a string the way ADF does (see ``_template``): ``@expr`` is one expression, ``@@`` an
escaped ``@``, ``@{...}`` an interpolation. Every expression is parsed with the runner's own grammar
(``_syntax.parse``), so validation and evaluation cannot disagree about what is valid. The result lists

* ``problems``: syntax errors, unknown functions (with a "did you mean"), wrong argument counts, unclosed
  ``@{``; a name with ``-`` after ``.`` (``pipeline().globalParameters.GP-Int``) is reported on its own as
  ``"hyphen"``: ADF rejects it (MicrosoftDocs/azure-docs issue 69407: "It's not allowed to put params with dash
  separator", resolved by writing ``['GP-Int']``), but real factories deploy such pipelines;
* ``references``: ``activity('X')``, ``variables('x')``, ``pipeline().parameters.x``,
  ``pipeline().globalParameters.x``, ``item()``, ``dataset().x``, ``linkedService().x``, with a literal name.

The validator (``adfemu.schemas.expression_checks``) relates them to the factory; ``schemas`` may not import the
runner, so ``adfemu.runner.validation`` hands it this function.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ._errors import ExpressionError
from ._syntax import _Call, _Index, _Literal, _Member, parse
from ._template import _closing_brace

__all__ = ["Problem", "Reference", "Scan", "scan"]

_HYPHEN_AFTER_NAME = re.compile(r"\.\s*[^\W\d]\w*\Z")
_SCOPE_PROPERTIES = {"parameters": "parameter", "globalparameters": "globalParameter"}
_ENTITY_FUNCTIONS = {"dataset": "dataset", "linkedservice": "linkedService"}
_NAMED_FUNCTIONS = {"activity": "activity", "variables": "variable"}


@dataclass(frozen=True)
class Problem:
    kind: str       # "syntax" | "function" | "arguments" | "limit" | "hyphen"
    message: str    # one sentence, naming the expression
    offset: int     # 0-based, in the scanned string


@dataclass(frozen=True)
class Reference:
    kind: str       # "activity" | "variable" | "parameter" | "globalParameter" | "item" | "dataset" | "linkedService"
    name: str | None  # None for item()
    offset: int     # of the function name (or the property name), in the scanned string


@dataclass(frozen=True)
class Scan:
    problems: tuple[Problem, ...] = ()
    references: tuple[Reference, ...] = ()


EMPTY = Scan()


@lru_cache(maxsize=8192)
def scan(text: str) -> Scan:
    """The problems and references of every expression in ``text`` (a JSON string value as written)."""
    if "@" not in text:
        return EMPTY
    problems: list[Problem] = []
    references: list[Reference] = []
    for start, expression in _expressions(text, problems):
        try:
            parsed = parse(expression)
        except ExpressionError as exc:
            problems.append(_problem(exc, expression, start))
            continue
        references.extend(_references(parsed._root, start))
    return Scan(tuple(problems), tuple(references)) if problems or references else EMPTY


def _expressions(text: str, problems: list[Problem]):
    """(offset, expression text) of each expression in a string, as ``_template`` evaluates them."""
    if text[0] == "@" and not text.startswith("@@") and not text.startswith("@{"):
        yield 1, text[1:]
        return
    i = 2 if text.startswith("@@") else 0
    while True:
        j = text.find("@", i)
        if j < 0:
            return
        if text.startswith("@@{", j):
            i = j + 3
        elif text.startswith("@{", j):
            end = _closing_brace(text, j + 2)
            if end < 0:
                problems.append(Problem("syntax", f"The interpolation '@{{' at offset {j} is not closed with '}}'.",
                                        j))
                return
            yield j + 2, text[j + 2:end]
            i = end + 1
        else:
            i = j + 1


def _problem(exc: ExpressionError, expression: str, start: int) -> Problem:
    position = exc.position if exc.position is not None else 0
    kind = exc.kind
    if kind == "syntax" and expression[position:position + 1] == "-" \
            and _HYPHEN_AFTER_NAME.search(expression[:position]):
        kind = "hyphen"
    return Problem(kind, exc.message, start + position)


def _references(node, start: int):
    """Scope references in a syntax tree, depth first."""
    stack = [node]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is _Call:
            found = _call_reference(node, start)
            if found is not None:
                yield found
            stack.extend(node.args)
        elif kind is _Member or kind is _Index:
            found = _property_reference(node, start)
            if found is not None:
                yield found
            stack.append(node.target)
            if kind is _Index:
                stack.append(node.key)


def _call_reference(call: _Call, start: int) -> Reference | None:
    name = call.spec.name.lower()
    if name == "item":
        return Reference("item", None, start + call.pos)
    what = _NAMED_FUNCTIONS.get(name)
    if what and call.args and type(call.args[0]) is _Literal and type(call.args[0].value) is str:
        return Reference(what, call.args[0].value, start + call.pos)
    return None


def _property_reference(node, start: int) -> Reference | None:
    """``pipeline().parameters.x`` / ``pipeline().globalParameters['x']`` / ``dataset().x`` / ``linkedService().x``."""
    name = _literal_property(node)
    if name is None:
        return None
    target = node.target
    if type(target) is _Call:
        what = _ENTITY_FUNCTIONS.get(target.spec.name.lower())
        return Reference(what, name, start + node.pos) if what else None
    if type(target) in (_Member, _Index):
        scope = _literal_property(target)
        inner = target.target
        what = _SCOPE_PROPERTIES.get(scope.lower()) if scope else None
        if what and type(inner) is _Call and inner.spec.name.lower() == "pipeline":
            return Reference(what, name, start + node.pos)
    return None


def _literal_property(node) -> str | None:
    if type(node) is _Member:
        return node.name
    if type(node) is _Index and type(node.key) is _Literal and type(node.key.value) is str:
        return node.key.value
    return None
