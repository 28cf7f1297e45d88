"""The expression grammar (LALR(1), lark), the syntax tree, and ``Expression``.

Grammar (whitespace, including line breaks, is allowed between tokens)::

    expr  := atom | expr "." NAME | expr "?." NAME | expr "[" expr "]" | expr "?[" expr "]"
    atom  := STRING | NUMBER | "true" | "false" | "null" | NAME "(" [expr ("," expr)*] ")"

``STRING`` is single-quoted with ``''`` for a quote; ``NUMBER`` is ``-?digits`` (an integer) or
``-?digits.digits`` (a float). There are no operators. Function names are resolved (case-insensitively)
and their argument counts checked while parsing, so an ``Expression`` only refers to known functions.
The tree is built by the parser's reduce callbacks (no recursive tree walk), then evaluated by a
recursive walk whose depth the parser limits to ``MAX_DEPTH``.
"""
from __future__ import annotations

import difflib
import re
import threading
from decimal import Decimal
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ._errors import ExpressionError, Failure
from ._values import INT64_MAX, INT64_MIN, lookup_property, to_external, type_name
from .functions import FunctionSpec, lookup, names

__all__ = ["Expression", "parse", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 8192  # characters per expression (ADF's service limit)
MAX_DEPTH = 100    # nesting of calls, accesses and indexes (keeps evaluation far from Python's recursion limit)

_GRAMMAR = r"""
?start: expr

?expr: atom
     | expr DOT NAME        -> member
     | expr QDOT NAME       -> safe_member
     | expr LSQB expr "]"   -> index
     | expr QLSQB expr "]"  -> safe_index

?atom: STRING               -> string
     | NUMBER               -> number
     | TRUE                 -> true
     | FALSE                -> false
     | NULL                 -> null
     | NAME LPAR ")"        -> call
     | NAME LPAR args ")"   -> call

args: expr ("," expr)*

DOT: "."
QDOT: "?."
LSQB: "["
QLSQB: "?["
LPAR: "("
TRUE: "true"
FALSE: "false"
NULL: "null"
NAME: /[^\W\d]\w*/
STRING: /'(?:[^']|'')*'/
NUMBER: /-?[0-9]+(?:\.[0-9]+)?/

%ignore /\s+/
"""

_NAME_RE = re.compile(r"[^\W\d]\w*\Z")
_KEYWORDS = {"true", "false", "null"}


# --- syntax tree ---------------------------------------------------------------------------------

class _Node:
    __slots__ = ("pos", "depth")

    def ev(self, ctx) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def unparse(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class _Literal(_Node):
    __slots__ = ("value",)

    def __init__(self, value, pos):
        self.value = value
        self.pos = pos
        self.depth = 1

    def ev(self, ctx):
        return self.value

    def unparse(self):
        return unparse_literal(self.value)


class _Call(_Node):
    __slots__ = ("name", "spec", "args", "impl")

    def __init__(self, name: str, spec: FunctionSpec, args: tuple, pos: int):
        self.name = name
        self.spec = spec
        self.args = args
        self.impl = spec.impl
        self.pos = pos
        self.depth = 1 + max((a.depth for a in args), default=0)

    def ev(self, ctx):
        spec = self.spec
        try:
            if spec.lazy:
                return self.impl(ctx, self.args)
            args = [a.ev(ctx) for a in self.args]
            if spec.needs_context:
                return self.impl(ctx, *args)
            return self.impl(*args)
        except Failure as failure:
            if failure.position is None:
                failure.position = self.pos
            raise

    def unparse(self):
        return f"{self.name}({', '.join(a.unparse() for a in self.args)})"


class _Member(_Node):
    __slots__ = ("target", "name", "safe")

    def __init__(self, target: _Node, name: str, safe: bool, pos: int):
        self.target = target
        self.name = name
        self.safe = safe
        self.pos = pos
        self.depth = target.depth + 1

    def ev(self, ctx):
        return select(self.target.ev(ctx), self.name, self.safe, self.pos)

    def unparse(self):
        dot = "?." if self.safe else "."
        if _NAME_RE.match(self.name) and self.name not in _KEYWORDS:
            return f"{self.target.unparse()}{dot}{self.name}"
        return f"{self.target.unparse()}{'?' if self.safe else ''}[{unparse_literal(self.name)}]"


class _Index(_Node):
    __slots__ = ("target", "key", "safe")

    def __init__(self, target: _Node, key: _Node, safe: bool, pos: int):
        self.target = target
        self.key = key
        self.safe = safe
        self.pos = pos
        self.depth = max(target.depth, key.depth) + 1

    def ev(self, ctx):
        target = self.target.ev(ctx)
        key = self.key.ev(ctx)
        if type(key) is str:
            return select(target, key, self.safe, self.pos)
        if type(key) is int:
            return _item_at(target, key, self.safe, self.pos)
        raise Failure(f"the index is of type '{type_name(key)}': an index must be an integer (for an array) "
                      f"or a string (for an object property)", self.pos)

    def unparse(self):
        return f"{self.target.unparse()}{'?' if self.safe else ''}[{self.key.unparse()}]"


def select(target, name: str, safe: bool, pos: int | None = None):
    """``target.name`` / ``target?.name`` / ``target['name']``."""
    if type(target) is dict:
        found, value = lookup_property(target, name)
        if found:
            return value
        if safe:
            return None
        if not target:
            raise Failure(f"property '{name}' doesn't exist, the object has no properties", pos)
        available = ", ".join(str(k) for k in target)
        raise Failure(f"property '{name}' doesn't exist, available properties are '{available}'", pos)
    if target is None and safe:
        return None
    raise Failure(f"property '{name}' cannot be selected. Property selection is not supported on values "
                  f"of type '{type_name(target)}'", pos)


def _item_at(target, index: int, safe: bool, pos: int):
    if type(target) is list:
        if 0 <= index < len(target):
            return target[index]
        if safe:
            return None
        raise Failure(f"array index '{index}' is outside bounds (0, {len(target) - 1}) of array", pos)
    if target is None and safe:
        return None
    raise Failure(f"the value of type '{type_name(target)}' cannot be indexed by an integer: only arrays can",
                  pos)


def unparse_literal(value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    return "'" + str(value).replace("'", "''") + "'"


# --- parser -----------------------------------------------------------------------------------------

class _Syntax(Exception):
    def __init__(self, detail: str, position: int | None, kind: str = "syntax"):
        super().__init__(detail)
        self.detail = detail
        self.position = position
        self.kind = kind


def _checked(node: _Node) -> _Node:
    if node.depth > MAX_DEPTH:
        raise _Syntax(f"it is nested more than {MAX_DEPTH} levels deep", node.pos, "limit")
    return node


class _Build(Transformer):
    """Reduce callbacks: build the tree while the LALR parser runs."""

    def string(self, children):
        token = children[0]
        return _Literal(token.value[1:-1].replace("''", "'"), token.start_pos)

    def number(self, children):
        token = children[0]
        text = token.value
        if "." in text:
            value = float(text)
            if value in (float("inf"), float("-inf")):
                raise _Syntax(f"the number '{text}' is too large", token.start_pos)
            return _Literal(value, token.start_pos)
        value = int(text)
        if not INT64_MIN <= value <= INT64_MAX:
            raise _Syntax(f"the integer '{text}' is outside the range of a 64-bit integer", token.start_pos)
        return _Literal(value, token.start_pos)

    def true(self, children):
        return _Literal(True, children[0].start_pos)

    def false(self, children):
        return _Literal(False, children[0].start_pos)

    def null(self, children):
        return _Literal(None, children[0].start_pos)

    def args(self, children):
        return tuple(children)

    def call(self, children):
        name_token = children[0]
        args = children[2] if len(children) > 2 else ()
        spec = lookup(name_token.value)
        if spec is None:
            raise _Syntax(f"the function '{name_token.value}' is not defined or not valid"
                          f"{_did_you_mean(name_token.value)}", name_token.start_pos, "function")
        count = len(args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise _Syntax(f"the function '{spec.name}' expects {spec.arity_text()} but was given {count}",
                          name_token.start_pos, "arguments")
        return _checked(_Call(name_token.value, spec, args, name_token.start_pos))

    def member(self, children):
        target, _dot, name = children
        return _checked(_Member(target, name.value, False, name.start_pos))

    def safe_member(self, children):
        target, _dot, name = children
        return _checked(_Member(target, name.value, True, name.start_pos))

    def index(self, children):
        target, bracket, key = children
        return _checked(_Index(target, key, False, bracket.start_pos))

    def safe_index(self, children):
        target, bracket, key = children
        return _checked(_Index(target, key, True, bracket.start_pos))


def _did_you_mean(name: str) -> str:
    """`` (did you mean 'concat'?)`` for a misspelt function name, else ``""``."""
    table = names()
    close = difflib.get_close_matches(name.lower(), list(table), n=1, cutoff=0.75)
    return f" (did you mean '{table[close[0]].name}'?)" if close else ""


_parser_lock = threading.Lock()
_parser: Lark | None = None


def _get_parser() -> Lark:
    global _parser
    if _parser is None:
        with _parser_lock:
            if _parser is None:
                _parser = Lark(_GRAMMAR, parser="lalr", lexer="contextual", transformer=_Build(),
                               maybe_placeholders=False)
    return _parser


def _describe(token: Token | None) -> str:
    if token is None or token.type == "$END":
        return "the end of the expression"
    if token.type == "STRING":
        return f"the string {token.value}"
    if token.type == "NUMBER":
        return f"the number {token.value}"
    return f"'{token.value}'"


def _syntax_error(text: str, detail: str, position: int | None, kind: str = "syntax") -> ExpressionError:
    return ExpressionError(f"The expression '{text}' is not valid: {detail}.", text, position, kind)


def _parse_uncached(text: str) -> "Expression":
    if type(text) is not str:
        raise TypeError(f"an expression is text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"The expression '{text[:80]}...' is not valid: it is {len(text)} characters long, "
                              f"more than the limit of {MAX_LENGTH}.", text, None, "limit")
    if not text.strip():
        raise _syntax_error(text, "it is empty", 0)
    try:
        root = _get_parser().parse(text)
    except _Syntax as exc:
        raise _syntax_error(text, exc.detail, exc.position, exc.kind) from None
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream
        char = text[pos] if pos is not None and pos < len(text) else ""
        if char == "'":
            raise _syntax_error(text, f"the string starting at position '{pos}' is not closed", pos) from None
        raise _syntax_error(text, f"the character '{char}' at position '{pos}' is not expected", pos) from None
    except UnexpectedEOF:
        raise _syntax_error(text, f"it ends unexpectedly at position '{len(text)}'", len(text)) from None
    except UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            raise _syntax_error(text, f"it ends unexpectedly at position '{len(text)}'", len(text)) from None
        pos = token.start_pos
        if set(exc.expected) == {"LPAR"}:
            name = re.search(r"[^\W\d]\w*\s*\Z", text[:pos])
            if name:
                start = name.start()
                raise _syntax_error(text, f"the name '{name.group().strip()}' at position '{start}' is not followed "
                                    f"by '(': only function calls, literals, '.name', '?.name' and '[...]' are "
                                    f"allowed", start) from None
        raise _syntax_error(text, f"{_describe(token)} at position '{pos}' is not expected", pos) from None
    except UnexpectedInput as exc:  # pragma: no cover - other lark input errors
        raise _syntax_error(text, str(exc).splitlines()[0], getattr(exc, "pos_in_stream", None)) from None
    except LarkError as exc:
        inner = getattr(exc, "orig_exc", None)
        if isinstance(inner, _Syntax):
            raise _syntax_error(text, inner.detail, inner.position, inner.kind) from None
        raise
    return Expression(text, root)


@lru_cache(maxsize=4096)
def parse(text: str) -> "Expression":
    """Parse an expression (the text after ``@``, or inside ``@{...}``). Cached per text.

    Raises ``ExpressionError`` for a syntax error, an unknown function, a wrong argument count, a text
    longer than 8,192 characters or nesting deeper than ``MAX_DEPTH``."""
    return _parse_uncached(text)


class Expression:
    """A parsed expression. ``text`` is the source; ``str()`` gives a canonical form that parses to
    the same expression; ``evaluate(context)`` computes its value (JSON-compatible)."""

    __slots__ = ("text", "_root")

    def __init__(self, text: str, root: _Node):
        self.text = text
        self._root = root

    def evaluate(self, context) -> Any:
        """The value, with its type: ``None``, bool, int, float, str, list or dict. Raises
        ``ExpressionError`` when evaluation fails. Arrays and objects may be the very objects held by
        the context (``pipeline().parameters``, ``activity('x').output``): copy before changing them."""
        return to_external(self._evaluate_raw(context))

    def _evaluate_raw(self, context) -> Any:
        # Like evaluate(), but binary results stay bytes and XML results stay XmlValue (for @{...}).
        try:
            return self._root.ev(context)
        except Failure as failure:
            raise ExpressionError(f"The expression '{self.text}' cannot be evaluated because {failure.reason}.",
                                  self.text, failure.position) from None
        except RecursionError:
            raise ExpressionError(f"The expression '{self.text}' cannot be evaluated because a value in it is "
                                  f"nested too deeply.", self.text, None) from None

    def __str__(self) -> str:
        return self._root.unparse()

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

