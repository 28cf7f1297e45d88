"""adfemu's NODE_OPTIONS preload for Azurite (emulator/azurite_preload.cjs): Azurite's Application Insights SDK
is loaded the first time something touches it, so with --disableTelemetry never; the user's own NODE_OPTIONS
are kept. Run with the real node and the pinned Azurite."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from adfemu.emulator.azurite import PRELOAD, Azurite, answers, find_azurite_blob, node_options

from .helpers import child_processes

# A require of the SDK as Azurite's telemetry module makes it (resolved from that module's folder), then whether
# the SDK's files were loaded before and after the first touch.
PROBE = """
const telemetry = require("path").join(process.argv[1], "dist/src/common/Telemetry.js");
const sdk = require("module").createRequire(telemetry)("applicationinsights");
const loaded = () => Object.keys(require.cache).some((file) => file.includes("/applicationinsights/"));
const before = loaded();
const setup = typeof sdk.setup;
console.log(JSON.stringify({before, setup, after: loaded(),
                            heapMiB: require("v8").getHeapStatistics().heap_size_limit / 1048576}));
"""


def _azurite_package() -> Path:
    return Path(os.path.realpath(find_azurite_blob())).parents[2]  # .../azurite/dist/src/blob/main.js


def _probe(options: str) -> dict:
    done = subprocess.run(["node", "-e", PROBE, str(_azurite_package())], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NODE_OPTIONS": options})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_telemetry_sdk_is_loaded_the_first_time_it_is_touched():
    assert _probe(node_options("")) == {"before": False, "setup": "function", "after": True,
                                        "heapMiB": _probe("")["heapMiB"]}


def test_without_the_preload_azurite_loads_the_sdk_at_once():
    """What the preload is for: the plain require loads the SDK (2,800 modules) before anything uses it."""
    assert _probe("")["before"] is True


def test_the_users_node_options_are_kept_and_any_path_is_quoted(tmp_path):
    folder = tmp_path / 'a "quoted" folder with spaces'
    folder.mkdir()
    preload = folder / PRELOAD.name
    shutil.copyfile(PRELOAD, preload)
    found = _probe(node_options("--max-old-space-size=200", preload))
    assert found["before"] is False and found["setup"] == "function"
    assert 200 <= found["heapMiB"] < 300  # the user's option still applies


def test_the_azurite_adfemu_starts_runs_with_the_preload(monkeypatch):
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=300")
    with Azurite() as azurite:
        assert answers(azurite.url)
        (node,) = child_processes(azurite.pid)  # under the guard
        environ = dict(entry.split("=", 1) for entry in
                       Path(f"/proc/{node}/environ").read_text().split("\0") if "=" in entry)
    assert environ["NODE_OPTIONS"] == node_options("--max-old-space-size=300")
    assert str(PRELOAD) in environ["NODE_OPTIONS"]


def test_without_the_preload_file_azurite_starts_as_it_would_alone(tmp_path):
    """node refuses to start at all with a --require it cannot find: a broken install must not stop Azurite."""
    assert node_options("--max-old-space-size=200", tmp_path / "gone.cjs") == "--max-old-space-size=200"
    assert _probe(node_options("", tmp_path / "gone.cjs"))["before"] is True
