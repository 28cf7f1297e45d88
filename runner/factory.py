"""Load ADF factories from disk: git-layout folders, ARM template exports, or loose entity files.

``load_paths(paths) -> list[LoadedFactory]`` (``LoadedFactory`` is a ``schemas.entities.Factory`` with
two extra attributes, see below). Each PATH may be:

* a **factory folder** in ADF git layout: a folder that directly contains at least one *kind folder*
  (``pipeline/``, ``linkedService/``, ``dataset/``, ``trigger/``, ``dataflow/``, ``integrationRuntime/``,
  ``factory/``, ``credential/``, ``managedVirtualNetwork/``; names matched case-insensitively). The
  ``*.json`` files directly inside a kind folder are its entities; under ``managedVirtualNetwork/`` the
  files directly inside (``default.json``) are managed virtual networks and the files in any
  ``managedPrivateEndpoint/`` folder below it (``default/managedPrivateEndpoint/x.json``) are managed
  private endpoints. Files at the root (``publish_config.json``, ``arm-template-parameters-definition.json``,
  READMEs, ...) and sub-folders of the other kind folders are not read.
* a folder with **several factory roots** below it (a repository, the corpus folder): every folder
  below it (itself included) that is a root becomes its own factory, in path order; files named
  ``ARMTemplateForFactory.json`` found on the way are loaded as ARM templates (one factory each).
  Folders whose name starts with ``.`` and ``node_modules`` are not searched, and neither are the
  kind folders of a root (a root inside a kind folder would be an entity folder of its parent).
  A root whose kind folders hold no ``.json`` file is not a factory.
* an **ARM template** (a JSON file whose ``$schema`` contains ``deploymentTemplate`` and that has a
  ``resources`` array): every ``Microsoft.DataFactory/factories/<type>`` resource becomes an entity with
  ``pointer_prefix="/resources/<i>"`` and ``document`` = the resource object; a
  ``Microsoft.DataFactory/factories`` resource becomes the ``factory`` entity. Other resource types are
  skipped. Names: ``[concat(parameters('factoryName'), '/x')]`` and plain ``factory/x`` give ``x`` (for
  a managed private endpoint ``factory/default/pe`` gives ``pe``); ``[parameters('factoryName')]`` gives
  the parameter's ``defaultValue``. The whole template is one factory.
* a single **entity file**: its kind comes from its parent folder when that is a kind folder, else from
  its shape (``guess_kind``); ``"unknown"`` when unsure (the loader adds no finding for it: the
  validator, ``schemas.adf``, reports such entities as ``ADF-W-UNKNOWN-KIND``). All single files of one
  call form one factory.

Entity names: the file's ``"name"`` field when it is a non-empty string, else the file stem.

Ignored files (names compared case-insensitively): in folders, every name not ending in ``.json``;
everywhere, also when named explicitly, ``publish_config.json``, ``arm-template-parameters-definition.json``,
``ARMTemplateParametersForFactory.json`` and other ``*parameters-definition*.json`` /
``*ParametersForFactory*.json`` files, and a named JSON file whose ``$schema`` is an ARM
``deploymentParameters`` document (if nothing else is left, that is a ``LoadError``). A file named
explicitly is read whatever its extension.

Problems:
* ``LoadError(path, message)`` (one-line ``str``) for a PATH that cannot be used at all: missing, a
  folder without any factory, an explicitly named file that is empty / not JSON / undecodable / over
  4 MB (``MAX_FILE_BYTES``; not read) / not a JSON object / an ARM parameters file, and a folder in
  which not a single entity could be read.
* Inside a folder, one bad file does not hide the others: it becomes an ``ADF-E-JSON`` error finding
  (with line and column when known) on ``factory.findings`` and loading goes on.
* Warnings from ``runner.jsontext`` (``ADF-W-JSON-CONTROL-CHAR``, ``ADF-W-JSON-DUPLICATE-KEY``) go to
  ``factory.findings`` as well.

``LoadedFactory`` adds to ``Factory``:
* ``positions: dict[str, jsontext.Parsed]`` — for every file read, keyed by the ``source`` string used in
  its entities and findings; ``factory.positions[source].position(pointer)`` gives ``(line, column)``;
  ``factory.locate(source, pointer)`` does the same and returns ``None`` for an unknown source.
* ``layout``: ``"git"``, ``"arm"`` or ``"files"``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from adfemu.schemas.entities import PLACEHOLDER, Entity, Factory, Finding

from . import jsontext
from .jsontext import JsonTextError, Parsed

__all__ = ["load_paths", "load_factory_folder", "load_arm_template", "find_roots", "guess_kind",
           "arm_entity_name", "LoadError", "LoadedFactory", "KIND_FOLDERS", "ARM_TYPES", "MAX_FILE_BYTES",
           "JSON_ERROR_CODE", "is_ignored_file"]

MAX_FILE_BYTES = 4 * 1024 * 1024
JSON_ERROR_CODE = "ADF-E-JSON"

# git folder name (lower case) -> entity kind
KIND_FOLDERS = {
    "pipeline": "pipeline", "linkedservice": "linkedService", "dataset": "dataset", "trigger": "trigger",
    "dataflow": "dataflow", "integrationruntime": "integrationRuntime", "factory": "factory",
    "credential": "credential", "managedvirtualnetwork": "managedVirtualNetwork",
}
_PRIVATE_ENDPOINT_FOLDER = "managedprivateendpoint"

# ARM resource type after "Microsoft.DataFactory/factories" (lower case) -> entity kind
ARM_TYPES = {
    "": "factory",
    "pipelines": "pipeline", "linkedservices": "linkedService", "datasets": "dataset", "triggers": "trigger",
    "dataflows": "dataflow", "integrationruntimes": "integrationRuntime", "globalparameters": "globalParameters",
    "managedvirtualnetworks": "managedVirtualNetwork",
    "managedvirtualnetworks/managedprivateendpoints": "managedPrivateEndpoint",
    "credentials": "credential",
}
_ARM_FACTORY_TYPE = "microsoft.datafactory/factories"

_IGNORED_NAMES = {"publish_config.json", "arm-template-parameters-definition.json",
                  "armtemplateparametersforfactory.json"}
_IGNORED_PATTERN = re.compile(r"parameters-?definition|parametersforfactory", re.IGNORECASE)
_ARM_TEMPLATE_NAME = "armtemplateforfactory.json"
_SKIPPED_DIRS = {"node_modules"}


class LoadError(Exception):
    """A path that cannot be loaded at all. ``str()`` is one line: ``path: message``."""

    def __init__(self, path: str, message: str):
        self.path = str(path)
        self.message = " ".join(str(message).split())
        super().__init__(f"{self.path}: {self.message}")


@dataclass
class LoadedFactory(Factory):
    """A ``Factory`` plus where its files' values are (``positions``) and how it was stored (``layout``)."""
    positions: dict[str, Parsed] = field(default_factory=dict)
    layout: str = "git"

    def locate(self, source: str, pointer: str) -> tuple[int, int] | None:
        parsed = self.positions.get(source)
        return parsed.position(pointer) if parsed is not None else None


class _FileProblem(Exception):
    """One file could not be read; carries the finding-ready message and position."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = " ".join(message.split())
        self.line = line
        self.column = column

    def finding(self, source: str) -> Finding:
        return Finding(source, "", "error", JSON_ERROR_CODE, self.message, line=self.line, column=self.column,
                       hint=_hint(self.message))


def _hint(message: str) -> str | None:
    if "too large" in message:
        return None
    if "byte-order mark" in message or "UTF-8" in message:
        return "save the file as UTF-8"
    if "empty" in message:
        return "delete the file or give it a JSON object"
    return None


def is_ignored_file(name: str) -> bool:
    """True for files that are never entities (see the module docstring)."""
    low = name.lower()
    return (not low.endswith(".json")) or low in _IGNORED_NAMES or bool(_IGNORED_PATTERN.search(low))


def _read(path: str) -> Parsed:
    """Read one file into a ``Parsed``; raise ``_FileProblem`` with a one-line message."""
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise _FileProblem(f"cannot read: {e.strerror or e}") from None
    if size > MAX_FILE_BYTES:
        raise _FileProblem(f"too large: {size} bytes (the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB); "
                           f"not read")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise _FileProblem(f"cannot read: {e.strerror or e}") from None
    if not data.strip():
        raise _FileProblem("empty file" if not data else "empty file (only whitespace)")
    try:
        text = jsontext.decode(data, path)
        if not text.strip(" \t\r\n\ufeff"):
            raise _FileProblem("empty file (only whitespace)")
        return jsontext.parse(text, path)
    except JsonTextError as e:
        raise _FileProblem(f"not JSON: {e.message} (line {e.line}, column {e.column})", e.line, e.column) from None


def _schema(doc: Any) -> str:
    if isinstance(doc, dict) and isinstance(doc.get("$schema"), str):
        return doc["$schema"].lower()
    return ""


def is_arm_template(doc: Any) -> bool:
    return "deploymenttemplate" in _schema(doc) and isinstance(doc.get("resources"), list)


def is_arm_parameters(doc: Any) -> bool:
    return "deploymentparameters" in _schema(doc)


# ---------------------------------------------------------------------------------------------- kinds

_TRIGGER_TYPES = re.compile(r"trigger$", re.IGNORECASE)
_DATAFLOW_TYPES = {"mappingdataflow", "wranglingdataflow", "flowlet"}
_IR_TYPES = {"managed", "selfhosted"}
_CREDENTIAL_TYPES = {"managedidentity", "serviceprincipal"}
_FACTORY_PROPERTIES = {"globalparameters", "globalconfigurations", "repoconfiguration", "publicnetworkaccess",
                       "encryption", "purviewconfiguration"}


def guess_kind(doc: Any) -> str:
    """Best-effort entity kind of a git-style entity document from its shape; ``"unknown"`` when unsure.

    Rules, first match wins: an ARM ``type`` field (``Microsoft.DataFactory/factories/pipelines`` ...);
    ``properties.activities`` → pipeline; ``properties.pipelines`` / ``properties.pipeline`` or a type
    ending in ``Trigger`` → trigger; ``properties.linkedServiceName`` → dataset; a data-flow type
    (``MappingDataFlow``, ``WranglingDataFlow``, ``Flowlet``) → dataflow; ``Managed`` / ``SelfHosted`` →
    integrationRuntime; ``ManagedIdentity`` / ``ServicePrincipal`` → credential;
    ``properties.privateLinkResourceId`` / ``groupId`` → managedPrivateEndpoint; factory-level
    properties (``globalParameters``, ``globalConfigurations``, ...) or a top-level ``location`` /
    ``identity`` → factory; ``properties.typeProperties`` with a ``type`` → linkedService."""
    if not isinstance(doc, dict):
        return "unknown"
    declared = doc.get("type")
    if isinstance(declared, str) and declared.lower().startswith(_ARM_FACTORY_TYPE):
        kind = ARM_TYPES.get(declared.lower()[len(_ARM_FACTORY_TYPE):].strip("/"))
        if kind:
            return kind
    props = doc.get("properties")
    if not isinstance(props, dict):
        return "factory" if ("location" in doc or "identity" in doc) else "unknown"
    ptype = props.get("type") if isinstance(props.get("type"), str) else ""
    if "activities" in props:
        return "pipeline"
    if "pipelines" in props or "pipeline" in props or _TRIGGER_TYPES.search(ptype):
        return "trigger"
    if "linkedServiceName" in props:
        return "dataset"
    if ptype.lower() in _DATAFLOW_TYPES:
        return "dataflow"
    if ptype.lower() in _IR_TYPES:
        return "integrationRuntime"
    if ptype.lower() in _CREDENTIAL_TYPES:
        return "credential"
    if "privateLinkResourceId" in props or "groupId" in props:
        return "managedPrivateEndpoint"
    if {k.lower() for k in props} & _FACTORY_PROPERTIES or "location" in doc or "identity" in doc:
        return "factory"
    if ptype and "typeProperties" in props:
        return "linkedService"
    return "unknown"


def _entity_name(doc: Any, path: str) -> str:
    """The ``name`` field; but a file named with a ``{placeholder}`` is a template whose file name is its
    identity (the field inside is filled in at deployment)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    name = doc.get("name") if isinstance(doc, dict) else None
    if PLACEHOLDER.search(stem) or not (isinstance(name, str) and name.strip()):
        return stem
    return name


# ---------------------------------------------------------------------------------------------- git layout

def _kind_dirs(folder: str) -> list[tuple[str, str]]:
    """(kind, path) of the kind folders directly inside ``folder``, sorted by name."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [(KIND_FOLDERS[n.lower()], os.path.join(folder, n)) for n in names
            if n.lower() in KIND_FOLDERS and os.path.isdir(os.path.join(folder, n))]


def _json_files(folder: str) -> list[str]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names
            if not is_ignored_file(n) and os.path.isfile(os.path.join(folder, n))]


def _entity_files(root: str) -> list[tuple[str, str]]:
    """(kind, file) of every entity file of a git-layout root, in folder then file-name order."""
    files: list[tuple[str, str]] = []
    for kind, folder in _kind_dirs(root):
        if kind != "managedVirtualNetwork":
            files += [(kind, f) for f in _json_files(folder)]
            continue
        for dirpath, dirnames, _ in os.walk(folder):
            dirnames.sort()
            rel = os.path.relpath(dirpath, folder)
            parts = [] if rel == "." else rel.lower().split(os.sep)
            if not parts:
                files += [(kind, f) for f in _json_files(dirpath)]
            elif _PRIVATE_ENDPOINT_FOLDER in parts:
                files += [("managedPrivateEndpoint", f) for f in _json_files(dirpath)]
    return files


def find_roots(folder: str) -> list[tuple[str, str]]:
    """Factories below ``folder`` (itself included): ``("git", root)`` / ``("arm", template)``, in path order."""
    found: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIPPED_DIRS)
        if _kind_dirs(dirpath):
            if _entity_files(dirpath):
                found.append(("git", dirpath))
            dirnames[:] = [d for d in dirnames if d.lower() not in KIND_FOLDERS]
        for name in sorted(filenames):
            if name.lower() == _ARM_TEMPLATE_NAME:
                found.append(("arm", os.path.join(dirpath, name)))
    return found


def _add_warnings(factory: LoadedFactory, parsed: Parsed) -> None:
    factory.findings.extend(parsed.warnings)


def load_factory_folder(root: str) -> LoadedFactory:
    """One git-layout root. Bad files become ``ADF-E-JSON`` findings (never raises for them)."""
    factory = LoadedFactory(root=root, layout="git")
    for kind, path in _entity_files(root):
        try:
            parsed = _read(path)
        except _FileProblem as problem:
            factory.findings.append(problem.finding(path))
            continue
        factory.positions[path] = parsed
        _add_warnings(factory, parsed)
        doc = parsed.value
        if not isinstance(doc, dict):
            factory.findings.append(Finding(path, "", "error", JSON_ERROR_CODE,
                                            f"expected a JSON object (an ADF {kind}), found {_json_type(doc)}",
                                            line=parsed.position("")[0], column=parsed.position("")[1]))
            continue
        factory.entities.append(Entity(kind=kind, name=_entity_name(doc, path), document=doc, source=path))
    return factory


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


# ---------------------------------------------------------------------------------------------- ARM

_ARM_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_ARM_PARAMETER = re.compile(r"^\[\s*parameters\s*\(\s*'((?:[^']|'')*)'\s*\)\s*\]$", re.IGNORECASE)


def arm_entity_name(name: Any, kind: str = "", parameters: dict | None = None) -> str:
    """Resource name without the factory part: ``[concat(parameters('factoryName'), '/x')]``,
    ``[format('{0}/x', parameters('factoryName'))]`` and ``factory/x`` → ``x``; for a managed private
    endpoint (``factory/default/pe``) the last segment; ``[parameters('p')]`` → p's ``defaultValue``."""
    if not isinstance(name, str):
        return ""
    text = name.strip()
    if text.startswith("[") and not text.startswith("[["):
        param = _ARM_PARAMETER.match(text)
        if param:
            spec = (parameters or {}).get(param.group(1).replace("''", "'"))
            default = spec.get("defaultValue") if isinstance(spec, dict) else None
            return default if isinstance(default, str) else param.group(1)
        literals = [m.group(1).replace("''", "'") for m in _ARM_LITERAL.finditer(text)]
        slashed = [lit for lit in literals if "/" in lit]
        text = slashed[0] if slashed else (literals[-1] if literals else text)
        if text.startswith("{0}"):
            text = text[3:]
        text = text.lstrip("/")
        if not slashed:
            return text
    else:
        if text.startswith("[["):
            text = text[1:]
        text = text.split("/", 1)[1] if "/" in text else text
    if kind == "managedPrivateEndpoint":
        text = text.rsplit("/", 1)[-1]
    return text


def load_arm_template(path: str, parsed: Parsed) -> LoadedFactory:
    factory = LoadedFactory(root=path, layout="arm")
    factory.positions[path] = parsed
    _add_warnings(factory, parsed)
    template = parsed.value
    parameters = template.get("parameters") if isinstance(template.get("parameters"), dict) else {}
    for i, resource in enumerate(template["resources"]):
        if not isinstance(resource, dict) or not isinstance(resource.get("type"), str):
            continue
        rtype = resource["type"].strip().lower()
        if not rtype.startswith(_ARM_FACTORY_TYPE):
            continue
        kind = ARM_TYPES.get(rtype[len(_ARM_FACTORY_TYPE):].strip("/"), "unknown")
        factory.entities.append(Entity(kind=kind, name=arm_entity_name(resource.get("name"), kind, parameters),
                                       document=resource, source=path, pointer_prefix=f"/resources/{i}"))
    return factory


# ---------------------------------------------------------------------------------------------- entry point

def _parent_kind(path: str) -> str | None:
    parent = os.path.basename(os.path.dirname(os.path.abspath(path))).lower()
    if parent == _PRIVATE_ENDPOINT_FOLDER:
        return "managedPrivateEndpoint"
    return KIND_FOLDERS.get(parent)


def _load_folder(path: str) -> list[LoadedFactory]:
    roots = find_roots(path)
    if not roots and os.path.basename(os.path.abspath(path)).lower() in KIND_FOLDERS:
        raise LoadError(path, "no ADF factory found: this is an entity folder; give its parent folder (the "
                              "factory root) or the .json files themselves")
    if not roots:
        raise LoadError(path, "no ADF factory found: expected a folder with pipeline/, linkedService/, dataset/, "
                              "trigger/, ... sub-folders holding .json files (ADF git layout), or an "
                              "ARMTemplateForFactory.json")
    factories = []
    for layout, where in roots:
        if layout == "git":
            factories.append(load_factory_folder(where))
            continue
        try:
            parsed = _read(where)
        except _FileProblem as problem:
            broken = LoadedFactory(root=where, layout="arm")
            broken.findings.append(problem.finding(where))
            factories.append(broken)
            continue
        if is_arm_template(parsed.value):
            factories.append(load_arm_template(where, parsed))
    if not any(f.entities for f in factories):
        errors = [x for f in factories for x in f.findings if x.severity == "error"]
        if errors:
            more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
            raise LoadError(path, f"no entity could be read: {errors[0].source}: {errors[0].message}{more}")
        raise LoadError(path, "no ADF entity found")
    return factories


def load_paths(paths: list[str]) -> list[LoadedFactory]:
    """Load every PATH (folder, ARM template or entity file) into factories; see the module docstring."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    factories: list[LoadedFactory] = []
    loose: LoadedFactory | None = None
    loose_dirs: list[str] = []
    skipped: list[str] = []
    for raw in paths:
        path = os.fspath(raw)
        if not os.path.exists(path):
            raise LoadError(path, "no such file or directory")
        if os.path.isdir(path):
            factories.extend(_load_folder(path))
            continue
        if is_ignored_file(os.path.basename(path)) and os.path.basename(path).lower().endswith(".json"):
            skipped.append(path)
            continue
        try:
            parsed = _read(path)
        except _FileProblem as problem:
            raise LoadError(path, problem.message) from None
        doc = parsed.value
        if is_arm_template(doc):
            factories.append(load_arm_template(path, parsed))
            continue
        if is_arm_parameters(doc):
            skipped.append(path)
            continue
        if not isinstance(doc, dict):
            raise LoadError(path, f"expected a JSON object (an ADF entity or an ARM template), found "
                                  f"{_json_type(doc)}")
        if loose is None:
            loose = LoadedFactory(root="", layout="files")
            factories.append(loose)
        kind = _parent_kind(path) or guess_kind(doc)
        loose.positions[path] = parsed
        _add_warnings(loose, parsed)
        loose.entities.append(Entity(kind=kind, name=_entity_name(doc, path), document=doc, source=path))
        loose_dirs.append(os.path.dirname(os.path.abspath(path)))
    if loose is not None:
        loose.root = os.path.commonpath(loose_dirs)
    if not factories:
        what = ", ".join(skipped) if skipped else ", ".join(map(os.fspath, paths))
        raise LoadError(what, "nothing to load: only ignored files (ARM parameter files, publish_config.json, "
                              "arm-template-parameters-definition.json)" if skipped else "nothing to load")
    return factories
