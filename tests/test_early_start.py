"""The `adfemu` program starts Azurite before it imports click and the command (adfemu/_startup.py:
``begin_early``): the command lines it reads, the command then using that Azurite, and one left unused (a usage
error) stopped at exit."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import click
import pytest
from azure.storage.blob import BlobServiceClient

from adfemu import _startup
from adfemu.cli import main

from .conftest import FIXTURES
from .helpers import child_processes

PROGRAM = [sys.executable, "-m", "adfemu"]


def test_the_early_reading_knows_the_commands_flags_and_options():
    for name, early in _startup.EARLY_COMMANDS.items():
        command = main.commands[name]
        options = {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}
        flags = {opt for p in command.params if isinstance(p, click.Option) and p.is_flag for opt in p.opts}
        assert early.flags == flags, f"adfemu {name}: its flags changed; update _startup.EARLY_COMMANDS"
        assert {"--config", *early.factory_options} <= options
        assert early.factory_arguments == any(isinstance(p, click.Argument) for p in command.params)
    every = {opt for name in _startup.EARLY_COMMANDS for p in main.commands[name].params for opt in p.opts}
    assert _startup.NO_AZURITE - {"--help"} <= every


@pytest.mark.parametrize("argv, expected", [
    (["serve", "--config", "c.json"], ([], "c.json")),
    (["serve", "--config=c.json", "--https", "--port", "0"], ([], "c.json")),
    (["serve", "--factory", "f", "--data", "d", "--verbose"], (["f"], None)),
    (["run", "f", "--pipeline", "P", "--data", "d", "--quiet"], (["f"], None)),
    (["run", "--pipeline", "P", "--plain", "f", "g", "--config", "c.json"], (["f", "g"], "c.json")),
    (["run", "--quiet", "f", "--", "--odd-name"], (["f", "--odd-name"], None)),
    (["serve", "--factory", "f", "--storage", "UseDevelopmentStorage=true"], None),  # storage given: no Azurite
    (["serve", "--config", "c.json", "--state=dir"], None),
    (["run", "f", "--emulator", "http://127.0.0.1:1"], None),
    (["run", "f", "--help"], None),
    (["run", "f", "-x"], None),  # unexpected: left to click
    (["serve"], None),
    (["serve", "extra"], None),
    (["serve", "--factory"], None),
    (["run", "--pipeline", "P"], None),
    (["validate", "f"], None),
    ([], None),
])
def test_reads_which_command_lines_start_azurite(argv, expected):
    assert _startup.early_sources(argv) == expected


def test_begins_azurite_before_click_is_imported():
    script = ("import sys\nfrom adfemu import _startup\n"
              f"_startup.begin_early(['serve', '--config', {str(FIXTURES / 'seed-emulator.json')!r}])\n"
              "began = _startup._early is not None and 'click' not in sys.modules\n"
              "azurite = _startup.begin_azurite().wait()\n"
              "print(began, azurite.url)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"True http://127\.0\.0\.1:\d+\n", done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_uses_the_azurite_it_began_with_the_factory_accounts(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))  # where Azurite's folder goes: one per Azurite started
    proc = subprocess.Popen([*PROGRAM, "serve", "--factory", str(FIXTURES / "retrain-hourly"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        banner = {}
        for line in proc.stdout:
            if m := re.match(r"(adfemu emulator listening on|storage connection string \((\w+)\):) (\S+)", line):
                banner[m.group(2) or "url"] = m.group(3)
            if line.startswith("health:"):
                break
        with urllib.request.urlopen(f"{banner['url']}/_emulator/health", timeout=5) as answer:
            storage = json.loads(answer.read())["storage"]
        assert child_processes(proc.pid) == [storage["pid"]] and storage["restarts"] == 0
        assert len(list(tmp_path.glob("adfemu-azurite-*"))) == 1
        blobs = BlobServiceClient.from_connection_string(banner["retrainstore"])
        blobs.create_container("early").upload_blob("a.txt", b"kept")
        assert blobs.get_container_client("early").download_blob("a.txt").readall() == b"kept"
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    assert proc.returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_usage_error_stops_the_azurite_begun_for_it(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    done = subprocess.run([*PROGRAM, "serve", "--config", str(FIXTURES / "seed-emulator.json"), "--factory",
                           str(FIXTURES / "seed-factory")], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and "give exactly one of --config and --factory" in done.stderr
    assert list(tmp_path.glob("adfemu-azurite-*")) == [], "the Azurite begun early must be stopped and removed"
    assert not any(str(tmp_path) in line for line in _command_lines()), "no Azurite left running"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_unused_azurite_is_stopped_before_the_program_ends(tmp_path):
    script = ("from adfemu import _startup\n"
              f"_startup.begin_early(['run', {str(FIXTURES / 'seed-factory')!r}])\n"
              "_startup._early.wait()  # running; no command takes it\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert not any(str(tmp_path) in line for line in _command_lines()), "no Azurite left running"
    assert list(tmp_path.glob("adfemu-azurite-*")) == []


def _command_lines() -> list[str]:
    lines = []
    for entry in Path("/proc").iterdir():
        try:
            lines.append((entry / "cmdline").read_text(errors="replace") if entry.name.isdigit() else "")
        except OSError:  # ended meanwhile
            pass
    return lines
