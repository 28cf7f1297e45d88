"""schemathesis against the emulator's OpenAPI document (``/_emulator/openapi.json``), in process, in every
``make test``: each operation with positive and negative data, a few seeded examples each, and zero server
errors and zero check failures (schema violations of responses, schema-violating requests accepted, wrong
status codes or content types). The checks that do not apply, and why, are in tests/fuzzing.py; the longer run
is benchmarks/test_fuzz_long.py."""
from __future__ import annotations

import json

from . import fuzzing


def test_the_document_names_every_api_and_checks_bodies_with_the_emulator_s_schemas(aml):
    document = aml.http.get(f"{aml.url}/_emulator/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {"bes.submit", "bes.status", "rrs.execute", "swagger.get", "management.patchEndpoint", "arm.patch",
            "aad.tokenV1", "aad.tokenV2", "aad.openidV2", "control.addFaults"} <= operations
    submit = document["paths"]["/workspaces/{workspaceId}/services/{serviceId}/jobs"]["post"]
    assert submit["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/BesSubmit"}
    assert "GlobalParameters" in document["components"]["schemas"]["BesSubmit"]["properties"]
    text = json.dumps(document)
    assert not any(key in text for key in aml.emulator.secrets()), "the document names no key"


def test_schemathesis_finds_no_server_error_and_no_failed_check(azurite):
    emulator = fuzzing.make_emulator(azurite.url)
    try:
        tally = fuzzing.run(emulator, max_examples=6, seed=1)
    finally:
        emulator.close()
    print(f"\nschemathesis: {tally.operations} operations, {tally.requests} requests ({tally.stateful_requests} in linked sequences), "
          f"{len(tally.server_errors)} server errors, {len(tally.failures)} failed checks; "
          f"statuses {dict(sorted(tally.statuses.items()))}")
    assert tally.operations >= 39 and tally.requests > 300
    assert tally.server_errors == []
    assert tally.failures == [], "\n\n".join(tally.failures[:5])
