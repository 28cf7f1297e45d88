"""schemathesis against the emulator's own OpenAPI document (``/_emulator/openapi.json``), in process (the
Flask app through WSGI): every operation, positive and negative data, a bounded number of seeded examples each.
Shared by tests/test_openapi_fuzz.py (make test) and benchmarks/test_fuzz_long.py (the longer run).

One emulator made for fuzzing: every endpoint key and workspace token is the same value, so one
``Authorization`` header reaches every classic route; Resource Manager gets a token of a principal with
Contributor on the resource group. What a check expects that the emulator does not do, per operation and why,
is in ``EXCLUDED``.
"""
from __future__ import annotations

import copy
import logging
from collections import Counter
from dataclasses import dataclass, field

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.core.failures import FailureGroup

from adfemu.emulator.app import Emulator, create_app
from adfemu.emulator.config import from_document
from adfemu.emulator.storage import BlobStore

from .arm_helpers import SEED_SP
from .conftest import FIXTURES, test_document

KEY = "ZnV6ei1rZXktZm9yLWFkZmVtdS1vcGVuYXBpLXRlc3RzLW5vdC1hLXJlYWwtc2VjcmV0LTAwMDAwMDAwMDA="

# check -> operation ids it does not apply to, and why (the emulator's behaviour is the real service's or an
# inference documented in docs/emulator.md and docs/arm.md)
EXCLUDED: dict[str, dict[str, str]] = {
    "negative_data_rejection": {
        # A PUT without a body creates (or keeps) the endpoint with default settings: the emulator accepts an empty
        # body although the document gives one (inferred: no source shows the settings as required, and the
        # portal creates endpoints with defaults). Wrongly typed settings are refused (RequestBodyInvalid).
        "management.putEndpoint": "an empty body means default settings",
    },
}
# Checks off for every operation: schema-valid data is not enough for these APIs, as it is not for the real ones
# (the inputs a web service declares, blobs that exist, keys and roles, ids that exist decide too), so a 400 or a
# 404 to a schema-valid request is the right answer.
EVERYWHERE = ("positive_data_acceptance",)


@dataclass
class Tally:
    """What one fuzzing run did."""
    operations: int = 0
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)
    stateful_requests: int = 0


def fuzz_config(document: dict | None = None) -> dict:
    doc = copy.deepcopy(document or test_document())
    for ws in doc["workspaces"]:
        ws["authorizationToken"] = {"primary": KEY, "secondary": KEY}
        for svc in ws["webServices"]:
            for ep in svc.get("endpoints", [{"name": "default"}]):
                ep["primaryKey"] = ep["secondaryKey"] = KEY
    return doc


def make_emulator(azurite_url: str) -> Emulator:
    config = from_document(fuzz_config(), "tests/fuzzing.py", FIXTURES)
    return Emulator(config, BlobStore(azurite_url))


def run(emulator: Emulator, max_examples: int, seed: int = 1) -> Tally:
    """Every operation of the document, positive then negative, ``max_examples`` each."""
    app = create_app(emulator)
    schema = schemathesis.openapi.from_wsgi("/_emulator/openapi.json", app)
    token = emulator.directory.issue(SEED_SP.tenant, {"grant_type": "client_credentials", "client_id": SEED_SP.client_id,
                                                     "client_secret": SEED_SP.secret,
                                                     "resource": "https://management.azure.com/"}, v2=False).access_token
    tally = Tally()
    logging.getLogger("adfemu.emulator").setLevel(logging.WARNING)
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        op_id = operation.definition.raw.get("operationId", operation.label)
        headers = {"Authorization": f"Bearer {token if op_id.startswith('arm.') else KEY}"}
        excluded = CHECKS.get_by_names([*EVERYWHERE, *(name for name, ops in EXCLUDED.items() if op_id in ops)])
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, headers, excluded, op_id, emulator, tally, max_examples, seed)
    _stateful(schema, token, emulator, tally, max_examples)
    return tally


def _headers(case, token: str) -> dict:
    op_id = case.operation.definition.raw.get("operationId", "")
    return {"Authorization": f"Bearer {token if op_id.startswith('arm.') else KEY}"}


def _stateful(schema, token: str, emulator: Emulator, tally: Tally, max_examples: int) -> None:
    """Sequences along the document's links: a job submitted, then started, polled and deleted; an ARM web service
    put, then read, patched, its keys listed and deleted."""
    class Workflow(schema.as_state_machine()):
        def setup(self):
            emulator.reset()  # each sequence starts from the configured state, so sequences replay alike

        def get_call_kwargs(self, case):
            return {"headers": _headers(case, token)}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            tally.requests += 1
            tally.stateful_requests += 1
            tally.statuses[response.status_code] += 1
            op_id = case.operation.definition.raw.get("operationId", "")
            if response.status_code >= 500:
                tally.server_errors.append(f"{op_id} (stateful): {response.status_code}")
            excluded = CHECKS.get_by_names([*EVERYWHERE, *(n for n, ops in EXCLUDED.items() if op_id in ops)])
            try:
                case.validate_response(response, excluded_checks=excluded, transport_kwargs=kwargs or None)
            except (AssertionError, FailureGroup) as exc:
                tally.failures.append(f"{op_id} (stateful): {str(exc)[:600]}")
            emulator.faults.reset()

    Workflow.run(settings=settings(max_examples=max_examples, stateful_step_count=6, deadline=None,
                                   derandomize=True, database=None, phases=[Phase.generate],
                                   suppress_health_check=list(HealthCheck)))


def _fuzz(operation, mode, headers, excluded, op_id, emulator, tally, max_examples, seed) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def one(case):
        try:
            response = case.call_and_validate(headers=headers, excluded_checks=excluded)
            tally.requests += 1
            tally.statuses[response.status_code] += 1
            if response.status_code >= 500:
                tally.server_errors.append(f"{op_id}: {response.status_code}")
        except (AssertionError, FailureGroup) as exc:  # the checks that failed
            tally.requests += 1
            tally.failures.append(f"{op_id} ({mode.value}): {str(exc)[:600]}")
        finally:
            emulator.faults.reset()  # a rule the fuzzer added must not fault the cases after it
    try:
        one()
    except Unsatisfiable:  # nothing in the operation can be made schema-violating (no parameters, no body)
        tally.unsatisfiable.append(f"{op_id} ({mode.value})")
    except Exception as exc:  # a strategy that cannot generate is a failure of the document, reported as such
        tally.failures.append(f"{op_id} ({mode.value}): {type(exc).__name__}: {str(exc)[:300]}")
