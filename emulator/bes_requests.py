"""Turn a BES submit body into blob addresses and parameters, with the real service's rules.

Validation order follows the error catalogue: shape of the body, input names, output names,
each blob reference (container, blob name, extension, credentials), global parameters; the
existence of input blobs is checked last, at submit (inferred: the catalogue's ``BlobNotFound`` is a 400,
but when the service raised it is not documented).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import body_shapes, errors
from .models import WebService
from .secrets import redact
from .storage import BlobAddress, BlobStore, account_from_base_location, parse_connection_string, split_relative_location

DATASET_EXTENSIONS = (".csv", ".tsv", ".arff")
MODEL_EXTENSIONS = (".ilearner",)


@dataclass
class PortBlob:
    address: BlobAddress
    shown_as: str  # the RelativeLocation as the client wrote it, for messages


@dataclass
class BesRequest:
    inputs: dict[str, PortBlob]
    outputs: dict[str, PortBlob]
    global_parameters: dict[str, str] = field(default_factory=dict)


def parse_submit(body: Any, svc: WebService, *, lenient_extensions: bool = False) -> BesRequest:
    if not isinstance(body, dict):
        raise errors.RequestBodyInvalid()
    if body.get("Input") is not None and body.get("Inputs") is not None:
        raise errors.DuplicateInputInBatchCall()
    inputs = _input_refs(body, svc)
    outputs = body.get("Outputs") or {}
    if not isinstance(outputs, dict):
        raise errors.RequestBodyInvalid()
    kinds = svc.output_kinds()
    for name in outputs:
        if name not in kinds:
            raise errors.InvalidOutputOverrideName(name, target=name)
    request = BesRequest(
        inputs={name: _port_blob(ref, name, "dataset", lenient_extensions, errors.MissingInputBlobInformation)
                for name, ref in inputs.items()},
        outputs={name: _port_blob(ref, name, kinds[name], lenient_extensions,
                                  lambda target=name: errors.MissingOutputOverrideSpecification(target, target=target))
                 for name, ref in outputs.items()},
        global_parameters=parse_global_parameters(body.get("GlobalParameters"), svc),
    )
    body_shapes.check(body, "aml-bes-submit")
    return request


def check_inputs_exist(request: BesRequest, store: BlobStore) -> None:
    for name, port in request.inputs.items():
        try:
            store.exists(port.address, port.shown_as)
        except errors.BlobNotFound as exc:
            exc.target = name
            raise


def _input_refs(body: dict, svc: WebService) -> dict[str, Any]:
    names = svc.input_names()
    if body.get("Input") is not None:  # legacy single input: the service's first (only) input
        refs = {names[0]: body["Input"]} if names else {}
    else:
        refs = body.get("Inputs") or {}
        if not isinstance(refs, dict):
            raise errors.RequestBodyInvalid()
    unknown = [n for n in refs if n not in names]
    if unknown:
        if len(refs) > len(names):
            raise errors.BatchJobInputsTooManySpecified(", ".join(names))
        raise errors.InvalidInputNames(", ".join(unknown))
    missing = [p["name"] for p in svc.inputs if p.get("required", True) and p["name"] not in refs]
    if missing:
        raise errors.BatchJobInputsNotSpecified(", ".join(missing))
    return refs


def _port_blob(ref: Any, port: str, kind: str, lenient: bool, missing) -> PortBlob:
    if not isinstance(ref, dict):
        raise missing()
    relative = ref.get("RelativeLocation")
    if not isinstance(relative, str) or not relative.strip():
        raise errors.MissingInputBlobInformation(target=port)
    container, blob = split_relative_location(relative, port)
    allowed = MODEL_EXTENSIONS if kind == "ilearner" else DATASET_EXTENSIONS
    if not lenient and not blob.lower().endswith(allowed):
        raise errors.InvalidBlobExtension(relative, ", ".join(allowed), target=port)
    return PortBlob(_address(ref, container, blob, port), relative)


def _address(ref: dict, container: str, blob: str, port: str) -> BlobAddress:
    connection = ref.get("ConnectionString")
    if isinstance(connection, str) and connection.strip():
        try:
            parts = parse_connection_string(connection)
        except ValueError:
            raise errors.InvalidBlobConnectionString(redact(connection), target=port) from None  # keys masked again at render
        account = parts.get("AccountName")
        if not account and parts.get("BlobEndpoint"):
            account = account_from_base_location(parts["BlobEndpoint"])
        if not account or not (parts.get("AccountKey") or parts.get("SharedAccessSignature")):
            raise errors.InvalidBlobConnectionString(redact(connection), target=port)
        return BlobAddress(account, container, blob, account_key=parts.get("AccountKey") or None,
                           sas=(parts.get("SharedAccessSignature") or "").lstrip("?") or None)
    base, sas = ref.get("BaseLocation"), ref.get("SasBlobToken")
    if isinstance(base, str) and base and isinstance(sas, str) and sas:
        try:
            account = account_from_base_location(base)
        except ValueError:
            raise errors.InvalidBlob(f"{base}{container}/{blob}", target=port) from None
        return BlobAddress(account, container, blob, sas=sas.lstrip("?"))
    raise errors.MissingInputBlobInformation(target=port)


def parse_global_parameters(value: Any, svc: WebService) -> dict[str, str]:
    """Names are case-sensitive; values arrive as strings (ADF) or numbers/booleans (other clients)."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise errors.RequestBodyInvalid()
    declared = {p["name"]: p for p in svc.global_parameters}
    if any(name not in declared for name in value):
        raise errors.UnexpectedParameter()
    result: dict[str, str] = {}
    for name, spec in declared.items():
        if name in value:
            raw = value[name]
            if raw is None or isinstance(raw, (dict, list)):
                raise errors.RequestBodyInvalid()
            result[name] = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
        elif spec.get("required"):
            raise errors.MissingRequiredGlobalParameters()
        elif "default" in spec:
            result[name] = str(spec["default"])
    return result
