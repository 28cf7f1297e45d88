"""Azurite lifecycle: start the blob service from ``node_modules`` on a free loopback port.

Azurite is the real Azure Storage emulator. adfemu starts it with in-memory persistence on
port 0 and learns the port from the line Azurite prints ("successfully listens on ..."),
so two test workers never race for a port. It runs in its own process group, which is
what ``stop`` signals: the node process and anything it spawned go together.
"""
from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"successfully listens on (https?://[^\s]+)")
_START_TIMEOUT = 60.0


class AzuriteError(RuntimeError):
    """Azurite could not be found, started or reached."""


def find_azurite_blob() -> str:
    """Locate ``azurite-blob``: $ADFEMU_AZURITE, then node_modules above the cwd or this package, then PATH."""
    explicit = os.environ.get("ADFEMU_AZURITE")
    if explicit:
        return explicit
    starts = [Path.cwd(), Path(__file__).resolve().parent]
    for start in starts:
        for folder in (start, *start.parents):
            candidate = folder / "node_modules" / ".bin" / "azurite-blob"
            if candidate.exists():
                return str(candidate)
    found = shutil.which("azurite-blob")
    if found:
        return found
    raise AzuriteError("azurite-blob was not found: run `npm ci` in the project folder (make does it) "
                       "or set ADFEMU_AZURITE to its path")


def azurite_accounts_env(accounts: dict[str, str]) -> str:
    """AZURITE_ACCOUNTS value. The well-known dev account is kept: setting the variable removes it otherwise."""
    merged = {DEV_ACCOUNT: DEV_KEY, **accounts}
    return ";".join(f"{name}:{key}" for name, key in merged.items())


@dataclass
class Azurite:
    """One Azurite blob process. Use as a context manager or call ``start``/``stop``."""

    accounts: dict[str, str] = field(default_factory=dict)
    extent_memory_limit_mb: int = 512
    executable: str | None = None
    url: str | None = None
    _proc: subprocess.Popen | None = field(default=None, repr=False)
    _pump: threading.Thread | None = field(default=None, repr=False)
    _workdir: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = _START_TIMEOUT) -> "Azurite":
        exe = self.executable or find_azurite_blob()
        self._workdir = tempfile.TemporaryDirectory(prefix="adfemu-azurite-")
        env = dict(os.environ, AZURITE_ACCOUNTS=azurite_accounts_env(self.accounts))
        cmd = [exe, "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence",
               "--extentMemoryLimit", str(self.extent_memory_limit_mb),
               "--silent", "--disableTelemetry", "--skipApiVersionCheck"]
        self._proc = subprocess.Popen(cmd, cwd=self._workdir.name, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True, text=True, preexec_fn=_die_with_parent)
        try:
            self.url = self._read_listen_url(timeout)
            wait_until_answers(self.url, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _read_listen_url(self, timeout: float) -> str:
        lines: queue.Queue[str | None] = queue.Queue()
        proc = self._proc

        def pump() -> None:  # keeps draining stdout for the life of the process
            assert proc and proc.stdout
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        self._pump = threading.Thread(target=pump, name="azurite-stdout", daemon=True)
        self._pump.start()
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AzuriteError(f"Azurite did not report its port within {timeout:.0f}s: {''.join(seen)[-500:]}")
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AzuriteError(f"Azurite exited before listening: {''.join(seen)[-500:]}")
            seen.append(line)
            match = _LISTENING.search(line)
            if match:
                return match.group(1).rstrip("/")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after ``timeout``. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=timeout)
        if self._pump is not None:  # it ends at EOF once the process is gone; never close the pipe under it
            self._pump.join(timeout=timeout)
            self._pump = None
        if proc is not None and proc.stdout:
            proc.stdout.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def connection_string(self, account: str = DEV_ACCOUNT) -> str:
        key = DEV_KEY if account == DEV_ACCOUNT else self.accounts[account]
        return (f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};"
                f"BlobEndpoint={self.url}/{account};")

    def __enter__(self) -> "Azurite":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started Azurite dies, however it dies (Linux), so a
    killed test run or `adfemu serve` never leaves Azurite behind. Linux sends it when the starting *thread*
    ends, so start Azurite from a long-lived thread (adfemu does, from the main thread)."""
    if sys.platform.startswith("linux"):
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def wait_until_answers(url: str, timeout: float = 10.0) -> None:
    """Poll until any HTTP answer comes back (Azurite answers an unsigned request with 4xx)."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        if answers(url):
            return
        if time.monotonic() > deadline:
            raise AzuriteError(f"storage at {url} does not answer")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def answers(url: str, timeout: float = 2.0) -> bool:
    """True when the storage service at ``url`` gives any HTTP response."""
    try:
        urllib.request.urlopen(f"{url}/{DEV_ACCOUNT}?comp=list", timeout=timeout)
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False
    return True
