"""XML for ``xml()``, ``json(xml)`` and ``xpath()``: libraries do the XML, this module only what ADF does differently.

Libraries: ``lxml`` holds the tree that XPath runs on and ``elementpath``'s XPath 1.0 parser evaluates the query
(all of XPath 1.0, with the document node as the context, as .NET's ``XPathNavigator.Evaluate`` has it; lxml's own
``xpath()`` takes the root element as the context, so ``a/b`` and ``/`` would differ). The text is read by the
standard library's expat, configured safely: a DOCTYPE is refused before anything is read from it (so no entity is
ever declared or resolved), no network, no external entity; the lxml tree is built from that reading, never by
parsing the text again.

Why a small node model of our own (``Node``): ADF keeps the text as .NET's ``XmlDocument`` reads it, and two facts
it keeps are lost by every Python tree: whether an element was written ``<e/>`` or ``<e></e>`` (Json.NET gives
``null`` for one and ``""`` for the other) and where CDATA sections start and end (Json.NET's
``#cdata-section``). The ADF-specific conversions kept here, each checked against public evidence:

* **reading** (``XmlDocument`` without ``PreserveWhitespace``): whitespace-only text between markup is dropped;
  ``&#65;`` is read as ``A``; an undeclared prefix, a second root or a missing root is an error.
* **as text** (``string()``, ``@{...}``): .NET's ``OuterXml``: ``<e />`` with a space, ``<e></e>`` kept, comments,
  CDATA and the XML declaration kept, ``"`` and ``>`` escaped in attributes, ``<``, ``>`` and ``&`` in text.
* **as a value** (an expression's result, an array item, an activity output): ``{"$content-type":
  "application/xml;charset=utf-8", "$content": "<base64 of the UTF-8 text>"}``; ``xml()`` of such an object reads
  its content again.
* **json(xml)**: Json.NET's ``SerializeXmlNode`` ("Converting between JSON and XML", newtonsoft.com): the
  declaration as ``?xml``, attributes (``xmlns`` declarations included) as ``@name`` with their prefixes, text
  as ``#text``, CDATA as ``#cdata-section``, element names with their prefixes, repeated names (also when other
  nodes come between them) grouped into one array at the first one's place, an element with only text as that
  text, ``<e/>`` as null and ``<e></e>`` as ``""``. Comments: Json.NET writes them as JSON comments, which the
  service drops when it reads its own JSON back, so a lone comment leaves no trace and two or more in one element
  leave ``"#comment": []`` (recorded against real Logic Apps in the IllogicApps project's XmlConversionTests).
* **xml(json)**: Json.NET's ``DeserializeXmlNode``: ``@name`` attributes, ``#text`` text, ``#cdata-section``,
  ``?xml``; arrays repeat the element; null is an empty element; names that are not XML names are encoded as
  ``XmlConvert.EncodeName`` does (``a b`` -> ``a_x0020_b``, ``#comment`` -> ``_x0023_comment``).
* **xpath()**: a node-set is an array: elements as XML values (each with the namespace declarations it needs, so a
  node keeps the document's own prefixes and default ``xmlns``), text, attribute, comment and processing-
  instruction nodes as their string values; a number is a double (``sum()`` gives ``15.0``: IllogicApps'
  ManipulationFunctionsTests, recorded against Logic Apps; MicrosoftDocs/azure-docs issue 113084 shows the node
  objects); a boolean or string as itself. Prefixed names in a query need a namespace manager that ADF does not
  give, so they are an error, as in .NET; ``local-name()`` and ``namespace-uri()`` work.
"""
from __future__ import annotations

import base64
import math
import re
import unicodedata
from dataclasses import dataclass, field
from xml.parsers import expat

from .._errors import Failure
from .._values import XmlValue, format_double, to_text

XML_CONTENT_TYPE = "application/xml;charset=utf-8"
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"

# --- the node model -------------------------------------------------------------------------------------


@dataclass(eq=False)
class Node:
    kind: str                      # "document", "element", "text", "cdata", "comment", "pi"
    name: str = ""                 # qualified name as written (element), target (pi)
    value: str = ""                # text, cdata, comment, pi data
    attrs: list[tuple[str, str]] = field(default_factory=list)   # as written, xmlns declarations included
    children: list["Node"] = field(default_factory=list)
    empty: bool = False            # written <e/>
    uri: str = ""                  # namespace of an element
    declaration: dict[str, str] | None = None   # document: version, encoding, standalone as written

    @property
    def root(self) -> "Node | None":
        return next((c for c in self.children if c.kind == "element"), None)


# --- reading ---------------------------------------------------------------------------------------------

class _Reader:
    """expat events -> Node tree, as XmlDocument.Load reads it (whitespace-only text dropped)."""

    def __init__(self, fn: str):
        self.fn = fn
        self.document = Node("document")
        self.stack = [self.document]
        self.scopes: list[dict[str, str]] = [{"xml": XML_NAMESPACE}]
        self.text: list[str] = []
        self.in_cdata = False
        self.data = b""
        p = self.parser = expat.ParserCreate(encoding="utf-8")
        p.ordered_attributes = True
        p.buffer_text = True
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.chars
        p.CommentHandler = lambda data: self.add(Node("comment", value=data))
        p.ProcessingInstructionHandler = lambda target, data: self.add(Node("pi", name=target, value=data))
        p.StartCdataSectionHandler = self.start_cdata
        p.EndCdataSectionHandler = self.end_cdata
        p.XmlDeclHandler = self.declaration
        p.StartDoctypeDeclHandler = self.doctype
        p.ExternalEntityRefHandler = lambda *args: 0

    def doctype(self, *args):
        raise Failure(f"the function '{self.fn}' was given XML with a DOCTYPE, which is not allowed")

    def declaration(self, version, encoding, standalone):
        decl = {"version": version}
        if encoding:
            decl["encoding"] = encoding
        if standalone != -1:
            decl["standalone"] = "yes" if standalone else "no"
        self.document.declaration = decl

    def flush(self):
        if self.text:
            text = "".join(self.text)
            self.text = []
            if self.in_cdata:
                self.add(Node("cdata", value=text), flush=False)
            elif text.strip(" \t\r\n"):
                self.add(Node("text", value=text), flush=False)

    def add(self, node: Node, flush: bool = True):
        if flush:
            self.flush()
        self.stack[-1].children.append(node)

    def chars(self, data):
        self.text.append(data)

    def start_cdata(self):
        self.flush()
        self.in_cdata = True

    def end_cdata(self):
        if not self.text:
            self.text.append("")
        self.flush()
        self.in_cdata = False

    def start(self, name, attrs):
        self.flush()
        if len(self.stack) == 1 and self.document.root is not None:
            raise Failure(f"the function '{self.fn}' was given XML with more than one root element")
        pairs = list(zip(attrs[::2], attrs[1::2]))
        scope = dict(self.scopes[-1])
        for key, value in pairs:
            if key == "xmlns" or key.startswith("xmlns:"):
                scope[key[6:]] = value
        prefix = name.split(":", 1)[0] if ":" in name else ""
        if prefix and prefix not in scope:
            raise Failure(f"the function '{self.fn}' was given XML where '{prefix}' is an undeclared prefix")
        for key, _ in pairs:
            if ":" in key and not key.startswith("xmlns:") and key.split(":", 1)[0] not in scope:
                raise Failure(f"the function '{self.fn}' was given XML where '{key.split(':')[0]}' is an "
                              "undeclared prefix")
        node = Node("element", name=name, attrs=pairs, uri=scope.get(prefix, ""))
        self.add(node, flush=False)
        self.stack.append(node)
        self.scopes.append(scope)
        node.empty = _ends_with_slash(self.data, self.parser.CurrentByteIndex)

    def end(self, name):
        self.flush()
        self.stack.pop()
        self.scopes.pop()

    def read(self, text: str) -> Node:
        self.data = text.encode("utf-8")
        try:
            self.parser.Parse(self.data, True)
        except expat.ExpatError as exc:
            raise Failure(f"the function '{self.fn}' was given text that is not valid XML "
                          f"({expat.ErrorString(exc.code)} at line {exc.lineno}, column {exc.offset + 1})") from None
        if self.document.root is None:
            raise Failure(f"the function '{self.fn}' was given XML without a root element")
        return self.document


def _ends_with_slash(data: bytes, start: int) -> bool:
    """Whether the start tag at ``start`` is written ``<e .../>`` (expat reports ``<e/>`` as a start and an end)."""
    quote = 0
    for i in range(start + 1, len(data)):
        c = data[i]
        if quote:
            if c == quote:
                quote = 0
        elif c in (0x22, 0x27):
            quote = c
        elif c == 0x3E:
            return data[i - 1] == 0x2F
    return False


def parse_xml(fn: str, text: str) -> XmlValue:
    document = _Reader(fn).read(text)
    return XmlValue(serialise(document), document)


def from_content(fn: str, value: dict) -> XmlValue:
    """``xml()`` / ``xpath()`` of ``{"$content-type": ..., "$content": "<base64>"}`` (an XML value that went through
    JSON, e.g. an item of an xpath() result): the content read as XML, whatever its declared type."""
    try:
        text = base64.b64decode(value["$content"], validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise Failure(f"the function '{fn}' was given content that is not base64-encoded UTF-8 text") from None
    return parse_xml(fn, text)


def _document(value: XmlValue) -> Node:
    if value._root is None:
        value._root = _Reader("xml").read(value.text)
    return value._root


# --- writing, as OuterXml ------------------------------------------------------------------------------

def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    return _escape_text(text).replace('"', "&quot;")


def serialise(node: Node, scope: dict[str, str] | None = None) -> str:
    out: list[str] = []
    _write(node, out, dict(scope) if scope is not None else {"xml": XML_NAMESPACE})
    return "".join(out)


def _write(node: Node, out: list[str], scope: dict[str, str]) -> None:
    kind = node.kind
    if kind == "document":
        if node.declaration:
            out.append("<?xml" + "".join(f' {k}="{v}"' for k, v in node.declaration.items()) + "?>")
        for child in node.children:
            _write(child, out, scope)
    elif kind == "element":
        scope = dict(scope)
        out.append("<" + node.name)
        for key, value in node.attrs:
            if key == "xmlns" or key.startswith("xmlns:"):
                scope[key[6:]] = value
            out.append(f' {key}="{_escape_attr(value)}"')
        prefix = node.name.split(":", 1)[0] if ":" in node.name else ""
        if scope.get(prefix, "") != node.uri:  # declared above the node being written: declare it here
            out.append(f' xmlns{":" + prefix if prefix else ""}="{_escape_attr(node.uri)}"')
            scope[prefix] = node.uri
        if not node.children:
            out.append(" />" if node.empty else f"></{node.name}>")
            return
        out.append(">")
        for child in node.children:
            _write(child, out, scope)
        out.append(f"</{node.name}>")
    elif kind == "text":
        out.append(_escape_text(node.value))
    elif kind == "cdata":
        out.append(f"<![CDATA[{node.value}]]>")
    elif kind == "comment":
        out.append(f"<!--{node.value}-->")
    elif kind == "pi":
        out.append(f"<?{node.name}{' ' + node.value if node.value else ''}?>")


def _scope_of(target: Node, document: Node) -> dict[str, str]:
    """The namespace declarations in force where ``target`` is (for writing it on its own)."""
    def walk(node: Node, scope: dict[str, str]):
        if node is target:
            return scope
        if node.kind == "element":
            scope = dict(scope)
            for key, value in node.attrs:
                if key == "xmlns" or key.startswith("xmlns:"):
                    scope[key[6:]] = value
        for child in node.children:
            found = walk(child, scope)
            if found is not None:
                return found
        return None
    return walk(document, {"xml": XML_NAMESPACE}) or {"xml": XML_NAMESPACE}


def _alone(node: Node, document: Node) -> XmlValue:
    """An element of ``document`` as an XML value of its own: the declarations it needs written on it."""
    scope = {"xml": XML_NAMESPACE}
    needed = _scope_of(node, document)
    copy = Node("element", name=node.name, attrs=list(node.attrs), children=node.children, empty=node.empty,
                uri=node.uri)
    declared = {k[6:] for k, _ in node.attrs if k == "xmlns" or k.startswith("xmlns:")}
    for prefix in _prefixes_used(node):
        if prefix not in declared and prefix in needed and prefix != "xml" and (prefix or needed[prefix]):
            copy.attrs.append(("xmlns:" + prefix if prefix else "xmlns", needed[prefix]))
            declared.add(prefix)
    return XmlValue(serialise(copy, scope), Node("document", children=[copy]))


def _prefixes_used(node: Node) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.kind != "element":
            continue
        names = [current.name] + [k for k, _ in current.attrs if not (k == "xmlns" or k.startswith("xmlns:"))]
        for i, name in enumerate(names):
            prefix = name.split(":", 1)[0] if ":" in name else ("" if i == 0 else None)
            if prefix is not None and prefix not in found:
                found.append(prefix)
        stack.extend(reversed(current.children))
    return found


# --- json(xml): Json.NET's SerializeXmlNode ----------------------------------------------------------

_COMMENTS = object()  # a group of comments: nothing for one, [] for more (see the module docstring)


def xml_to_json(value: XmlValue) -> dict:
    document = _document(value)
    out: dict = {}
    if document.declaration:
        out["?xml"] = {"@" + k: v for k, v in document.declaration.items()}
    _groups(document.children, out)
    return out


def _group_name(node: Node) -> str:
    return {"element": node.name, "text": "#text", "cdata": "#cdata-section", "comment": "#comment"}.get(
        node.kind, "?" + node.name)


def _groups(nodes: list[Node], out: dict) -> None:
    groups: dict[str, list[Node]] = {}
    for node in nodes:
        groups.setdefault(_group_name(node), []).append(node)
    for name, members in groups.items():
        if members[0].kind == "comment":
            if len(members) > 1:
                out[name] = []
            continue
        values = [_node_json(m) for m in members]
        out[name] = values[0] if len(values) == 1 else values


def _node_json(node: Node):
    if node.kind in ("text", "cdata", "pi"):
        return node.value
    if not node.attrs:
        if not node.children:
            return None if node.empty else ""
        if len(node.children) == 1 and node.children[0].kind == "text":
            return node.children[0].value
    out = {"@" + k: v for k, v in node.attrs}
    _groups(node.children, out)
    return out


# --- xml(json): Json.NET's DeserializeXmlNode --------------------------------------------------------

def _is_name_start(ch: str) -> bool:
    return ch == "_" or ch == ":" or unicodedata.category(ch) in ("Lu", "Ll", "Lt", "Lo", "Nl")


def _is_name_char(ch: str) -> bool:
    return _is_name_start(ch) or ch in "-." or unicodedata.category(ch) in ("Nd", "Mc", "Mn", "Lm", "Pc")


_ESCAPE_LIKE = re.compile(r"_[Xx][0-9A-Fa-f]{4}_")


def encode_name(name: str) -> str:
    """``XmlConvert.EncodeName``: every character that cannot be in a name (or start one) as ``_xHHHH_``; an
    underscore that would read as such an escape as ``_x005F_``."""
    out = []
    for i, ch in enumerate(name):
        if ch == "_" and _ESCAPE_LIKE.match(name, i):
            out.append("_x005F_")
        elif (_is_name_start(ch) if i == 0 else _is_name_char(ch)) and ch != ":":
            out.append(ch)
        elif ch == ":" and 0 < i < len(name) - 1:
            out.append(ch)
        else:
            out.append("".join(f"_x{b:04X}_" for b in _utf16_units(ch)))
    return "".join(out)


def _utf16_units(ch: str) -> list[int]:
    data = ch.encode("utf-16-be")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def _scalar_text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float:
        return format_double(value)
    return to_text(value)


def _element_name(name: str) -> str:
    local = name.split(":", 1)[1] if ":" in name else name  # a prefix without a declaration: dropped
    return encode_name(local)


def _fill(parent: Node, name: str, value) -> None:
    if type(value) is list:
        for item in value:
            _fill(parent, name, item)
        return
    element = Node("element", name=_element_name(name))
    parent.children.append(element)
    _fill_content(element, value)
    element.empty = not element.children


def _fill_content(element: Node, value) -> None:
    if type(value) is dict:
        for key, child in value.items():
            if key.startswith("@"):
                element.attrs.append((encode_name(key[1:]), _scalar_text(child)))
            elif key == "#text":
                for item in child if type(child) is list else [child]:
                    element.children.append(Node("text", value=_scalar_text(item)))
            elif key == "#cdata-section":
                for item in child if type(child) is list else [child]:
                    text = _scalar_text(item)
                    if "]]>" in text:
                        raise Failure("the function 'xml' cannot write a CDATA section that contains ']]>'")
                    element.children.append(Node("cdata", value=text))
            else:
                _fill(element, key, child)
    elif value is not None:
        element.children.append(Node("text", value=_scalar_text(value)))


def json_to_xml(obj: dict) -> XmlValue:
    if "$content" in obj:
        return from_content("xml", obj)
    document = Node("document")
    declaration = obj.get("?xml")
    if type(declaration) is dict:
        document.declaration = {k[1:]: _scalar_text(v) for k, v in declaration.items() if k.startswith("@")}
    keys = [k for k in obj if not k.startswith("?")]
    if len(keys) != 1 or type(obj[keys[0]]) is list:
        raise Failure("the function 'xml' needs an object with exactly one property (the root element) to make "
                      f"an XML document; this one has {len(keys)}")
    _fill(document, keys[0], obj[keys[0]])
    return XmlValue(serialise(document), document)


# --- xpath() -----------------------------------------------------------------------------------------

def _lxml_tree(document: Node):
    """The lxml tree of ``document`` (built from the node model, not parsed again) and lxml element -> Node."""
    from lxml import etree  # imported on first use: every command imports the functions, few call xpath()
    nodes: dict = {}

    def build(node: Node, parent):
        local = node.name.split(":", 1)[-1]
        nsmap = {(k[6:] or None): v for k, v in node.attrs if k == "xmlns" or k.startswith("xmlns:")}
        tag = f"{{{node.uri}}}{local}" if node.uri else local
        element = etree.Element(tag, nsmap=nsmap) if parent is None else etree.SubElement(parent, tag, nsmap=nsmap)
        nodes[element] = node
        for key, value in node.attrs:
            if key == "xmlns" or key.startswith("xmlns:"):
                continue
            if ":" in key:
                apfx, alocal = key.split(":", 1)
                element.set(f"{{{_uri_of(apfx, element)}}}{alocal}", value)
            else:
                element.set(key, value)
        last = None
        for child in node.children:
            if child.kind == "element":
                last = build(child, element)
            elif child.kind in ("text", "cdata"):
                if last is None:
                    element.text = (element.text or "") + child.value
                else:
                    last.tail = (last.tail or "") + child.value
            else:
                last = etree.Comment(child.value) if child.kind == "comment" else etree.PI(child.name, child.value)
                element.append(last)
        return element

    root = build(document.root, None)
    tree = root.getroottree()
    for child in document.children:  # comments and processing instructions around the root element
        if child.kind in ("comment", "pi") and child is not document.root:
            extra = etree.Comment(child.value) if child.kind == "comment" else etree.PI(child.name, child.value)
            if document.children.index(child) < document.children.index(document.root):
                root.addprevious(extra)
            else:
                root.addnext(extra)
    return tree, nodes


def _uri_of(prefix: str, element) -> str:
    if prefix == "xml":
        return XML_NAMESPACE
    return element.nsmap[prefix]


def xpath(value: XmlValue, query: str):
    import elementpath
    from elementpath import XPath1Parser
    document = _document(value)
    tree, nodes = _lxml_tree(document)
    try:
        result = elementpath.select(tree, query, parser=XPath1Parser)
    except elementpath.ElementPathError as exc:
        reason = str(exc).split("] ", 1)[-1]
        raise Failure(f"the function 'xpath' was given the query '{query}', which is not valid: {reason}") from None
    except RecursionError:
        raise Failure(f"the function 'xpath' was given the query '{query}', which is nested too deeply") from None
    if type(result) is list:
        return [_item(item, tree, nodes, document) for item in result]
    if type(result) is bool:
        return result
    if isinstance(result, (int, float)):
        number = float(result)
        return number if math.isfinite(number) else format_double(number)
    return str(result)


def _item(item, tree, nodes, document: Node):
    from lxml import etree
    if item is tree:
        return XmlValue(serialise(document), document)
    node = nodes.get(item) if isinstance(item, etree._Element) else None
    if node is not None:
        return _alone(node, document)
    if isinstance(item, (etree._Comment, etree._ProcessingInstruction)):
        return item.text or ""
    return str(item)
