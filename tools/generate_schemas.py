"""Translate the ADF REST spec (Swagger 2.0) into one JSON Schema (draft 2020-12) plus thin entry schemas.

Usage::

    python tools/generate_schemas.py [--spec DIR] [--out DIR] [--check]

``--spec`` is the folder holding ``datafactory.json`` and ``entityTypes/*.json`` (default: the vendored copy,
``vendor/adf-rest-spec``; the ARM spec of ``Microsoft.MachineLearning/webServices`` is read from the
``arm-machinelearning`` folder beside it); ``--out`` is where ``adf.schema.json``, ``adf-<kind>.schema.json`` and
``arm-webservice-<version>.schema.json`` are written (default: ``schemas/``). ``--check`` writes nothing and exits
1 when the files in ``--out`` differ from what would be generated. Not part of the installed package.

Output contract (read by the canonicalizing walker; keep in step with it):

* every spec definition is ``$defs/<SpecName>`` in ``adf.schema.json`` (all files merged into one namespace),
  every ``$ref`` is local (``#/$defs/Name``);
* vocabulary: type, properties, required, additionalProperties, items, enum, const, $ref, allOf, anyOf,
  if/then (discriminator dispatch only), minimum, maximum, minItems, maxItems, minLength, maxLength, pattern,
  description, and the annotations ``x-adfemu-dfe``, ``x-adfemu-secret``, ``x-adfemu-open-enum``,
  ``x-adfemu-discriminator``;
* a property the spec marks ``x-ms-format: dfe-<kind>`` is
  ``{"x-adfemu-dfe": kind, "description": ..., "anyOf": [LITERAL, ExpressionString, Expression]}``;
* a discriminator base ``D`` (``discriminator: P``) becomes ``D.fields`` (its own keywords, no dispatch) and
  ``D`` = ``allOf`` [``D.fields``, one ``if {P: const V} then Sub`` per transitive subtype] plus
  ``x-adfemu-discriminator: {property, mapping}``; a subtype's ``allOf`` points at its parent's ``.fields``
  and pins ``P`` to ``const V``; an intermediate subtype ``I`` (itself a parent) also gets ``I.fields``
  (its composition without the pin);
* properties referring to ``SecretBase`` (or to one of its subtypes) carry ``x-adfemu-secret: true``;
* ``enum`` whose ``x-ms-enum.modelAsString`` is true carries ``x-adfemu-open-enum: true``.

Translation details and the constructs that do not fit the contract exactly are listed by ``notes()``
and printed on stderr by ``main``.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "schemas"
SPEC_CANDIDATES = (ROOT / "vendor" / "adf-rest-spec",)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_URI = "https://adfemu.local/schemas/"
MAIN_FILE = "adf.schema.json"
MAIN_ID = BASE_URI + MAIN_FILE

# entity kind (ADF git folder name, see schemas.entities.KINDS) -> spec definition of the resource envelope
ENTRY_POINTS = {
    "pipeline": "PipelineResource",
    "linkedService": "LinkedServiceResource",
    "dataset": "DatasetResource",
    "trigger": "TriggerResource",
    "dataflow": "DataFlowResource",
    "integrationRuntime": "IntegrationRuntimeResource",
    "factory": "Factory",
    "credential": "CredentialResource",
    "managedVirtualNetwork": "ManagedVirtualNetworkResource",
    "managedPrivateEndpoint": "ManagedPrivateEndpointResource",
    "globalParameters": "GlobalParameterResource",
}

FIELDS_SUFFIX = ".fields"
EXPRESSION_STRING = "ExpressionString"
SECRET_PROSE = re.compile(r"SecureString|AzureKeyVaultSecretReference")
EXPRESSION = "Expression"
SECRET_BASE = "SecretBase"

# x-ms-format dfe-<kind> -> the JSON literal the property accepts besides an expression
DFE_LITERALS = {
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "bool": {"type": "boolean"},
    "double": {"type": "number"},
    "key-value-pairs": {"type": "object"},
    "list-string": {"type": "array", "items": {"type": "string"}},
    "object": {},
    "list-generic": {},
}

# Swagger keywords copied through unchanged (their values are not schemas)
PLAIN_KEYWORDS = ("type", "required", "enum", "minimum", "maximum", "minItems", "maxItems", "minLength",
                  "maxLength", "pattern", "description")
# Swagger / AutoRest keywords with no validation meaning here: dropped silently
DROPPED_KEYWORDS = ("readOnly", "format", "discriminator", "x-ms-discriminator-value", "x-ms-enum",
                    "x-ms-client-flatten", "x-ms-identifiers", "x-ms-azure-resource", "x-ms-external",
                    "x-ms-mutability", "x-ms-client-name", "title", "default")
# dropped too, but each occurrence is reported (it carried information the contract has no place for)
REPORTED_DROPS = ("x-nullable", "x-ms-format-element-type")


class SpecError(Exception):
    """The spec uses a construct this generator does not know how to translate."""


@dataclass
class Result:
    schema: dict
    entries: dict[str, dict]
    notes: list[str] = field(default_factory=list)
    extra: dict[str, dict] = field(default_factory=dict)  # more generated files (the ARM web service bodies)

    def files(self) -> dict[str, str]:
        """File name -> exact text to write."""
        out = {MAIN_FILE: dump(self.schema)}
        for kind, entry in self.entries.items():
            out[f"adf-{kind}.schema.json"] = dump(entry)
        for name, document in self.extra.items():
            out[name] = dump(document)
        return dict(sorted(out.items()))


def dump(document: dict) -> str:
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def default_spec_dir() -> Path | None:
    for candidate in SPEC_CANDIDATES:
        if (candidate / "datafactory.json").is_file():
            return candidate
    return None


# ---------------------------------------------------------------------------------------------------------------
# loading


def spec_files(spec_dir: Path) -> list[Path]:
    """datafactory.json first, then entityTypes/*.json by name: the order that decides name conflicts."""
    main = spec_dir / "datafactory.json"
    if not main.is_file():
        raise SpecError(f"{main} not found")
    return [main, *sorted((spec_dir / "entityTypes").glob("*.json"))]


def load_definitions(spec_dir: Path, notes: list[str]) -> tuple[dict[str, dict], dict[str, str]]:
    """All definitions by name, and the file (relative to spec_dir) each one was taken from."""
    definitions: dict[str, dict] = {}
    origin: dict[str, str] = {}
    for path in spec_files(spec_dir):
        rel = path.relative_to(spec_dir).as_posix()
        document = json.loads(path.read_text(encoding="utf-8"))
        for name, schema in document.get("definitions", {}).items():
            if name in definitions:
                if _canonical(_by_name(definitions[name])) != _canonical(_by_name(schema)):
                    notes.append(f"name conflict: definition {name!r} differs between {origin[name]} and {rel}; "
                                 f"kept the one from {origin[name]} (first in file order)")
                continue
            definitions[name] = schema
            origin[name] = rel
    return definitions, origin


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True)


def _by_name(schema):
    """``schema`` with every ref reduced to the definition name, to compare definitions from different files."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = "#/definitions/" + _ref_name(value)
            else:
                out[key] = _by_name(value)
        return out
    if isinstance(schema, list):
        return [_by_name(item) for item in schema]
    return schema


def _ref_name(ref: str) -> str:
    """Definition name a Swagger ``$ref`` points at ("../datafactory.json#/definitions/X" -> "X")."""
    _, _, fragment = ref.partition("#")
    prefix = "/definitions/"
    if not fragment.startswith(prefix) or "/" in fragment[len(prefix):]:
        raise SpecError(f"unsupported $ref {ref!r} (only refs to top-level definitions are translated)")
    return fragment[len(prefix):]


# ---------------------------------------------------------------------------------------------------------------
# translation


class Translator:
    def __init__(self, definitions: dict[str, dict], notes: list[str]):
        self.defs = definitions
        self.notes = notes
        self.parent: dict[str, str] = {}
        self.multi_parent: dict[str, list[str]] = {}
        for name, schema in definitions.items():
            for part in schema.get("allOf", []):
                if set(part) != {"$ref"}:
                    raise SpecError(f"{name}: allOf member other than a bare $ref: {part}")
            refs = [_ref_name(part["$ref"]) for part in schema.get("allOf", [])]
            for ref in refs:
                if ref not in definitions:
                    raise SpecError(f"{name}: allOf refers to unknown definition {ref!r}")
            if len(refs) == 1:
                self.parent[name] = refs[0]
            elif len(refs) > 1:
                self.multi_parent[name] = refs
        self.bases = {name for name, schema in definitions.items() if "discriminator" in schema}
        # subtype -> (root base, discriminator value)
        self.subtype: dict[str, tuple[str, str]] = {}
        for name in definitions:
            base = self._base_of(name)
            if base is not None:
                self.subtype[name] = (base, definitions[name].get("x-ms-discriminator-value", name))
        for name, refs in self.multi_parent.items():
            if any(ref in self.bases or ref in self.subtype for ref in refs):
                raise SpecError(f"{name}: several allOf parents, one of them polymorphic: {refs}")
        for name in self.bases:
            if name in self.subtype:
                raise SpecError(f"{name}: a discriminator base that is itself a subtype of {self.subtype[name][0]}")
        self.intermediates = {self.parent[name] for name in self.subtype if self.parent.get(name) in self.subtype}
        self.mapping: dict[str, dict[str, str]] = defaultdict(dict)
        for name, (base, value) in sorted(self.subtype.items()):
            if value in self.mapping[base]:
                raise SpecError(f"{base}: discriminator value {value!r} used by {self.mapping[base][value]} and {name}")
            self.mapping[base][value] = name
        secret_types = {SECRET_BASE} | {name for name, (base, _) in self.subtype.items() if base == SECRET_BASE}
        self.secret_types = secret_types
        if EXPRESSION_STRING in definitions:
            raise SpecError(f"the spec defines {EXPRESSION_STRING!r}, which this generator adds itself")
        self.uses_expressions = '"x-ms-format": "dfe-' in json.dumps(definitions)
        if self.uses_expressions and EXPRESSION not in definitions:
            raise SpecError(f"the spec lacks the {EXPRESSION!r} definition dfe-* properties refer to")

    def _base_of(self, name: str) -> str | None:
        seen = set()
        current = self.parent.get(name)
        while current is not None and current not in seen:
            seen.add(current)
            if current in self.bases:
                return current
            current = self.parent.get(current)
        return None

    # -- definitions --------------------------------------------------------------------------------------------

    def all_defs(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for name in sorted(self.defs):
            out.update(self.definition(name))
        if not self.uses_expressions:
            return out
        out[EXPRESSION_STRING] = {
            "description": "An ADF expression written as a JSON string: '@' followed by the expression "
                           "('@@' escapes a literal '@'). Added by tools/generate_schemas.py, not in the spec.",
            "type": "string",
            "pattern": "^@",
        }
        return out

    def definition(self, name: str) -> dict[str, dict]:
        schema = self.defs[name]
        where = name
        if name in self.bases:
            prop = schema["discriminator"]
            fields = self.schema(_without(schema, "discriminator"), where, top=True)
            own = fields.get("properties", {}).get(prop)
            if own is not None and set(own) - {"type", "description"}:
                # unknown discriminator values are the walker's to report (as warnings), so the base does not
                # restrict them; the known values are the dispatch mapping's keys
                values = self._enum_values(schema["properties"][prop])
                loose = {"type": "string", **({"description": own["description"]} if "description" in own else {})}
                fields["properties"] = {**fields["properties"], prop: loose}
                extra = sorted(set(values) - set(self.mapping[name]))
                self.notes.append(f"{where}.{prop}: discriminator restricted by the spec to {values}; emitted as a "
                                  f"plain string so unknown values pass"
                                  + (f" (enum values without a subtype: {extra})" if extra else ""))
            dispatch: list[dict] = [{"$ref": _local(name + FIELDS_SUFFIX)}]
            for value, sub in sorted(self.mapping[name].items()):
                dispatch.append({"if": {"type": "object", "properties": {prop: {"const": value}}, "required": [prop]},
                                 "then": {"$ref": _local(sub)}})
            dispatching = {"allOf": dispatch,
                           "x-adfemu-discriminator": {"property": prop, "mapping": dict(sorted(self.mapping[name].items()))}}
            if "description" in schema:
                dispatching["description"] = schema["description"]
            return {name: dispatching, name + FIELDS_SUFFIX: fields}
        if name in self.subtype:
            base, value = self.subtype[name]
            prop = self.defs[base]["discriminator"]
            parent = self.parent[name]
            own = self.schema(_without(schema, "allOf"), where, top=True)
            composed = {"allOf": [{"$ref": _local(parent + FIELDS_SUFFIX)}], **own}
            if name in self.intermediates:
                pinned = {"allOf": [{"$ref": _local(name + FIELDS_SUFFIX)}], "properties": {prop: {"const": value}}}
                if "description" in schema:
                    pinned["description"] = schema["description"]
                return {name: pinned, name + FIELDS_SUFFIX: composed}
            properties = dict(composed.get("properties", {}))
            if prop in properties:
                properties[prop] = {**properties[prop], "const": value}
            else:
                properties[prop] = {"const": value}
            composed["properties"] = properties
            return {name: composed}
        return {name: self.schema(schema, where, top=True)}

    def _enum_values(self, node: dict) -> list:
        while "$ref" in node:
            node = self.defs[_ref_name(node["$ref"])]
        return list(node.get("enum", []))

    # -- schemas ------------------------------------------------------------------------------------------------

    def schema(self, node: dict, where: str, top: bool = False) -> dict:
        if not isinstance(node, dict):
            raise SpecError(f"{where}: schema is not an object: {node!r}")
        fmt = node.get("x-ms-format")
        if fmt is not None:
            if not fmt.startswith("dfe-"):
                raise SpecError(f"{where}: unknown x-ms-format {fmt!r}")
            return self.dfe(node, fmt[len("dfe-"):], where)
        if "$ref" in node:
            return self.ref(node, where)
        for key in REPORTED_DROPS:
            if key in node:
                self.notes.append(f"{where}: dropped {key}: {json.dumps(node[key])}")
        unknown = set(node) - set(PLAIN_KEYWORDS) - set(DROPPED_KEYWORDS) - set(REPORTED_DROPS) - {
            "properties", "additionalProperties", "items", "allOf"}
        if unknown:
            raise SpecError(f"{where}: untranslated keywords {sorted(unknown)}")
        out: dict = {key: node[key] for key in PLAIN_KEYWORDS if key in node}
        if "enum" in node and node.get("x-ms-enum", {}).get("modelAsString"):
            out["x-adfemu-open-enum"] = True
        if "allOf" in node:
            if not top:
                raise SpecError(f"{where}: allOf below the top of a definition")
            out["allOf"] = [{"$ref": _local(_ref_name(part["$ref"]))} for part in node["allOf"]]
        if "properties" in node:
            out["properties"] = {key: self.schema(value, f"{where}.{key}")
                                 for key, value in node["properties"].items()}
            out.setdefault("type", "object")  # declared properties: Swagger means an object, never a string
        if "additionalProperties" in node:
            extra = node["additionalProperties"]
            if isinstance(extra, bool):
                out["additionalProperties"] = extra
            else:
                translated = self.schema(extra, f"{where}[*]")
                # {"type": "object"} (and anything else that reads as "any JSON value") -> true
                out["additionalProperties"] = True if _is_any(translated) else translated
        if "items" in node:
            out["items"] = self.schema(node["items"], f"{where}[]")
        if out.get("type") == "object" and not ({"properties", "additionalProperties", "allOf"} & set(node)):
            # Swagger "type: object" with nothing else declared = any JSON value (AutoRest reads it so)
            del out["type"]
            if "items" in node:
                self.notes.append(f"{where}: 'type: object' with 'items' (an array in practice): emitted without "
                                  f"'type', so any value is accepted and array items are checked")
        return out

    def ref(self, node: dict, where: str) -> dict:
        target = _ref_name(node["$ref"])
        if target not in self.defs:
            raise SpecError(f"{where}: $ref to unknown definition {target!r}")
        out: dict = {"$ref": _local(target)}
        if "description" in node:
            out["description"] = node["description"]
        if target in self.secret_types:
            out["x-adfemu-secret"] = True
        ignored = set(node) - {"$ref", "description", "type", "readOnly", "x-ms-client-flatten"}
        if ignored:
            raise SpecError(f"{where}: $ref with sibling keywords {sorted(ignored)}")
        return out

    def dfe(self, node: dict, kind: str, where: str) -> dict:
        literal = DFE_LITERALS.get(kind)
        if literal is None:
            self.notes.append(f"{where}: unknown dfe kind {kind!r}: literal accepts any JSON value")
            literal = {}
        branches = [dict(literal)]
        out: dict = {"x-adfemu-dfe": kind}
        if "description" in node:
            out["description"] = node["description"]
        if "$ref" in node:
            target = _ref_name(node["$ref"])
            if target not in self.defs:
                raise SpecError(f"{where}: $ref to unknown definition {target!r}")
            branches.append({"$ref": _local(target)})
            if target in self.secret_types:
                out["x-adfemu-secret"] = True
            self.notes.append(f"{where}: x-ms-format dfe-{kind} together with $ref {target}: "
                              f"anyOf has a 4th branch {{$ref: {target}}} after the literal")
        elif kind == "string" and SECRET_PROSE.search(node.get("description", "")):
            # "Type: string, SecureString or AzureKeyVaultSecretReference": the prose allows a secret object
            # (the spec's own LinkedServices_Create example sends one), the Swagger type does not say so.
            branches.append({"$ref": _local("SecretBase")})
        if node.get("type") not in (None, "object", DFE_LITERALS.get(kind, {}).get("type")):
            self.notes.append(f"{where}: dfe-{kind} declared with type {node['type']!r}: type ignored")
        for key in ("additionalProperties", "items", "enum", "properties"):
            if key == "additionalProperties" and key in node and _is_any(self.schema(node[key], where + "[*]")):
                continue  # {"type": "object"}: any value, which the {"type": "object"} literal already allows
            if key in node:
                self.notes.append(f"{where}: dfe-{kind} with {key} {json.dumps(node[key], sort_keys=True)}: "
                                  f"dropped (literal is {json.dumps(literal)})")
        for key in REPORTED_DROPS:
            if key in node:
                self.notes.append(f"{where}: dropped {key}: {json.dumps(node[key])}")
        unknown = set(node) - {"type", "description", "x-ms-format", "$ref", "additionalProperties", "items",
                               "enum", "properties", *DROPPED_KEYWORDS, *REPORTED_DROPS}
        if unknown:
            raise SpecError(f"{where}: untranslated keywords next to x-ms-format {sorted(unknown)}")
        branches += [{"$ref": _local(EXPRESSION_STRING)}, {"$ref": _local(EXPRESSION)}]
        out["anyOf"] = branches
        return out


def _local(name: str) -> str:
    return "#/$defs/" + name


def _without(schema: dict, *keys: str) -> dict:
    return {key: value for key, value in schema.items() if key not in keys}


def _is_any(schema: dict) -> bool:
    return not (set(schema) - {"description"})


# ---------------------------------------------------------------------------------------------------------------


def generate(spec_dir: Path) -> Result:
    notes: list[str] = []
    definitions, _origin = load_definitions(spec_dir, notes)
    translator = Translator(definitions, notes)
    defs = translator.all_defs()
    info = json.loads((spec_dir / "datafactory.json").read_text(encoding="utf-8")).get("info", {})
    schema = {
        "$schema": SCHEMA_DIALECT,
        "$id": MAIN_ID,
        "description": f"GENERATED by `python tools/generate_schemas.py` from the Azure Data Factory REST spec "
                       f"({info.get('title', 'DataFactoryManagementClient')}, api-version "
                       f"{info.get('version', '?')}: datafactory.json + entityTypes/*.json). Do not edit.",
        "$defs": defs,
    }
    entries = {}
    for kind, target in ENTRY_POINTS.items():
        if target not in defs:
            raise SpecError(f"entry point {kind}: definition {target!r} not in the spec")
        entries[kind] = {"$schema": SCHEMA_DIALECT, "$id": f"{BASE_URI}adf-{kind}.schema.json",
                         "$ref": f"{MAIN_FILE}#/$defs/{target}"}
    _check_refs(schema)
    extra = arm_webservice_schemas(spec_dir.parent / "arm-machinelearning", notes)
    return Result(schema, entries, sorted(set(notes)), extra)


def arm_webservice_schemas(arm_dir: Path, notes: list[str]) -> dict[str, dict]:
    """``Microsoft.MachineLearning/webServices`` bodies per api-version (the ARM flavour of Update Resource),
    translated by the same rules; one self-contained file per version, entry ``WebService``."""
    out: dict[str, dict] = {}
    for spec in sorted(arm_dir.glob("*/webservices.json")):
        version = spec.parent.name
        document = json.loads(spec.read_text(encoding="utf-8"))
        defs = _null_as_absent(Translator(document.get("definitions", {}), notes).all_defs())
        name = f"arm-webservice-{version}.schema.json"
        schema = {"$schema": SCHEMA_DIALECT, "$id": BASE_URI + name,
                  "description": f"GENERATED by `python tools/generate_schemas.py` from the ARM spec of "
                                 f"Microsoft.MachineLearning/webServices, api-version {version}. Do not edit.",
                  "$ref": "#/$defs/WebService", "$defs": defs}
        _check_refs(schema)
        out[name] = schema
    return out


def _null_as_absent(defs: dict) -> dict:
    """ARM bodies carry ``null`` for optional properties (the spec's own PUT example does): allow it."""
    return {name: _nullable_schema(schema) for name, schema in defs.items()}


def _nullable_schema(schema):
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in ("allOf", "anyOf"):
        if key in out:
            out[key] = [_nullable_schema(part) for part in out[key]]
    for key in ("items", "additionalProperties", "then"):
        if isinstance(out.get(key), dict):
            out[key] = _nullable_schema(out[key])
    if isinstance(out.get("properties"), dict):
        required = set(out.get("required", []))
        out["properties"] = {name: _nullable_schema(sub) if name in required
                             else {"anyOf": [_nullable_schema(sub), {"type": "null"}]}
                             for name, sub in out["properties"].items()}
    return out


def _check_refs(schema: dict) -> None:
    defs = schema["$defs"]

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref is not None and (not ref.startswith("#/$defs/") or ref[len("#/$defs/"):] not in defs):
                raise SpecError(f"dangling $ref {ref!r}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(defs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/generate_schemas.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=None, help="folder with datafactory.json and entityTypes/")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the output is stale")
    parser.add_argument("--quiet", action="store_true", help="do not print translation notes")
    args = parser.parse_args(argv)
    spec_dir = args.spec or default_spec_dir()
    if spec_dir is None:
        parser.error("spec folder not found; looked in: " + ", ".join(str(c) for c in SPEC_CANDIDATES))
    try:
        result = generate(spec_dir)
    except SpecError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
    stale = []
    for name, text in result.files().items():
        path = args.out / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            stale.append(name)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if args.check:
        if stale:
            print("stale: " + ", ".join(stale) + " (run `python tools/generate_schemas.py`)", file=sys.stderr)
            return 1
        return 0
    print(f"{len(stale)} file(s) written to {args.out}" if stale else f"up to date: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
