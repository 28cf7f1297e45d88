"""ADF's leniency, reproduced: canonicalize a definition against the schema and say what changed.

ADF deserialises with case-insensitive member matching and tolerates values the spec's
schema would reject. ``canonicalize`` walks a document alongside the generated schema
(``adf.schema.json``, see ``tools/generate_schemas.py`` for its vocabulary) and returns a copy with
spec spelling, plus one warning per leniency used, each at the JSON pointer where the value
is written:

- property names matched case-insensitively (``FilePath -> filePath``);
- enum and discriminator values matched case-insensitively (``string -> String``), and the
  aliases ``Boolean -> Bool``, ``Integer -> Int``; parameter and variable types spelt as ADF Studio writes them
  (``string``, ``Boolean``) are read without a warning;
- numbers and booleans written as strings where a number or boolean is expected;
- a plain string where a secret object is expected (``apiKey``): read as a SecureString;
- ``minimum``/``maximum`` not enforced (``retryIntervalInSeconds: 5``);
- unknown discriminator values (an unknown activity or linked-service type).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from . import pointers

ALIASES = {"boolean": "Bool", "integer": "Int"}


@dataclass
class Note:
    pointer: str   # where the value is written (in the document as given)
    code: str
    message: str
    hint: str | None = None


@dataclass
class Canonical:
    value: Any
    notes: list[Note] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)  # canonical pointer of a renamed key -> written key
    type_notes: list[Note] = field(default_factory=list)  # discriminator values unknown or matched ignoring case
    recased: dict[int, dict[str, str]] = field(default_factory=dict, repr=False)  # id(object) -> key -> spec value

    def written_pointer(self, canonical_pointer: str) -> str:
        """Map a pointer into the canonical document back to the document as written."""
        if not self.renames:
            return canonical_pointer
        out, prefix = "", ""
        for segment in canonical_pointer.split("/")[1:]:
            prefix += "/" + segment
            out += "/" + _escape(self.renames.get(prefix, _unescape(segment)))
        return out


_escape = pointers.escape
_unescape = pointers.unescape


@dataclass
class _Plan:
    """What a set of facets says about a value, computed once per set (the walk meets the same few hundred sets
    tens of thousands of times)."""
    secret: bool
    dfe: str | None
    items: dict | None
    declared: dict[str, dict]
    lower: dict[str, str]
    extra: dict | None
    enums: list[dict]
    wanted: set[str]
    bounded: list[dict]


def _plan(facets: list[dict]) -> _Plan:
    declared: dict[str, dict] = {}
    extra: dict | None = None
    for facet in facets:
        declared.update(facet.get("properties", {}))
        if isinstance(facet.get("additionalProperties"), dict):
            extra = facet["additionalProperties"]
    return _Plan(
        secret=any(f.get("x-adfemu-secret") for f in facets),
        dfe=next((f["x-adfemu-dfe"] for f in facets if "x-adfemu-dfe" in f), None),
        items=next((f["items"] for f in facets if isinstance(f.get("items"), dict)), None),
        declared=declared, lower={name.lower(): name for name in declared}, extra=extra,
        enums=[f for f in facets if "enum" in f],
        wanted={f.get("type") for f in facets} & {"integer", "number", "boolean"},
        bounded=[f for f in facets if f.get("minimum") is not None or f.get("maximum") is not None])


class Walker:
    def __init__(self, root: dict):
        self.defs = root["$defs"]
        self._static_cache: dict[int, list[dict]] = {}
        self._dispatching: dict[int, bool] = {}     # schema id -> whether a facet of it dispatches on a value
        self._plans: dict[tuple[int, ...], _Plan] = {}
        self._schema_plans: dict[int, _Plan] = {}
        self._keep: list[dict] = []

    def canonicalize(self, schema: dict, document: Any) -> Canonical:
        """The canonical copy of ``document`` (which is not changed): walked parts are rebuilt, the rest copied."""
        result = Canonical(document)
        result.value = self._walk(schema, document, "", "", result)
        return result

    # --- schema resolution ------------------------------------------------------------------------

    def _facets(self, schema: dict, value: Any, written: str, result: Canonical) -> list[dict]:
        """Every subschema that applies to ``value``: $ref and allOf flattened, discriminators dispatched."""
        dispatching = self._dispatching.get(id(schema))
        if dispatching is None:
            dispatching = any("x-adfemu-discriminator" in f for f in self._static(schema))
            self._dispatching[id(schema)] = dispatching
        if not dispatching or not isinstance(value, dict):
            return self._static(schema)  # no discriminator to dispatch: the static facets, as computed below
        out: list[dict] = []
        seen: set[int] = set()
        pending = [schema]
        while pending:
            for facet in self._static(pending.pop()):
                if id(facet) in seen:
                    continue
                seen.add(id(facet))
                out.append(facet)
                disc = facet.get("x-adfemu-discriminator")
                if disc and isinstance(value, dict):
                    target = self._dispatch(disc, value, written, result)
                    if target:
                        pending.append(self.defs[target])
        return out

    def _static(self, schema: dict) -> list[dict]:
        """The subschemas ``schema`` always brings ($ref and allOf, not the discriminated ones), cached: the
        walk asks for the same few hundred schemas thousands of times."""
        cached = self._static_cache.get(id(schema))
        if cached is not None:
            return cached
        out: list[dict] = []
        seen: set[int] = set()
        stack = [schema]
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            out.append(current)
            if "$ref" in current:
                stack.append(self.defs[current["$ref"].rsplit("/", 1)[-1]])
            stack.extend(part for part in current.get("allOf", []) if "if" not in part)  # dispatch: _facets
        self._static_cache[id(schema)] = out
        self._keep.append(schema)  # ids stay valid while the schema lives
        return out

    def _dispatch(self, disc: dict, value: dict, written: str, result: Canonical) -> str | None:
        prop = disc["property"]
        key = prop if prop in value else next((k for k in value if k.lower() == prop.lower()), None)
        if key is None or not isinstance(value[key], str):
            return None
        given = result.recased.get(id(value), {}).get(key, value[key])
        if given in disc["mapping"]:
            return disc["mapping"][given]
        for known, target in disc["mapping"].items():
            if known.lower() == given.lower():
                result.recased.setdefault(id(value), {})[key] = known  # the canonical copy gets the spec's value
                result.type_notes.append(Note(f"{written}/{_escape(key)}", "ADF-W-TYPE-CASE",
                                              f"{prop} '{given}' read as '{known}' (matched case-insensitively)",
                                              hint=f"write '{known}'"))
                return target
        result.type_notes.append(Note(f"{written}/{_escape(key)}", "ADF-W-UNKNOWN-TYPE",
                                         f"unknown {prop} '{given}': not in the ADF spec, so it is not checked"))
        return None

    # --- the walk ---------------------------------------------------------------------------------

    def _plan_of(self, facets: list[dict]) -> _Plan:
        key = tuple(map(id, facets))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _plan(facets)
            self._keep.extend(facets)  # ids stay valid while the facets live
        return plan

    def _walk(self, schema: dict, value: Any, canonical: str, written: str, result: Canonical) -> Any:
        plan = self._schema_plans.get(id(schema))  # a schema without discriminators: its plan is always the same
        if plan is None:
            facets = self._facets(schema, value, written, result)
            plan = self._plan_of(facets)
            if not self._dispatching[id(schema)]:
                self._schema_plans[id(schema)] = plan
        if plan.secret and isinstance(value, str):
            result.notes.append(Note(written, "ADF-W-CLEAR-SECRET",
                                     "a secret is written in clear text; it is read as a SecureString",
                                     hint='write {"type": "SecureString", "value": "..."} or an AzureKeyVaultSecret'))
            return {"type": "SecureString", "value": value}
        if plan.dfe is not None:
            return self._dfe(plan.dfe, value, written, result)
        if isinstance(value, dict):
            return self._object(plan, value, canonical, written, result)
        if isinstance(value, list):
            if plan.items is not None:
                items = plan.items
                return [self._walk(items, v, f"{canonical}/{i}", f"{written}/{i}", result) for i, v in enumerate(value)]
            return _copy(value)
        return self._scalar(plan, value, written, result)

    def _object(self, plan: _Plan, value: dict, canonical: str, written: str, result: Canonical) -> dict:
        declared, lower, extra = plan.declared, plan.lower, plan.extra
        recased = result.recased.get(id(value))
        out: dict = {}
        for key, item in value.items():
            if recased and key in recased:
                item = recased[key]
            name = key
            if key not in declared and key.lower() in lower:
                name = lower[key.lower()]
                if name in value:  # both spellings present: keep the spec's, leave this one as an extra
                    name = key
                else:
                    result.notes.append(Note(f"{written}/{_escape(key)}", "ADF-W-NAME-CASE", f"{key} -> {name}",
                                             hint=f"spell it '{name}' as the spec does"))
                    result.renames[f"{canonical}/{_escape(name)}"] = key
            sub = declared.get(name, extra)
            if sub is None:
                out[name] = _copy(item)
                continue
            if "~" in key or "/" in key:
                child_c, child_w = f"{canonical}/{_escape(name)}", f"{written}/{_escape(key)}"
            else:
                child_c = f"{canonical}/{name}" if name is key else f"{canonical}/{_escape(name)}"
                child_w = f"{written}/{key}"
            out[name] = self._walk(sub, item, child_c, child_w, result)
        return out

    def _scalar(self, plan: _Plan, value: Any, written: str, result: Canonical) -> Any:
        if isinstance(value, str):
            for facet in plan.enums:
                if value not in facet["enum"]:
                    match = next((e for e in facet["enum"] if isinstance(e, str) and e.lower() == value.lower()), None)
                    match = match or (ALIASES.get(value.lower()) if ALIASES.get(value.lower()) in facet["enum"] else None)
                    if match:
                        if not _as_studio_writes(facet, value, match):
                            result.notes.append(Note(written, "ADF-W-ENUM-CASE", f"'{value}' read as '{match}'",
                                                     hint=f"write '{match}'"))
                        return match
            if plan.wanted:
                converted = _convert(value, plan.wanted)
                if converted is not None:
                    result.notes.append(Note(written, "ADF-W-STRING-VALUE", f"'{value}' read as {converted!r}",
                                             hint="write the value without quotes"))
                    value = converted
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            for facet in plan.bounded:
                low, high = facet.get("minimum"), facet.get("maximum")
                if low is not None and value < low or high is not None and value > high:
                    result.notes.append(Note(written, "ADF-W-RANGE",
                                             f"{value} is outside the spec's range [{low if low is not None else ''}"
                                             f", {high if high is not None else ''}]; ADF accepts it"))
        return value

    def _dfe(self, kind: str, value: Any, written: str, result: Canonical) -> Any:
        """An expression-capable property: the literal, an '@' string or an Expression object."""
        if isinstance(value, str) and kind in ("int", "bool", "double"):
            if value.startswith("@"):
                return value
            converted = _convert(value, {"int": {"integer"}, "bool": {"boolean"}, "double": {"number"}}[kind])
            if converted is not None:
                result.notes.append(Note(written, "ADF-W-STRING-VALUE", f"'{value}' read as {converted!r}",
                                         hint="write the value without quotes"))
                return converted
        if isinstance(value, dict) and isinstance(value.get("type"), str) and value["type"].lower() == "expression" \
                and value["type"] != "Expression":
            result.notes.append(Note(f"{written}/type", "ADF-W-ENUM-CASE", f"'{value['type']}' read as 'Expression'"))
            value = dict(value, type="Expression")
        return _copy(value)


def _as_studio_writes(facet: dict, value: str, match: str) -> bool:
    """A parameter, variable or global-parameter type as ADF Studio itself writes it: all lower case (``string``,
    ``object``, ``int``: 309 of the corpus's 375 warnings were these) or the UI's ``Boolean`` / ``Integer`` aliases.
    Nothing for the user to act on, so no warning; other spellings (``STRING``) still get one."""
    if not facet.get("x-adfemu-open-enum") or not {"String", "Array"} <= set(facet["enum"]):
        return False  # only the type enums of ParameterSpecification, VariableSpecification, GlobalParameter...
    return value == match.lower() or value in ("Boolean", "Integer")


def _copy(value: Any) -> Any:
    """A copy of a JSON value (what ``copy.deepcopy`` does for JSON, several times faster)."""
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    return value


def _convert(text: str, wanted: set[str]) -> Any:
    stripped = text.strip()
    if "boolean" in wanted and stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    if "integer" in wanted:
        try:
            return int(stripped)
        except ValueError:
            pass
    if "number" in wanted:
        try:
            return float(stripped)
        except ValueError:
            pass
    return None
