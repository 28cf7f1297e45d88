"""Check the layering contracts of pyproject.toml ([tool.importlinter]) on the installed layout.

grimp (import-linter's graph builder) reads a package from one folder tree, but the repository keeps
``emulator/``, ``runner/`` and ``schemas/`` beside ``adfemu/`` and maps them with setuptools' ``package-dir``.
So this copies the sources into the layout a wheel installs (``adfemu/emulator``, ...) and runs
``lint-imports`` there. Usage::

    python tools/layering.py                # stage in a temporary folder, check, exit like lint-imports
    python tools/layering.py --stage DIR    # only stage into DIR (tests change a copy and check it)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPED = {"emulator": "emulator", "runner": "runner", "schemas": "schemas"}  # adfemu.<name> <- <folder>
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def stage(dest: Path) -> Path:
    """Copy the package sources into ``dest`` as installed: ``dest/adfemu/{emulator,runner,schemas}``."""
    package = dest / "adfemu"
    shutil.copytree(ROOT / "adfemu", package, ignore=IGNORED)
    for name, folder in MAPPED.items():
        shutil.copytree(ROOT / folder, package / name, ignore=IGNORED)
    return dest


def check(staged: Path) -> subprocess.CompletedProcess:
    """Run lint-imports on a staged tree with the repository's contracts."""
    lint = Path(sys.executable).with_name("lint-imports")
    env = dict(os.environ, PYTHONPATH=str(staged))
    return subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=staged, env=env,
                          capture_output=True, text=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", type=Path, help="only copy the installed layout into this folder")
    args = parser.parse_args()
    if args.stage:
        stage(args.stage)
        return 0
    with tempfile.TemporaryDirectory(prefix="adfemu-layering-") as folder:
        result = check(stage(Path(folder)))
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
