"""Heavy packages that a start does without until they are needed: the emulator answers before it imports the
storage SDK, which its first blob operation imports; a valid factory is validated without ``jsonschema``, which
explains the first refused definition. Each in a new Python process, as `adfemu serve` and `adfemu run` start."""
from __future__ import annotations

import json
import subprocess
import sys

from .conftest import FIXTURES

SERVE = f"""
import json, sys, urllib.request
from adfemu.emulator.config import load
from adfemu.emulator.server import start_stack
from adfemu.emulator.storage import BlobAddress
from adfemu.emulator.azurite import DEV_ACCOUNT, DEV_KEY

stack = start_stack(load({str(FIXTURES / "seed-emulator.json")!r}), warm_up=False)  # as `adfemu serve`
try:
    health = urllib.request.urlopen(stack.url + "/_emulator/health", timeout=30).status
    before = "azure.storage.blob" in sys.modules
    address = BlobAddress(DEV_ACCOUNT, "lazy", "first.txt", account_key=DEV_KEY)
    stack.emulator.store.write(address, b"first")
    read = stack.emulator.store.read(address, "lazy/first.txt").decode()
    print(json.dumps({{"health": health, "before": before, "after": "azure.storage.blob" in sys.modules,
                      "read": read}}))
finally:
    stack.close()
"""

VALIDATE = """
import json, sys
from adfemu.runner.validation import validate_factory
from adfemu.schemas.entities import Entity, Factory

def pipeline(activities):
    return Entity("pipeline", "P", {"name": "P", "properties": {"activities": activities}}, "P.json", "")

wait = {"name": "W", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 1}}
valid = validate_factory(Factory("f", [pipeline([wait])]))
before = "jsonschema" in sys.modules
refused = validate_factory(Factory("f", [pipeline([{"name": "W", "type": "Wait", "typeProperties": {}}])]))
print(json.dumps({"valid": len(valid), "before": before, "after": "jsonschema" in sys.modules,
                  "refused": [(f.code, f.pointer, f.message) for f in refused]}))
"""


def _run(script: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_serve_answers_before_the_storage_sdk_is_imported_and_its_first_blob_operation_imports_it():
    assert _run(SERVE) == {"health": 200, "before": False, "after": True, "read": "first"}


def test_a_valid_factory_is_validated_without_jsonschema_which_explains_a_refused_one():
    found = _run(VALIDATE)
    assert (found["valid"], found["before"], found["after"]) == (0, False, True)
    assert ["ADF-E-SCHEMA", "/properties/activities/0/typeProperties",
            "missing required property 'waitTimeInSeconds'"] in found["refused"]
