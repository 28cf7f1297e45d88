"""The pytest plugin (registered through the ``pytest11`` entry point: installing adfemu is enough).

Fixture ``adfemu``: an ``adfemu.Environment`` shared by the tests of one session (one per xdist worker),
reset before each test (web services, models, jobs, journal, and every container). Options:

- ``--adfemu-url URL`` / ``--adfemu-ca-bundle FILE``: use a running `adfemu serve` instead of starting one;
- ini ``adfemu_factories``: factories (paths relative to the ini file) whose storage accounts and web services
  exist from the start; a factory loaded later makes Azurite restart once for new accounts (blobs kept);
- ini ``adfemu_config``: an emulator config to serve instead of provisioning from factories;
- ini ``adfemu_https``: serve the emulator over HTTPS with a new local CA;
- ini ``adfemu_state``: a folder (relative to the ini file) that keeps the emulator's state and blobs between
  sessions, as ``adfemu serve --state`` (each xdist worker gets its own subfolder, ``gw0``...);
- ``--adfemu-report DIR``: write the HTML report of every run a test made to DIR (``<test>-<n>.html``);
- ini ``adfemu_sql``: lines ``LINKED_SERVICE=FILE`` backing SQL linked services with SQLite files (paths relative to
  the ini file); a test can also pass ``sql={...}`` to ``adfemu.run``.

A test that fails shows the activity table of each failed run it made in its failure report.
"""
from __future__ import annotations

from typing import Iterator

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("adfemu", "adfemu: the emulated Azure side for ADF pipeline tests")
    group.addoption("--adfemu-url", metavar="URL", help="use a running `adfemu serve` at URL instead of starting one")
    group.addoption("--adfemu-ca-bundle", metavar="FILE", help="the CA bundle of an `adfemu serve --https`")
    group.addoption("--adfemu-report", metavar="DIR", help="write the HTML report of every pipeline run to DIR")
    parser.addini("adfemu_factories", type="paths", default=[],
                  help="factories provisioned when the emulator starts (paths relative to the ini file)")
    parser.addini("adfemu_config", type="paths", default=[], help="an emulator config to serve (instead of "
                  "provisioning web services from the factories)")
    parser.addini("adfemu_https", type="bool", default=False, help="serve the emulator over HTTPS (a local CA)")
    parser.addini("adfemu_sql", type="linelist", default=[], help="LINKED_SERVICE=FILE lines: SQL linked services "
                  "backed by SQLite files (paths relative to the ini file)")
    parser.addini("adfemu_state", type="paths", default=[], help="a folder that keeps the emulator's state and "
                  "blobs between sessions (adfemu serve --state); one subfolder per xdist worker")


@pytest.fixture(scope="session")
def adfemu_environment(pytestconfig: pytest.Config) -> Iterator["adfemu.Environment"]:  # noqa: F821
    """The session's environment (one per xdist worker): started here, or attached with --adfemu-url."""
    import adfemu

    url = pytestconfig.getoption("--adfemu-url")
    try:
        sql = _sql_lines(pytestconfig)
        if url:
            env = adfemu.connect(url, ca_bundle=pytestconfig.getoption("--adfemu-ca-bundle"), sql=sql)
        else:
            config = pytestconfig.getini("adfemu_config")
            state = pytestconfig.getini("adfemu_state")
            worker = getattr(pytestconfig, "workerinput", {}).get("workerid")
            env = adfemu.start(*pytestconfig.getini("adfemu_factories"), config=config[0] if config else None,
                               https=pytestconfig.getini("adfemu_https"), sql=sql,
                               state=(state[0] / worker if worker else state[0]) if state else None)
    except adfemu.AdfemuError as exc:  # one line for each test that needs it, no traceback
        pytest.fail(f"adfemu: {exc}", pytrace=False)
    try:
        yield env
    finally:
        env.close()


@pytest.fixture
def adfemu(adfemu_environment: "adfemu.Environment") -> "adfemu.Environment":  # noqa: F811,F821
    """The emulated Azure side, reset for this test: ``adfemu.run(factory, pipeline, ...)``,
    ``adfemu.upload(path, data)``, ``adfemu.download(path)``, ``adfemu.list_blobs()``,
    ``adfemu.score(factory, linked_service, rows)``, ``adfemu.requests(api)``, ``adfemu.load(factory)``,
    ``with adfemu.fault("error", api="bes", status=503, count=1): ...`` (a fault rule for the block)."""
    adfemu_environment.reset()
    return adfemu_environment


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    env = getattr(item, "funcargs", {}).get("adfemu")
    if report.when != "call" or env is None or not getattr(env, "runs", None):
        return
    from adfemu import run_reports
    folder = item.config.getoption("--adfemu-report")
    if folder:
        from pathlib import Path
        import re
        Path(folder).mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")
        for n, result in enumerate(env.runs, 1):
            Path(folder, f"{stem}-{n}.html").write_text(run_reports.html(result.record), encoding="utf-8")
    if report.failed:
        for result in env.runs:
            if result.status != "Succeeded":
                report.sections.append((f"adfemu run {result.pipeline} ({result.status})",
                                        run_reports.table(result.record)))


def _sql_lines(pytestconfig: pytest.Config) -> dict[str, str]:
    import adfemu

    base = pytestconfig.inipath.parent if pytestconfig.inipath else pytestconfig.rootpath
    mapping = {}
    for line in pytestconfig.getini("adfemu_sql"):
        name, sep, path = line.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise adfemu.RunInputError(f"adfemu_sql: '{line}' is not LINKED_SERVICE=FILE")
        mapping[name.strip()] = str(base / path.strip())
    return mapping
