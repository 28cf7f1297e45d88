"""The layering rules hold for the whole tree (import-linter contracts in pyproject.toml), and they bite."""
from __future__ import annotations

import pytest

from .vendored import load_tool

layering = load_tool("layering")


def test_the_contracts_are_kept(tmp_path):
    result = layering.check(layering.stage(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module, line, broken", [
    ("runner/services.py", "import flask", "adfemu.runner.services -> flask"),
    ("runner/engine.py", "from adfemu.emulator import jobs", "adfemu.runner.engine -> adfemu.emulator.jobs"),
    ("emulator/jobs.py", "from adfemu.runner import engine", "adfemu.emulator.jobs -> adfemu.runner.engine"),
    ("schemas/checks.py", "import requests", "adfemu.schemas.checks -> requests"),
    ("runner/secrets.py", "import schemas", "adfemu.runner.secrets -> schemas"),
])
def test_a_deliberate_violation_breaks_a_contract(tmp_path, module, line, broken):
    staged = layering.stage(tmp_path)
    target = staged / "adfemu" / module
    target.write_text(target.read_text() + f"\n{line}\n")
    result = layering.check(staged)
    assert result.returncode == 1
    assert broken in result.stdout
