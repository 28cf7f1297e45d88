"""Shared fixtures: one Azurite and one emulator per test process (xdist worker), reset per test.

Azurite is real (started from node_modules on port 0). The emulator is served by waitress on
a loopback port, so every test talks real HTTP to it.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from adfemu.emulator.app import Emulator, create_app
from adfemu.emulator.azurite import Azurite
from adfemu.emulator.config import from_document
from adfemu.emulator.server import EmulatorServer
from adfemu.emulator.storage import BlobStore

from adfemu.emulator.tls import local_tls

from .arm_helpers import Arm, arm_extras
from .helpers import CUSTOM_ACCOUNT, CUSTOM_KEY, TRAIN_CSV, Aml, extra_services

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

pytest_plugins = ("pytester",)  # tests/test_plugin.py runs user test sessions in a subprocess


def seed_document() -> dict:
    return json.loads((FIXTURES / "seed-emulator.json").read_text())


def test_document() -> dict:
    """The seed config plus services that only tests need (slow jobs, parameters, a Free workspace)."""
    doc = copy.deepcopy(seed_document())
    doc["storage"] = {"accounts": [{"name": CUSTOM_ACCOUNT, "key": CUSTOM_KEY}]}
    doc["workspaces"][0]["webServices"] += extra_services()["seed_workspace"]
    doc["workspaces"].append(extra_services()["free_workspace"])
    arm_extras(doc)
    return doc


@pytest.fixture(scope="session")
def azurite():
    with Azurite(accounts={CUSTOM_ACCOUNT: CUSTOM_KEY}) as running:
        yield running


@pytest.fixture(scope="session")
def emulator_server(azurite):
    config = from_document(test_document(), "tests/conftest.py", FIXTURES)
    emulator = Emulator(config, BlobStore(azurite.url))
    server = EmulatorServer(create_app(emulator)).start()
    yield emulator, server
    server.stop()
    emulator.close()


@pytest.fixture(scope="session")
def https_server(emulator_server):
    """The same emulator served over HTTPS (a trustme CA): Azure AD and ARM clients insist on https."""
    emulator, _ = emulator_server
    tls = local_tls()
    server = EmulatorServer(create_app(emulator), tls=tls).start()
    yield server
    server.stop()
    tls.cleanup()


@pytest.fixture
def arm(emulator_server, https_server) -> Arm:
    """A client for the emulated Azure AD and Resource Manager over HTTPS, with the state reset."""
    emulator, _ = emulator_server
    emulator.reset()
    return Arm(https_server.url, str(https_server.tls.ca_bundle), emulator)


@pytest.fixture
def aml(emulator_server, azurite) -> Aml:
    """A client for the emulator, with the state reset before the test."""
    emulator, server = emulator_server
    emulator.reset()
    return Aml(server.url, emulator, azurite)


@pytest.fixture
def blobs(azurite) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(azurite.connection_string())


@pytest.fixture
def seed_input(blobs):
    """The seed pipeline's training data where its corrected paths read it: azuremltesting/input/train.csv."""
    container = blobs.get_container_client("azuremltesting")
    if not container.exists():
        container.create_container()
    container.upload_blob("input/train.csv", TRAIN_CSV, overwrite=True)
    return container
