"""Installed from a wheel, adfemu is one top-level package that works in a user's own repository.

The wheel is built from a copy of the sources (``pip wheel --no-build-isolation``), installed without
dependencies into a new venv whose dependencies come from this project's venv (minus adfemu itself), inside a
temporary "user repository" that has its own ``schemas/``, ``runner/`` and ``emulator/`` packages and a ``tests/``
folder holding only README's example test file. Then ``pytest -n 2`` runs it there.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("adfemu", "emulator", "runner", "schemas")
MAPPED = {"adfemu": "adfemu", "emulator": "adfemu/emulator", "runner": "adfemu/runner", "schemas": "adfemu/schemas"}


def _readme_test_file() -> str:
    """The test file README.md shows under "Test your own factory"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(# tests/test_retraining\.py\n.*?)```", text, re.S)
    assert match, "README.md lost its example test file"
    return match.group(1)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in (*SOURCES, "pyproject.toml", "README.md", "package.json", "package-lock.json"):
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, source / name)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = out.glob("adfemu-*.whl")
    return built


def test_the_wheel_holds_one_top_level_package_with_every_module_and_data_file(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"adfemu", wheel.name.split("-py3")[0] + ".dist-info"}
    expected = {f"{MAPPED[top]}/{p.relative_to(ROOT / top).as_posix()}"
                for top in SOURCES for p in (ROOT / top).rglob("*")
                if p.is_file() and p.suffix in (".py", ".json", ".typed", ".cjs") and "__pycache__" not in p.parts}
    missing = sorted(expected - set(names))
    assert not missing, f"files the wheel forgot (list the subpackage or the data file in pyproject.toml): {missing}"
    packages = {n.rsplit("/", 1)[0] for n in names if n.endswith(".py")}
    assert all(f"{p}/__init__.py" in names for p in packages)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "adfemu = adfemu.pytest_plugin" in meta and "adfemu = adfemu.__main__:main" in meta


@pytest.fixture(scope="module")
def user_python(wheel, tmp_path_factory) -> Path:
    """A new venv with the wheel; its dependencies are linked from this venv (without adfemu's editable install)."""
    tmp_path = tmp_path_factory.mktemp("user-venv")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    deps = tmp_path / "deps"
    deps.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        if not re.match(r"(adfemu|__editable__)", entry.name, re.I) and entry.name not in ("pip", "_distutils_hack"):
            (deps / entry.name).symlink_to(entry)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "adfemu-test-deps.pth").write_text(f"{deps}\n")
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                           str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return python


def _environ(**changes: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHON", "ADFEMU"))}
    return {**env, **changes}


def test_a_user_repository_with_its_own_packages_runs_the_readme_tests(wheel, user_python, tmp_path):
    python = user_python
    repo = tmp_path / "user-repo"
    for own in ("schemas", "runner", "emulator"):  # common names; adfemu must not shadow or import them
        (repo / own).mkdir(parents=True)
        (repo / own / "__init__.py").write_text(f"OWNER = 'user'\nNAME = {own!r}\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_retraining.py").write_text(_readme_test_file() + f'''

def test_my_own_packages_are_mine():
    import schemas, runner, emulator
    assert (schemas.OWNER, runner.OWNER, emulator.OWNER) == ("user", "user", "user")
''')
    shutil.copytree(ROOT / "fixtures" / "seed-factory-corrected", repo / "seed-factory-corrected")
    shutil.copytree(ROOT / "fixtures" / "seed-factory", repo / "seed-factory")
    shutil.copytree(ROOT / "fixtures" / "seed-data", repo / "seed-data")
    env = _environ(PATH=f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",  # Azurite
                   PYTHONPATH=str(repo))  # on PATH; the user's own packages are importable by name

    shown = subprocess.run([str(python), "-m", "pip", "show", "-f", "adfemu"], capture_output=True, text=True,
                           cwd=repo, env=env)
    files = shown.stdout.split("Files:", 1)[1].split()
    assert files and {f.split("/")[0] for f in files if not f.startswith("..")} == {
        "adfemu", wheel.name.split("-py3")[0] + ".dist-info"}
    curated = subprocess.run([str(python), "-c", "import adfemu; print(sorted(adfemu.__all__)); "
                              "import adfemu.emulator, adfemu.runner, adfemu.schemas; print(adfemu.__file__)"],
                             capture_output=True, text=True, cwd=repo, env=env)
    assert "'start'" in curated.stdout and str(python.parent.parent) in curated.stdout, curated.stderr

    done = subprocess.run([str(python), "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q", "tests"],
                          capture_output=True, text=True, cwd=repo, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout


def test_install_azurite_puts_the_pinned_azurite_where_adfemu_finds_it(user_python, tmp_path):
    """No node_modules anywhere above, nothing on PATH but Node.js: install-azurite, then start from the cache."""
    adfemu = user_python.parent / "adfemu"
    node = Path(shutil.which("node")).parent
    env = _environ(ADFEMU_CACHE=str(tmp_path / "cache"), PATH=f"{user_python.parent}{os.pathsep}{node}")
    work = tmp_path / "work"
    work.mkdir()
    before = subprocess.run([str(user_python), "-c", "import adfemu; adfemu.start()"], capture_output=True,
                            text=True, cwd=work, env=env)
    assert before.returncode == 1 and "Azurite is not installed: run `adfemu install-azurite`" in before.stderr
    done = subprocess.run([str(adfemu), "install-azurite"], capture_output=True, text=True, cwd=work, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    installed = tmp_path / "cache" / "azurite-3.37.0" / "node_modules" / ".bin" / "azurite-blob"
    assert f"Azurite installed: {installed}" in done.stdout
    started = subprocess.run([str(user_python), "-c", "import adfemu\nwith adfemu.start() as env:\n"
                              "    env.upload('c1c/x.txt', b'ok'); print(env.download('c1c/x.txt'))"],
                             capture_output=True, text=True, cwd=work, env=env, timeout=120)
    assert started.stdout.strip() == "b'ok'", started.stderr
