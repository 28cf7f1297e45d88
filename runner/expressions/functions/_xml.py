"""XML for ``xml()``, ``json(xml)`` and ``xpath()``.

* ``parse_xml``: well-formed XML only; a DOCTYPE is refused (as .NET's XmlReader refuses DTDs).
* ``xml_to_json`` / ``json_to_xml``: Newtonsoft.Json's conventions: attributes as ``@name``, text next
  to child elements as ``#text``, repeated elements as arrays, the XML declaration as ``?xml``,
  an empty element as null.
* ``xpath``: XPath 1.0 with the child, descendant, descendant-or-self, self, parent, ancestor,
  ancestor-or-self, following-sibling, preceding-sibling and attribute axes (and their abbreviations
  ``//``, ``.``, ``..``, ``@``), predicates, the operators ``or and = != < <= > >= + - * div mod |``,
  and the core functions (last, position, count, name, local-name, namespace-uri, string, concat,
  starts-with, contains, substring, substring-before, substring-after, string-length,
  normalize-space, translate, boolean, not, true, false, number, sum, floor, ceiling, round).
  Names in a path match elements without a namespace (as in .NET without a namespace manager); use
  ``*[local-name()='x']`` for namespaced elements. Not supported: variables, the following/preceding
  axes, namespace axis, ``id()``/``lang()``, comment and processing-instruction nodes.
  A node-set result is an array (elements as XML text, attributes and text nodes as their values);
  numbers that are whole come back as integers.
"""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from .._errors import Failure
from .._values import XmlValue, format_double, to_text

# --- parsing and conversion -------------------------------------------------------------------------

_DECL_RE = re.compile(r"\s*<\?xml\s+(?P<attrs>[^?]*)\?>")
_ATTR_RE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def parse_xml(fn: str, text: str) -> XmlValue:
    if re.search(r"<!DOCTYPE", text, re.IGNORECASE):
        raise Failure(f"the function '{fn}' was given XML with a DOCTYPE, which is not allowed")
    try:
        root = ET.fromstring(text)
    except (ET.ParseError, ValueError) as exc:
        raise Failure(f"the function '{fn}' was given text that is not valid XML ({exc})") from None
    return XmlValue(text, root)


def _root(value: XmlValue):
    if value._root is None:
        value._root = ET.fromstring(value.text)
    return value._root


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return uri, local
    return "", tag


def _element_json(elem):
    children = list(elem)
    if not elem.attrib and not children:
        return elem.text if elem.text else None
    out: dict = {}
    for key, val in elem.attrib.items():
        out["@" + _local(key)[1]] = val
    texts = [elem.text] if elem.text and elem.text.strip() else []
    repeated: set[str] = set()
    for child in children:
        name = _local(child.tag)[1]
        converted = _element_json(child)
        if name in repeated:
            out[name].append(converted)
        elif name in out:
            out[name] = [out[name], converted]
            repeated.add(name)
        else:
            out[name] = converted
        if child.tail and child.tail.strip():
            texts.append(child.tail)
    if texts:
        out["#text"] = texts[0] if len(texts) == 1 else texts
    return out


def xml_to_json(value: XmlValue) -> dict:
    root = _root(value)
    out: dict = {}
    decl = _DECL_RE.match(value.text)
    if decl:
        out["?xml"] = {"@" + m.group(1): (m.group(2) if m.group(2) is not None else m.group(3))
                       for m in _ATTR_RE.finditer(decl.group("attrs"))}
    out[_local(root.tag)[1]] = _element_json(root)
    return out


def _scalar_text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float:
        return format_double(value)
    return to_text(value)


def _fill(parent, name: str, value) -> None:
    if type(value) is list:
        for item in value:
            _fill(parent, name, item)
        return
    if not _NAME_RE.match(name):
        raise Failure(f"the function 'xml' cannot make an element named '{name}': it is not a valid XML name")
    _fill_content(ET.SubElement(parent, name), value)


def _fill_content(elem, value) -> None:
    if type(value) is dict:
        for key, child in value.items():
            if key.startswith("@"):
                if not _NAME_RE.match(key[1:]):
                    raise Failure(f"the function 'xml' cannot make an attribute named '{key[1:]}'")
                elem.set(key[1:], _scalar_text(child))
            elif key == "#text":
                elem.text = (elem.text or "") + _scalar_text(child)
            else:
                _fill(elem, key, child)
    elif value is not None:
        elem.text = _scalar_text(value)


_NAME_RE = re.compile(r"[^\W\d][\w.\-]*\Z")


def json_to_xml(obj: dict) -> XmlValue:
    keys = [k for k in obj if not k.startswith("?")]
    if len(keys) != 1 or type(obj[keys[0]]) is list:
        raise Failure("the function 'xml' needs an object with exactly one property (the root element) to make "
                      f"an XML document; this one has {len(keys)}")
    name = keys[0]
    if not _NAME_RE.match(name):
        raise Failure(f"the function 'xml' cannot make an element named '{name}': it is not a valid XML name")
    root = ET.Element(name)
    _fill_content(root, obj[name])
    return XmlValue(ET.tostring(root, encoding="unicode"), root)


# --- XPath data model ---------------------------------------------------------------------------

class _Node:
    __slots__ = ("kind", "uri", "name", "value", "parent", "children", "attrs", "order", "elem")

    def __init__(self, kind, parent, order, uri="", name="", value="", elem=None):
        self.kind = kind  # "root", "element", "text", "attribute"
        self.uri = uri
        self.name = name
        self.value = value
        self.parent = parent
        self.children: list[_Node] = []
        self.attrs: list[_Node] = []
        self.order = order
        self.elem = elem

    def string_value(self) -> str:
        if self.kind in ("text", "attribute"):
            return self.value
        return "".join(n.value for n in self.descendants() if n.kind == "text")

    def descendants(self):
        stack = list(reversed(self.children))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def _build(root_elem) -> _Node:
    counter = [0]

    def nxt():
        counter[0] += 1
        return counter[0]

    doc = _Node("root", None, 0)

    def add(elem, parent):
        uri, local = _local(elem.tag)
        node = _Node("element", parent, nxt(), uri, local, elem=elem)
        parent.children.append(node)
        for key, val in elem.attrib.items():
            auri, alocal = _local(key)
            node.attrs.append(_Node("attribute", node, nxt(), auri, alocal, val))
        if elem.text:
            node.children.append(_Node("text", node, nxt(), value=elem.text))
        for child in elem:
            add(child, node)
            if child.tail:
                node.children.append(_Node("text", node, nxt(), value=child.tail))

    add(root_elem, doc)
    return doc


def _serialise(node: _Node):
    if node.kind == "root":
        node = node.children[0]
    if node.kind == "element":
        tail = node.elem.tail
        node.elem.tail = None
        try:
            return ET.tostring(node.elem, encoding="unicode")
        finally:
            node.elem.tail = tail
    return node.string_value()


# --- XPath tokens and parser ---------------------------------------------------------------------

_TOKEN_RE = re.compile(r"""
    \s*(?:
      (?P<number>\d+(?:\.\d*)?|\.\d+)
    | (?P<literal>"[^"]*"|'[^']*')
    | (?P<op>//|::|!=|<=|>=|\.\.|[/()\[\]@,|=<>+\-*.$])
    | (?P<name>[^\W\d][\w.\-]*(?::[^\W\d][\w.\-]*)?(?::\*)?)
    )""", re.VERBOSE)

_AXES = {"child", "descendant", "descendant-or-self", "self", "parent", "ancestor", "ancestor-or-self",
         "following-sibling", "preceding-sibling", "attribute"}
_NODE_TYPES = {"node", "text", "comment", "processing-instruction"}


class _XPathSyntax(Exception):
    pass


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise _XPathSyntax(f"unexpected character at position {pos}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        prev = tokens[-1] if tokens else None
        operator_context = prev is not None and not (
            prev[0] == "op" and prev[1] in ("@", "::", "(", "[", ",", "/", "//", "|", "+", "-", "=", "!=",
                                            "<", "<=", ">", ">=", "*op", "and", "or", "mod", "div")
            or prev[0] == "opname")
        if kind == "op" and value == "*" and operator_context:
            tokens.append(("op", "*op"))
        elif kind == "name" and operator_context and value in ("and", "or", "mod", "div"):
            tokens.append(("opname", value))
        else:
            tokens.append((kind, value))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self, offset=0):
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("end", "")

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def accept(self, kind, value=None):
        tok = self.peek()
        if tok[0] == kind and (value is None or tok[1] == value):
            self.i += 1
            return tok
        return None

    def expect(self, kind, value=None):
        tok = self.accept(kind, value)
        if tok is None:
            raise _XPathSyntax(f"expected {value or kind} but found {self.peek()[1] or 'the end'}")
        return tok

    def parse(self):
        expr = self.or_expr()
        if self.peek()[0] != "end":
            raise _XPathSyntax(f"unexpected '{self.peek()[1]}'")
        return expr

    def _binary(self, sub, ops, kind="op"):
        left = sub()
        while True:
            tok = self.peek()
            if (tok[0] == kind or (kind == "opname" and tok[0] == "opname")) and tok[1] in ops:
                self.i += 1
                left = ("bin", tok[1], left, sub())
            else:
                return left

    def or_expr(self):
        return self._binary(self.and_expr, ("or",), "opname")

    def and_expr(self):
        return self._binary(self.eq_expr, ("and",), "opname")

    def eq_expr(self):
        return self._binary(self.rel_expr, ("=", "!="))

    def rel_expr(self):
        return self._binary(self.add_expr, ("<", "<=", ">", ">="))

    def add_expr(self):
        return self._binary(self.mul_expr, ("+", "-"))

    def mul_expr(self):
        left = self.unary_expr()
        while True:
            tok = self.peek()
            if tok == ("op", "*op") or (tok[0] == "opname" and tok[1] in ("div", "mod")):
                self.i += 1
                left = ("bin", "*" if tok[1] == "*op" else tok[1], left, self.unary_expr())
            else:
                return left

    def unary_expr(self):
        if self.accept("op", "-"):
            return ("neg", self.unary_expr())
        return self.union_expr()

    def union_expr(self):
        left = self.path_expr()
        while self.accept("op", "|"):
            left = ("union", left, self.path_expr())
        return left

    def path_expr(self):
        tok = self.peek()
        is_filter = (tok[0] in ("number", "literal") or tok == ("op", "(") or tok == ("op", "$")
                     or (tok[0] == "name" and self.peek(1) == ("op", "(") and tok[1] not in _NODE_TYPES))
        if not is_filter:
            return self.location_path()
        expr = self.primary()
        preds = []
        while self.peek() == ("op", "["):
            preds.append(self.predicate())
        if preds:
            expr = ("filter", expr, preds)
        steps = []
        while self.peek() in (("op", "/"), ("op", "//")):
            if self.take()[1] == "//":
                steps.append(("descendant-or-self", ("type", "node"), []))
            steps.append(self.step())
        return ("path", expr, steps) if steps else expr

    def primary(self):
        tok = self.take()
        if tok[0] == "number":
            return ("num", float(tok[1]))
        if tok[0] == "literal":
            return ("str", tok[1][1:-1])
        if tok == ("op", "("):
            expr = self.or_expr()
            self.expect("op", ")")
            return expr
        if tok == ("op", "$"):
            raise _XPathSyntax("variables are not supported")
        name = tok[1]
        self.expect("op", "(")
        args = []
        if not self.accept("op", ")"):
            args.append(self.or_expr())
            while self.accept("op", ","):
                args.append(self.or_expr())
            self.expect("op", ")")
        if name not in _FUNCS:
            raise _XPathSyntax(f"the function '{name}' is not supported")
        return ("call", name, args)

    def predicate(self):
        self.expect("op", "[")
        expr = self.or_expr()
        self.expect("op", "]")
        return expr

    def location_path(self):
        steps = []
        absolute = False
        if self.accept("op", "/"):
            absolute = True
            if not self._starts_step():
                return ("abs", [])
        elif self.accept("op", "//"):
            absolute = True
            steps.append(("descendant-or-self", ("type", "node"), []))
        steps.append(self.step())
        while self.peek() in (("op", "/"), ("op", "//")):
            if self.take()[1] == "//":
                steps.append(("descendant-or-self", ("type", "node"), []))
            steps.append(self.step())
        return ("abs" if absolute else "rel", steps)

    def _starts_step(self):
        tok = self.peek()
        return tok[0] == "name" or tok in (("op", "@"), ("op", "."), ("op", ".."), ("op", "*"))

    def step(self):
        if self.accept("op", "."):
            return ("self", ("type", "node"), [])
        if self.accept("op", ".."):
            return ("parent", ("type", "node"), [])
        axis = "child"
        if self.accept("op", "@"):
            axis = "attribute"
        elif self.peek()[0] == "name" and self.peek(1) == ("op", "::"):
            axis = self.take()[1]
            self.take()
            if axis not in _AXES:
                raise _XPathSyntax(f"the axis '{axis}' is not supported")
        tok = self.take()
        if tok == ("op", "*"):
            test = ("any",)
        elif tok[0] == "name":
            if self.peek() == ("op", "(") and tok[1] in _NODE_TYPES:
                self.take()
                self.expect("op", ")")
                test = ("type", tok[1])
            elif ":" in tok[1]:
                raise _XPathSyntax(f"the name '{tok[1]}' has a namespace prefix, which needs a namespace "
                                   f"manager; use *[local-name()='...'] instead")
            else:
                test = ("name", tok[1])
        else:
            raise _XPathSyntax(f"expected a step but found '{tok[1] or 'the end'}'")
        preds = []
        while self.peek() == ("op", "["):
            preds.append(self.predicate())
        return (axis, test, preds)


# --- XPath evaluation ---------------------------------------------------------------------------

def _axis(node: _Node, axis: str):
    if axis == "child":
        return node.children
    if axis == "attribute":
        return node.attrs
    if axis == "self":
        return [node]
    if axis == "parent":
        return [node.parent] if node.parent is not None else []
    if axis == "descendant":
        return list(node.descendants())
    if axis == "descendant-or-self":
        return [node, *node.descendants()]
    if axis in ("ancestor", "ancestor-or-self"):
        out = [node] if axis == "ancestor-or-self" else []
        p = node.parent
        while p is not None:
            out.append(p)
            p = p.parent
        return out  # reverse axis: nearest first
    if axis in ("following-sibling", "preceding-sibling"):
        if node.parent is None or node.kind == "attribute":
            return []
        sibs = node.parent.children
        i = sibs.index(node)
        return sibs[i + 1:] if axis == "following-sibling" else list(reversed(sibs[:i]))
    raise _XPathSyntax(f"the axis '{axis}' is not supported")  # pragma: no cover


def _matches(node: _Node, axis: str, test) -> bool:
    kind = test[0]
    if kind == "type":
        return test[1] == "node" or (test[1] == "text" and node.kind == "text")
    principal = "attribute" if axis == "attribute" else "element"
    if node.kind != principal:
        return False
    if kind == "any":
        return True
    return node.uri == "" and node.name == test[1]


def _boolean(v) -> bool:
    if type(v) is list:
        return bool(v)
    if type(v) is str:
        return v != ""
    if type(v) is float:
        return v != 0 and not math.isnan(v)
    return bool(v)


def _number(v) -> float:
    if type(v) is list:
        v = v[0].string_value() if v else ""
    if type(v) is bool:
        return 1.0 if v else 0.0
    if type(v) is float:
        return v
    try:
        text = v.strip()
        if re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)", text):
            return float(text)
    except AttributeError:  # pragma: no cover
        pass
    return float("nan")


def _string(v) -> str:
    if type(v) is list:
        return v[0].string_value() if v else ""
    if type(v) is bool:
        return "true" if v else "false"
    if type(v) is float:
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        if v.is_integer():
            return str(int(v))
        return format_double(v)
    return v


def _compare(op, a, b) -> bool:
    if type(a) is list or type(b) is list:
        if type(a) is list and type(b) is list:
            return any(_compare(op, x.string_value(), y.string_value()) for x in a for y in b)
        if type(a) is list:
            return any(_compare(op, _atom_like(x, b), b) for x in a)
        return any(_compare(op, a, _atom_like(y, a)) for y in b)
    if op in ("=", "!="):
        if type(a) is bool or type(b) is bool:
            a, b = _boolean(a), _boolean(b)
        elif type(a) is float or type(b) is float:
            a, b = _number(a), _number(b)
        else:
            a, b = _string(a), _string(b)
        return (a == b) if op == "=" else (a != b)
    a, b = _number(a), _number(b)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _atom_like(node: _Node, other):
    text = node.string_value()
    if type(other) is float:
        return _number(text)
    if type(other) is bool:
        return _boolean([node])
    return text


def _round(x: float) -> float:
    if math.isnan(x) or math.isinf(x):
        return x
    return float(math.floor(x + 0.5))


def _substring(s: str, start: float, length: float | None = None) -> str:
    first = _round(start)
    last = first + _round(length) if length is not None else float("inf")
    out = []
    for i, ch in enumerate(s, start=1):
        if i >= first and i < last:
            out.append(ch)
    return "".join(out)


def _translate(s, frm, to):
    table = {}
    for i, ch in enumerate(frm):
        if ch not in table:
            table[ch] = to[i] if i < len(to) else None
    return "".join(table.get(ch, ch) or "" for ch in s)


_FUNCS = {
    "last": (0, 0), "position": (0, 0), "count": (1, 1), "name": (0, 1), "local-name": (0, 1),
    "namespace-uri": (0, 1), "string": (0, 1), "concat": (2, None), "starts-with": (2, 2),
    "contains": (2, 2), "substring": (2, 3), "substring-before": (2, 2), "substring-after": (2, 2),
    "string-length": (0, 1), "normalize-space": (0, 1), "translate": (3, 3), "boolean": (1, 1),
    "not": (1, 1), "true": (0, 0), "false": (0, 0), "number": (0, 1), "sum": (1, 1), "floor": (1, 1),
    "ceiling": (1, 1), "round": (1, 1),
}


class _Eval:
    def __init__(self, doc: _Node):
        self.doc = doc
        self.steps = 0

    def tick(self):
        self.steps += 1
        if self.steps > 1_000_000:
            raise _XPathSyntax("the query does too much work")

    def ev(self, expr, node, pos, size):
        kind = expr[0]
        if kind == "num":
            return expr[1]
        if kind == "str":
            return expr[1]
        if kind == "neg":
            return -_number(self.ev(expr[1], node, pos, size))
        if kind == "bin":
            op = expr[1]
            if op == "or":
                return _boolean(self.ev(expr[2], node, pos, size)) or _boolean(self.ev(expr[3], node, pos, size))
            if op == "and":
                return _boolean(self.ev(expr[2], node, pos, size)) and _boolean(self.ev(expr[3], node, pos, size))
            a = self.ev(expr[2], node, pos, size)
            b = self.ev(expr[3], node, pos, size)
            if op in ("=", "!=", "<", "<=", ">", ">="):
                return _compare(op, a, b)
            x, y = _number(a), _number(b)
            if op == "+":
                return x + y
            if op == "-":
                return x - y
            if op == "*":
                return x * y
            if op == "div":
                if y == 0:
                    return float("nan") if x == 0 or math.isnan(x) else math.copysign(float("inf"), x) * (
                        1 if math.copysign(1, y) > 0 else -1)
                return x / y
            if op == "mod":
                return math.fmod(x, y) if y != 0 else float("nan")
        if kind == "union":
            a = self.ev(expr[1], node, pos, size)
            b = self.ev(expr[2], node, pos, size)
            if type(a) is not list or type(b) is not list:
                raise _XPathSyntax("'|' needs node-sets on both sides")
            return _doc_order({id(n): n for n in a + b}.values())
        if kind == "abs":
            return self.steps_from([self.doc], expr[1])
        if kind == "rel":
            return self.steps_from([node], expr[1])
        if kind == "filter":
            value = self.ev(expr[1], node, pos, size)
            if type(value) is not list:
                raise _XPathSyntax("a predicate can only follow a node-set")
            for pred in expr[2]:
                value = self.filter(value, pred)
            return value
        if kind == "path":
            value = self.ev(expr[1], node, pos, size)
            if type(value) is not list:
                raise _XPathSyntax("a path can only continue from a node-set")
            return self.steps_from(value, expr[2])
        if kind == "call":
            return self.call(expr[1], expr[2], node, pos, size)
        raise _XPathSyntax(f"unknown expression {kind}")  # pragma: no cover

    def filter(self, nodes, pred):
        out = []
        size = len(nodes)
        for i, n in enumerate(nodes, start=1):
            self.tick()
            v = self.ev(pred, n, i, size)
            if (type(v) is float and v == i) or (type(v) is not float and _boolean(v)):
                out.append(n)
        return out

    def steps_from(self, nodes, steps):
        for axis, test, preds in steps:
            result: dict[int, _Node] = {}
            for n in nodes:
                selected = [m for m in _axis(n, axis) if _matches(m, axis, test)]
                self.tick()
                for pred in preds:
                    selected = self.filter(selected, pred)
                for m in selected:
                    result[id(m)] = m
            nodes = _doc_order(result.values())
        return nodes

    def call(self, name, args, node, pos, size):
        lo, hi = _FUNCS[name]
        if len(args) < lo or (hi is not None and len(args) > hi):
            raise _XPathSyntax(f"the function '{name}' was given {len(args)} arguments")
        vals = [self.ev(a, node, pos, size) for a in args]
        if name == "last":
            return float(size)
        if name == "position":
            return float(pos)
        if name in ("count", "sum"):
            if type(vals[0]) is not list:
                raise _XPathSyntax(f"'{name}' needs a node-set")
            if name == "count":
                return float(len(vals[0]))
            return float(sum(_number(n.string_value()) for n in vals[0]))
        if name in ("name", "local-name", "namespace-uri"):
            target = vals[0][0] if vals and type(vals[0]) is list and vals[0] else (node if not vals else None)
            if target is None or target.kind not in ("element", "attribute"):
                return ""
            return target.uri if name == "namespace-uri" else target.name
        if name == "string":
            return _string(vals[0]) if vals else node.string_value()
        if name == "concat":
            return "".join(_string(v) for v in vals)
        if name == "starts-with":
            return _string(vals[0]).startswith(_string(vals[1]))
        if name == "contains":
            return _string(vals[1]) in _string(vals[0])
        if name == "substring":
            return _substring(_string(vals[0]), _number(vals[1]), _number(vals[2]) if len(vals) > 2 else None)
        if name == "substring-before":
            s, t = _string(vals[0]), _string(vals[1])
            return s[:s.find(t)] if t in s else ""
        if name == "substring-after":
            s, t = _string(vals[0]), _string(vals[1])
            return s[s.find(t) + len(t):] if t in s else ""
        if name == "string-length":
            return float(len(_string(vals[0]) if vals else node.string_value()))
        if name == "normalize-space":
            return " ".join((_string(vals[0]) if vals else node.string_value()).split())
        if name == "translate":
            return _translate(_string(vals[0]), _string(vals[1]), _string(vals[2]))
        if name == "boolean":
            return _boolean(vals[0])
        if name == "not":
            return not _boolean(vals[0])
        if name == "true":
            return True
        if name == "false":
            return False
        if name == "number":
            return _number(vals[0] if vals else [node])
        if name == "floor":
            x = _number(vals[0])
            return x if math.isnan(x) or math.isinf(x) else float(math.floor(x))
        if name == "ceiling":
            x = _number(vals[0])
            return x if math.isnan(x) or math.isinf(x) else float(math.ceil(x))
        if name == "round":
            return _round(_number(vals[0]))
        raise _XPathSyntax(f"the function '{name}' is not supported")  # pragma: no cover


def _doc_order(nodes):
    return sorted(nodes, key=lambda n: n.order)


def xpath(document: XmlValue, query: str):
    try:
        tree = _Parser(query).parse()
        doc = _build(_root(document))
        value = _Eval(doc).ev(tree, doc, 1, 1)
    except _XPathSyntax as exc:
        raise Failure(f"the function 'xpath' was given the query '{query}', which is not valid: {exc}") from None
    except RecursionError:
        raise Failure(f"the function 'xpath' was given the query '{query}', which is nested too deeply") from None
    if type(value) is list:
        return [_serialise(n) for n in value]
    if type(value) is float:
        if math.isnan(value) or math.isinf(value):
            return _string(value)
        return int(value) if value.is_integer() and abs(value) < 2 ** 63 else value
    return value
