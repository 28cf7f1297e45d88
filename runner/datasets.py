"""Datasets and linked services as an activity resolves them: parameters bound (``dataset().x``,
``linkedService().x``), expressions evaluated, secrets resolved, and the file location or table they name.

Microsoft Learn, "Datasets in Azure Data Factory and Azure Synapse Analytics" and "Linked services ...":
a dataset reference carries ``parameters`` evaluated in the activity's scope; the dataset's own
``typeProperties`` (its ``location`` included) are evaluated with those values as ``dataset()``; its
``linkedServiceName.parameters`` likewise, and become ``linkedService()`` inside the linked service.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .definitions import DefinitionsError, coerce
from .engine import ActivityError, Call
from .expressions import ExpressionError, evaluate_value
from .secrets import SecretError, resolve

FILE_TYPES = ("DelimitedText", "Json", "Parquet", "Binary")
SQL_TYPES = ("AzureSqlTable", "SqlServerTable", "AzureSqlDWTable", "AzureSqlMITable")
SQL_LINKED_SERVICES = ("AzureSqlDatabase", "SqlServer", "AzureSqlDW", "AzureSqlMI")
LOCATIONS = {"AzureBlobStorageLocation": "container", "AzureBlobFSLocation": "fileSystem"}


@dataclass
class LinkedService:
    """A linked service with its parameters bound: ``evaluate`` and ``secret`` read its properties."""
    call: Call
    doc: dict
    parameters: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.doc.get("name", "?")

    @property
    def type(self) -> str:
        return (self.doc.get("properties") or {}).get("type", "")

    @property
    def props(self) -> dict:
        return (self.doc.get("properties") or {}).get("typeProperties") or {}

    def evaluate(self, value: Any) -> Any:
        return _evaluate(self.call, value, linked_service=self.parameters, what=f"linked service '{self.name}'")

    def secret(self, value: Any) -> str | None:
        try:
            return resolve(value, self.call.engine.definitions, self.call.engine.settings.services.vaults)
        except (SecretError, DefinitionsError) as exc:
            raise ActivityError(f"Linked service '{self.name}': {exc}") from None


@dataclass
class Location:
    """A file or folder in a blob container (an ADLS Gen2 file system is a container on Azurite)."""
    container: str
    folder: str = ""   # no leading or trailing '/'
    file: str = ""     # empty: the dataset names a folder

    @property
    def path(self) -> str:
        return "/".join(p for p in (self.folder, self.file) if p)

    def __str__(self) -> str:
        return "/".join(p for p in (self.container, self.folder, self.file) if p)


@dataclass
class Dataset:
    name: str
    type: str
    props: dict                 # typeProperties, evaluated
    linked_service: LinkedService
    structure: list = field(default_factory=list)  # the dataset's "schema" (or legacy "structure")

    @property
    def is_file(self) -> bool:
        return self.type in FILE_TYPES

    @property
    def is_sql(self) -> bool:
        return self.type in SQL_TYPES

    def location(self) -> Location:
        loc = self.props.get("location")
        if not isinstance(loc, dict):
            raise ActivityError(f"Dataset '{self.name}' ({self.type}) has no location.")
        kind = loc.get("type")
        if kind not in LOCATIONS:
            raise ActivityError(f"Dataset '{self.name}': location type '{kind}' is not served by adfemu (supported: "
                                f"{', '.join(LOCATIONS)}, on Azurite).", "NotSupported")
        container = loc.get(LOCATIONS[kind])
        if not container:
            raise ActivityError(f"Dataset '{self.name}': its location has no {LOCATIONS[kind]}.")
        return Location(str(container).strip("/"), str(loc.get("folderPath") or "").strip("/"),
                        str(loc.get("fileName") or "").strip("/"))

    def table(self) -> tuple[str | None, str]:
        """(schema, table) of a SQL table dataset: ``schema``/``table`` or the legacy ``tableName``."""
        table = self.props.get("table")
        if table:
            return (str(self.props["schema"]) if self.props.get("schema") else None), str(table)
        name = self.props.get("tableName")
        if not name:
            raise ActivityError(f"Dataset '{self.name}' names no table (typeProperties.table or tableName).")
        return None, str(name)


def resolve_dataset(call: Call, reference: Any, role: str = "dataset") -> Dataset:
    """A DatasetReference (``{"referenceName", "parameters"}``) resolved in the activity's scope."""
    if not isinstance(reference, dict) or not reference.get("referenceName"):
        raise ActivityError(f"Activity '{call.name}' needs a {role} reference ({{\"referenceName\": ...}}).")
    name = str(call.evaluate(reference["referenceName"]))
    doc = call.engine.definitions.datasets.get(name.lower())
    if doc is None:
        raise ActivityError(f"Activity '{call.name}': dataset '{name}' is not in the factory.")
    props = doc.get("properties") or {}
    params = _bind(call, f"dataset '{name}'", props.get("parameters") or {},
                   call.evaluate(reference.get("parameters") or {}))
    ls_ref = props.get("linkedServiceName") or {}
    ls_params_given = _evaluate(call, ls_ref.get("parameters") or {}, dataset=params, what=f"dataset '{name}'")
    linked = linked_service(call, ls_ref.get("referenceName"), ls_params_given)
    type_props = _evaluate(call, props.get("typeProperties") or {}, dataset=params, what=f"dataset '{name}'")
    structure = props.get("schema") or props.get("structure") or []
    return Dataset(doc.get("name", name), props.get("type", ""), type_props, linked,
                   structure if isinstance(structure, list) else [])


def linked_service(call: Call, name: Any, parameters: dict | None = None) -> LinkedService:
    if not name:
        raise ActivityError(f"Activity '{call.name}': a linked service reference has no referenceName.")
    try:
        doc = call.engine.definitions.linked_service(str(name))
    except DefinitionsError as exc:
        raise ActivityError(f"Activity '{call.name}': {exc}.") from None
    declared = (doc.get("properties") or {}).get("parameters") or {}
    return LinkedService(call, doc, _bind(call, f"linked service '{name}'", declared, parameters or {}))


def _bind(call: Call, owner: str, declared: dict, given: Any) -> dict:
    """Declared parameters with the given values (typed as declared) or their defaults."""
    given = given if isinstance(given, dict) else {}
    lower = {k.lower(): k for k in declared}
    unknown = [k for k in given if k.lower() not in lower]
    if unknown:
        raise ActivityError(f"Activity '{call.name}': {owner} has no parameter {', '.join(map(repr, unknown))} "
                            f"(parameters: {', '.join(declared) or 'none'}).")
    given = {lower[k.lower()]: v for k, v in given.items()}
    values = {}
    for pname, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        if pname in given:
            value = given[pname]
        elif "defaultValue" in spec:
            value = spec["defaultValue"]
        else:
            raise ActivityError(f"Activity '{call.name}': {owner} needs a value for parameter '{pname}'.")
        try:
            values[pname] = coerce(value, spec.get("type", "String"), pname)
        except DefinitionsError as exc:
            raise ActivityError(f"Activity '{call.name}': {owner}: {exc}.") from None
    return values


def _evaluate(call: Call, value: Any, *, what: str, dataset: dict | None = None,
              linked_service: dict | None = None) -> Any:
    context = call.context
    if dataset is not None:
        context = context.replace(dataset=dataset)
    if linked_service is not None:
        context = context.replace(linked_service=linked_service)
    try:
        return evaluate_value(value, context)
    except ExpressionError as exc:
        raise ActivityError(f"{what[0].upper()}{what[1:]}: the expression '{exc.expression}' cannot be evaluated: "
                            f"{exc}", "InvalidTemplate") from None
