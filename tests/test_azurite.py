"""Azurite lifecycle: port 0, readiness, custom accounts, stop by process group."""
from __future__ import annotations

import os

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobServiceClient

from adfemu.emulator.azurite import DEV_ACCOUNT, Azurite, AzuriteError, answers, azurite_accounts_env

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


def test_azurite_dies_with_a_killed_parent(tmp_path):
    """Even a parent killed with SIGKILL (no fixture teardown, no atexit) leaves no Azurite behind."""
    import signal
    import subprocess
    import sys

    from .helpers import deadline_poll

    code = ("from adfemu.emulator.azurite import Azurite; a = Azurite().start(); print(a.pid, flush=True); "
            "import threading; threading.Event().wait(120)")
    # its temporary folder outlives a killed parent: under tmp_path, not /tmp
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "TMPDIR": str(tmp_path)})
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait(timeout=10)
    parent.stdout.close()

    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        return False

    try:
        deadline_poll(gone, timeout=20, interval=0.05)
    finally:
        if not gone():
            os.kill(child, signal.SIGKILL)


def test_start_failures_are_one_line_naming_the_cause(tmp_path, monkeypatch):
    import socket

    from adfemu.emulator import azurite as module

    monkeypatch.setenv("ADFEMU_AZURITE", str(tmp_path / "missing"))
    with pytest.raises(AzuriteError, match=r"^ADFEMU_AZURITE names .*missing, which does not exist$"):
        Azurite().start(timeout=5)
    monkeypatch.delenv("ADFEMU_AZURITE")

    not_executable = tmp_path / "azurite-blob"
    not_executable.write_text("#!/bin/sh\n")
    not_executable.chmod(0o644)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADFEMU_AZURITE", "azurite-blob")  # relative to where adfemu runs, not to Azurite's folder
    with pytest.raises(AzuriteError, match=rf"^Azurite exited before listening: cannot run {tmp_path}/azurite-blob: "
                                           r"Permission denied$"):
        Azurite().start(timeout=5)
    monkeypatch.undo()

    real = module.find_azurite_blob()
    monkeypatch.setenv("PATH", str(tmp_path))  # no node on PATH
    with pytest.raises(AzuriteError, match=r"^Node.js is not installed \(azurite-blob needs `node` on PATH"):
        Azurite(executable=real).start(timeout=5)
    monkeypatch.undo()

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        instance = Azurite(executable=real)
        instance._port = port
        with pytest.raises(AzuriteError, match=rf"^Azurite cannot listen: port {port} on 127.0.0.1 is in use$"):
            instance.start(timeout=20)


def test_not_installed_points_at_install_azurite(tmp_path, monkeypatch):
    from adfemu.emulator import azurite as module

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("ADFEMU_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(module, "__file__", str(tmp_path / "pkg" / "azurite.py"))  # as installed from a wheel
    with pytest.raises(AzuriteError, match="^Azurite is not installed: run `adfemu install-azurite`"):
        module.find_azurite_blob()


def test_found_in_the_cache_of_install_azurite(tmp_path, monkeypatch):
    from adfemu.emulator import azurite as module

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADFEMU_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(module, "__file__", str(tmp_path / "pkg" / "azurite.py"))
    cached = module.user_cache() / "node_modules" / ".bin" / "azurite-blob"
    cached.parent.mkdir(parents=True)
    cached.write_text("#!/usr/bin/env node\n")
    assert module.find_azurite_blob() == str(cached)
    assert module.user_cache().name == "azurite-3.37.0"


def test_restart_with_new_accounts_keeps_blobs_and_the_port():
    import base64

    with Azurite() as instance:
        client = BlobServiceClient.from_connection_string(instance.connection_string())
        client.create_container("keptacross")
        client.get_blob_client("keptacross", "a.txt").upload_blob(b"kept")
        url, pid = instance.url, instance.pid
        key = base64.b64encode(b"late-account-key-for-adfemu-tests-0000").decode()
        instance.restart({"lateaccount": key})
        assert instance.url == url and instance.pid != pid
        assert client.get_blob_client("keptacross", "a.txt").download_blob().readall() == b"kept"
        late = BlobServiceClient.from_connection_string(instance.connection_string("lateaccount"))
        late.create_container("newone")


def test_azurite_saves_its_blobs_when_a_busy_parent_is_killed(tmp_path):
    """A parent with many threads killed with SIGKILL: Azurite gets one SIGTERM (through its guard), saves its
    blob index and exits; the blob written just before is there for the next Azurite on the folder."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from .helpers import deadline_poll

    code = ("import sys, threading; from adfemu.emulator.azurite import Azurite, Supervisor; "
            "from azure.storage.blob import BlobServiceClient; "
            "[threading.Thread(target=threading.Event().wait, daemon=True).start() for _ in range(16)]; "
            "s = Supervisor(Azurite(location=sys.argv[1])); a = s.start(); "
            "BlobServiceClient.from_connection_string(a.connection_string()).create_container('saved')"
            ".upload_blob('b.txt', b'kept'); print(a.pid, a._workdir.name, flush=True); threading.Event().wait(120)")
    parent = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "blobs")], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "TMPDIR": str(tmp_path)})  # a killed parent's folder stays here
    pid, workdir = parent.stdout.readline().split()
    parent.kill()
    parent.wait(timeout=10)
    parent.stdout.close()

    def gone() -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    try:
        deadline_poll(gone, timeout=20, interval=0.05)
    finally:
        if not gone():
            os.killpg(int(pid), signal.SIGKILL)
    assert Path(workdir, "azurite.log").read_text().rstrip().endswith("successfully closed")
    with Azurite(location=str(tmp_path / "blobs")) as again:
        client = BlobServiceClient.from_connection_string(again.connection_string())
        assert client.get_blob_client("saved", "b.txt").download_blob().readall() == b"kept"
