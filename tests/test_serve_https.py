"""`adfemu serve --https` as a user runs it: a real process with a local CA (the serving side of the Azure SDK
clients' TLS trust), its banner, health, certificate names, clean stop.
"""
from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from .arm_helpers import SEED_SP, TENANT, TENANT_DOMAIN
from .conftest import FIXTURES

ADFEMU = [sys.executable, "-m", "adfemu"]  # the `adfemu` program
SEED = str(FIXTURES / "seed-emulator.json")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


class Served:
    """A running `adfemu serve`: its banner (parsed as it is printed) and all output lines so far."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="adfemu-serve-stdout", daemon=True)
        self._reader.start()
        self.banner: dict[str, str] = {}

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def wait_for_banner(self, timeout: float = START_TIMEOUT) -> dict[str, str]:
        """Read lines until the banner's last line ('health: ...'), failing at the deadline or on exit."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no banner within {timeout}s; output so far:\n{self.output}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"adfemu serve exited early ({self.proc.wait(10)}):\n{self.output}")
            if m := re.match(r"adfemu emulator listening on (\S+)", line):
                self.banner["url"] = m.group(1)
            if m := re.match(r"CA bundle: (\S+)", line):
                self.banner["ca"] = m.group(1)
            if line.startswith("health:"):
                return self.banner

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=STOP_TIMEOUT)
        self._reader.join(timeout=STOP_TIMEOUT)
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


@contextmanager
def serving(*args: str):
    """Start `adfemu serve --config <seed> --port 0 <args>`; always stopped (SIGTERM, then kill) on exit."""
    proc = subprocess.Popen([*ADFEMU, "serve", "--config", SEED, "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    served = Served(proc)
    try:
        served.wait_for_banner()
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)
        served._reader.join(timeout=STOP_TIMEOUT)
        proc.stdout.close()


@pytest.fixture(autouse=True)
def no_ca_environment(monkeypatch):
    """A plain request must rely on the system trust store only (a developer's shell may point it elsewhere)."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def test_serve_https_with_ca_file(tmp_path: Path):
    ca = tmp_path / "ca.pem"
    # exactly as a user starts it: adfemu also starts (and stops) its own Azurite
    with serving("--https", "--ca-file", str(ca)) as served:
        url, banner_ca = served.banner["url"], served.banner["ca"]
        # the banner: an https URL on loopback and the CA bundle where it was asked to be
        assert urlsplit(url).scheme == "https" and urlsplit(url).hostname == "127.0.0.1", url
        assert Path(banner_ca) == ca.resolve()
        assert ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
        port = urlsplit(url).port
        # health over TLS, verified with that CA
        health = requests.get(f"{url}/_emulator/health", verify=str(ca), timeout=10)
        assert health.status_code == 200, health.text
        assert health.json()["https"] is True and health.json()["status"] == "ok"
        assert Path(health.json()["caBundle"]) == ca.resolve()
        # the certificate names localhost too
        by_name = requests.get(f"https://localhost:{port}/_emulator/health", verify=str(ca), timeout=10)
        assert by_name.status_code == 200 and by_name.json()["https"] is True
        # without the CA, verification fails
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{url}/_emulator/health", timeout=10)
        # Azure AD is served on the same origin (what ClientSecretCredential needs)
        token = requests.post(f"{url}/{TENANT_DOMAIN}/oauth2/v2.0/token", verify=str(ca), timeout=10, data={
            "grant_type": "client_credentials", "client_id": SEED_SP.client_id, "client_secret": SEED_SP.secret,
            "scope": "https://management.azure.com/.default"})
        assert token.status_code == 200, token.text
        config = requests.get(f"{url}/{TENANT}/v2.0/.well-known/openid-configuration", verify=str(ca), timeout=10)
        assert config.json()["token_endpoint"].startswith(f"{url}/")
        # SIGTERM: a clean exit
        assert served.stop(signal.SIGTERM) == 0, served.output
    assert "adfemu stopped" in served.output
    assert ca.exists(), "a CA bundle the user placed with --ca-file stays after exit"


def test_serve_https_without_ca_file_removes_its_temporary_bundle(azurite):
    with serving("--storage", azurite.connection_string(), "--https") as served:
        ca = Path(served.banner["ca"])
        assert ca.is_file() and ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
        health = requests.get(f"{served.banner['url']}/_emulator/health", verify=str(ca), timeout=10)
        assert health.status_code == 200 and Path(health.json()["caBundle"]) == ca
        assert served.stop(signal.SIGTERM) == 0, served.output
    assert not ca.exists(), f"{ca} must be removed on exit"
    assert not ca.parent.exists(), f"the folder adfemu made for it ({ca.parent}) must be removed too"


def test_serve_without_https_prints_no_ca_and_reports_http(azurite):
    with serving("--storage", azurite.connection_string()) as served:
        assert "ca" not in served.banner
        assert urlsplit(served.banner["url"]).scheme == "http"
        health = requests.get(f"{served.banner['url']}/_emulator/health", timeout=10).json()
        assert health["https"] is False and health["caBundle"] is None
        assert served.stop(signal.SIGTERM) == 0, served.output


def test_ca_file_without_https_is_a_usage_error(tmp_path: Path):
    ca = tmp_path / "x.pem"
    result = subprocess.run([*ADFEMU, "serve", "--config", SEED, "--ca-file", str(ca)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "--ca-file needs --https" in result.stderr
    assert "Traceback" not in result.stderr
    assert not ca.exists()
