"""Azurite lifecycle: port 0, readiness, custom accounts, stop by process group."""
from __future__ import annotations

import os

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobServiceClient

from emulator.azurite import DEV_ACCOUNT, Azurite, AzuriteError, answers, azurite_accounts_env

from .helpers import CUSTOM_ACCOUNT, CUSTOM_KEY


def test_session_azurite_serves_the_dev_and_custom_accounts(azurite):
    for account in (DEV_ACCOUNT, CUSTOM_ACCOUNT):
        client = BlobServiceClient.from_connection_string(azurite.connection_string(account))
        client.create_container(f"lifecycle{account[:6]}")
        assert any(c.name == f"lifecycle{account[:6]}" for c in client.list_containers())


def test_wrong_key_is_refused_by_real_azurite(azurite):
    bad = azurite.connection_string(CUSTOM_ACCOUNT).replace(CUSTOM_KEY, "d3Jvbmcta2V5LW5vdC12YWxpZA==")
    with pytest.raises(HttpResponseError):
        list(BlobServiceClient.from_connection_string(bad).list_containers())


def test_start_on_free_port_and_stop_kills_the_process_group():
    instance = Azurite().start()
    pid, url = instance.pid, instance.url
    assert url.startswith("http://127.0.0.1:") and answers(url)
    instance.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert not answers(url, timeout=0.5)
    instance.stop()  # idempotent


def test_missing_executable_is_a_clear_error(tmp_path):
    with pytest.raises((AzuriteError, OSError)):
        Azurite(executable=str(tmp_path / "no-azurite")).start(timeout=5)


def test_accounts_env_keeps_the_dev_account():
    value = azurite_accounts_env({"contosoml": "a2V5"})
    assert value.startswith(f"{DEV_ACCOUNT}:") and value.endswith(";contosoml:a2V5")
