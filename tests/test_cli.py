"""`adfemu serve` as a user runs it: a real process, port 0, health, clean stop on SIGTERM and Ctrl-C."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from adfemu.emulator.azurite import answers

from .conftest import FIXTURES

ADFEMU = [sys.executable, "-m", "adfemu"]  # the `adfemu` program


def _serve(*extra: str, source: tuple[str, ...] = ()) -> tuple[subprocess.Popen, dict[str, str]]:
    source = source or ("--config", str(FIXTURES / "seed-emulator.json"))
    proc = subprocess.Popen([*ADFEMU, "serve", *source, "--port", "0", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    banner: dict[str, str] = {}
    for line in proc.stdout:  # the banner is printed once the stack answers
        if m := re.match(r"adfemu emulator listening on (\S+)", line):
            banner["url"] = m.group(1)
        if m := re.match(r"storage: (\S+)", line):
            banner["storage"] = m.group(1)
        if line.startswith("provisioned:"):
            banner.setdefault("provisioned", []).append(line.strip())
        if line.startswith("health:"):
            return proc, banner
    raise AssertionError(f"adfemu serve exited early with {proc.wait(10)}")


def _health(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_emulator/health", timeout=5) as r:
        assert r.status == 200
        return json.loads(r.read())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_starts_azurite_answers_health_and_stops_everything(sig):
    proc, banner = _serve()
    try:
        assert _health(banner["url"])["services"]["storage"] == "running"
        assert answers(banner["storage"])
    finally:
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "adfemu stopped" in out
    assert not answers(banner["storage"], timeout=1), "the Azurite that adfemu started must be stopped"


def test_serve_with_storage_uses_the_given_azurite_and_leaves_it_running(azurite):
    proc, banner = _serve("--storage", azurite.connection_string())
    try:
        assert banner["storage"] == azurite.url
        assert _health(banner["url"])["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert answers(azurite.url), "adfemu must not stop storage it did not start"


def test_serve_provisions_the_services_a_factory_expects(azurite):
    proc, banner = _serve("--storage", azurite.connection_string(), source=("--factory", str(FIXTURES / "seed-factory")))
    try:
        assert any("--training experiment--" in line for line in banner["provisioned"])
        url = f"{banner['url']}/workspaces/xxx/services/--training%20experiment--/swagger.json"
        with urllib.request.urlopen(url, timeout=5) as r:
            assert json.loads(r.read())["swagger"] == "2.0"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def test_invalid_config_is_reported_without_a_traceback(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"workspaces": [{"id": "x/y", "webServices": []}]}))
    result = subprocess.run([*ADFEMU, "serve", "--config", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "/workspaces/0/id" in result.stderr and str(bad) in result.stderr
    assert "Traceback" not in result.stderr
