"""Azurite lifecycle: start the blob service from ``node_modules`` on a free loopback port.

Azurite is the real Azure Storage emulator. adfemu starts it on a folder (``location``: a temporary one, or
``DIR/azurite`` with ``--state DIR``) on port 0 and learns the port from the line Azurite prints
("successfully listens on ..."), so two test workers never race for a port. It runs in its own process group,
which is what ``stop`` kills when SIGTERM is not enough: the node process and anything it spawned go together.
``Supervisor`` owns it from one thread and restarts it when it dies (a watchdog), on the same port and folder.

On Linux, Azurite runs under a small one-threaded guard (``_GUARD``, hand-written because nothing else fits):
when the emulator dies, however it dies, the guard gets the parent-death signal and forwards exactly one
SIGTERM to Azurite, which then saves its blob index and exits. Without the guard, the signal would reach
Azurite several times (Linux sends it again each time the dying emulator's threads hand the child on to the
next thread), and the second SIGTERM kills Azurite in the middle of saving, losing the blobs of its last
seconds.
"""
from __future__ import annotations

import logging
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

# The guard (see the module docstring): argv = the pid of the process starting it, then the Azurite command. It
# asks Linux for SIGTERM when the thread that started it ends (PR_SET_PDEATHSIG), and quits if that happened
# already. This is done here, not in a ``preexec_fn``: a fork of a process whose other threads are importing
# modules can deadlock there on the import lock (adfemu imports while Azurite starts), and without a
# ``preexec_fn`` Python can spawn with vfork. The guard is one-threaded, so it forks and execs Azurite itself
# (importing ``subprocess`` would add a third to its start, and Azurite waits for it). Its exit status is
# Azurite's (128+N when Azurite was killed by signal N); if the guard itself is killed, Azurite gets SIGKILL
# (never left behind).
_GUARD = r"""
import ctypes, os, signal, sys
libc = ctypes.CDLL(None)
libc.prctl(1, signal.SIGTERM)
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
guard = os.getpid()
child = os.fork()
if child == 0:
    try:
        libc.prctl(1, signal.SIGKILL)
        if os.getppid() == guard:
            os.execv(sys.argv[2], sys.argv[2:])
    except OSError as exc:
        os.write(2, f"cannot run {sys.argv[2]}: {exc.strerror}\n".encode())
    finally:
        os._exit(127)
def forward(*_):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.kill(child, signal.SIGTERM)
signal.signal(signal.SIGTERM, forward)
signal.signal(signal.SIGINT, forward)
code = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
sys.exit(128 - code if code < 0 else code)
"""

DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"successfully listens on (https?://[^\s]+)")
_START_TIMEOUT = 60.0


def connection_string(url: str, account: str, key: str) -> str:
    """The connection string of ``account`` on the Azurite at ``url`` (its path-style blob endpoint)."""
    return f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};BlobEndpoint={url}/{account};"


class AzuriteError(RuntimeError):
    """Azurite could not be found, started or reached; the message is one line naming the cause."""


PIN = Path(__file__).resolve().parent / "azurite-pin"  # package.json + package-lock.json (links to the repo's)


def _pinned_version() -> str:
    """The Azurite version adfemu pins."""
    import json
    return json.loads((PIN / "package.json").read_text())["devDependencies"]["azurite"]


def user_cache() -> Path:
    """Where `adfemu install-azurite` puts the pinned Azurite: $ADFEMU_CACHE, else $XDG_CACHE_HOME/adfemu."""
    explicit = os.environ.get("ADFEMU_CACHE")
    base = Path(explicit) if explicit else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "adfemu"
    return base / f"azurite-{_pinned_version()}"


def find_azurite_blob() -> str:
    """Locate ``azurite-blob``: $ADFEMU_AZURITE, then ``node_modules/.bin`` in the working directory or its
    parents (or above this package, for a source checkout), then the per-user cache of `adfemu install-azurite`,
    then PATH."""
    explicit = os.environ.get("ADFEMU_AZURITE")
    if explicit:
        if not Path(explicit).exists():
            raise AzuriteError(f"ADFEMU_AZURITE names {explicit}, which does not exist")
        return str(Path(explicit).absolute())  # Azurite runs in its own working folder
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            candidate = folder / "node_modules" / ".bin" / "azurite-blob"
            if candidate.exists():
                return str(candidate)
    cached = user_cache() / "node_modules" / ".bin" / "azurite-blob"
    if cached.exists():
        return str(cached)
    found = shutil.which("azurite-blob")
    if found:
        return found
    raise AzuriteError("Azurite is not installed: run `adfemu install-azurite` (needs Node.js and npm), or "
                       "`npm install azurite` in your project, or set ADFEMU_AZURITE to an azurite-blob executable")


def install(force: bool = False, echo=print) -> Path:
    """`adfemu install-azurite`: ``npm ci`` of the pinned package.json and lockfile into ``user_cache()``."""
    target = user_cache()
    executable = target / "node_modules" / ".bin" / "azurite-blob"
    if executable.exists() and not force:
        echo(f"already installed in {target}")
        return executable
    npm = shutil.which("npm")
    if npm is None:
        raise AzuriteError("npm is not installed (it comes with Node.js 20 or newer): install Node.js, then retry")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PIN / name, target / name)
    echo(f"npm ci in {target} (Azurite {_pinned_version()}; this takes about a minute)")
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                            capture_output=True, text=True)
    if result.returncode != 0 or not executable.exists():
        raise AzuriteError(f"npm ci failed in {target}: {_last([result.stderr or result.stdout])}")
    return executable


def _needs_node(executable: str) -> None:
    """azurite-blob is a Node.js script: without ``node`` the exec fails with a confusing 'No such file'."""
    try:
        with open(executable, "rb") as handle:
            first = handle.readline(200)
    except OSError:
        return
    if first.startswith(b"#!") and b"node" in first and shutil.which("node") is None:
        raise AzuriteError("Node.js is not installed (azurite-blob needs `node` on PATH; Node.js 20 or newer)")


PRELOAD = Path(__file__).resolve().parent / "azurite_preload.cjs"  # defers Azurite's telemetry SDK (see the file)


def node_options(existing: str, preload: Path = PRELOAD) -> str:
    """NODE_OPTIONS for Azurite: the user's own, then ``--require`` of ``preload`` (quoted as Node.js parses
    NODE_OPTIONS, so a path with spaces or quotes survives). Without the file (a broken install), Azurite starts
    as it would alone: node refuses to start with a ``--require`` it cannot find."""
    if not preload.is_file():
        return existing
    quoted = str(preload).replace("\\", "\\\\").replace('"', '\\"')
    return f'{existing} --require "{quoted}"'.strip()


def azurite_accounts_env(accounts: dict[str, str]) -> str:
    """AZURITE_ACCOUNTS value. The well-known dev account is kept: setting the variable removes it otherwise."""
    merged = {DEV_ACCOUNT: DEV_KEY, **accounts}
    return ";".join(f"{name}:{key}" for name, key in merged.items())


@dataclass
class Azurite:
    """One Azurite blob process. Use as a context manager or call ``start``/``stop``.

    Blobs live in ``location`` (a folder; by default a temporary one removed by ``stop``), not in memory, so
    that ``restart`` (new accounts: Azurite reads them only at start-up) keeps every blob."""

    accounts: dict[str, str] = field(default_factory=dict)
    extent_memory_limit_mb: int = 512
    executable: str | None = None
    location: str | None = None
    url: str | None = None
    preferred_port: int = 0  # tried first (e.g. the port of the previous run with --state), else a free one
    inherit_fds: tuple[int, ...] = ()  # descriptors Azurite keeps open for its life (the state folder's lock)
    abandoned: threading.Event = field(default_factory=threading.Event, repr=False)  # a start in progress gives up
    _proc: subprocess.Popen | None = field(default=None, repr=False)
    _log: Path | None = field(default=None, repr=False)
    _workdir: tempfile.TemporaryDirectory | None = field(default=None, repr=False)
    _port: int = field(default=0, repr=False)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def port(self) -> int:
        return self._port

    def start(self, timeout: float = _START_TIMEOUT) -> "Azurite":
        if self._port == 0 and self.preferred_port:
            self._port = self.preferred_port
            try:
                return self._start(timeout)
            except AzuriteError:  # taken meanwhile: any free port
                self._port = 0
        return self._start(timeout)

    def _start(self, timeout: float) -> "Azurite":
        exe = self.executable or find_azurite_blob()
        _needs_node(exe)
        if self._workdir is None:
            self._workdir = tempfile.TemporaryDirectory(prefix="adfemu-azurite-")
        folder = self.location or self._workdir.name
        env = dict(os.environ, AZURITE_ACCOUNTS=azurite_accounts_env(self.accounts),
                   NODE_OPTIONS=node_options(os.environ.get("NODE_OPTIONS", "")))
        cmd = [exe, "--blobHost", "127.0.0.1", "--blobPort", str(self._port), "--location", folder,
               "--silent", "--disableTelemetry", "--skipApiVersionCheck"]
        if sys.platform.startswith("linux"):
            cmd = [sys.executable, "-I", "-S", "-c", _GUARD, str(os.getpid()), *cmd]
        # Azurite prints to a file, not a pipe: when the emulator is killed, Azurite gets SIGTERM, prints that it is
        # closing and saves its blob index; a pipe would be closed by then, and the failed write would crash it.
        self._log = Path(self._workdir.name) / "azurite.log"
        try:
            with open(self._log, "wb") as output:
                self._proc = subprocess.Popen(cmd, cwd=self._workdir.name, env=env, stdout=output,
                                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              start_new_session=True,
                                              pass_fds=self.inherit_fds)
        except OSError as exc:
            self._cleanup()
            raise AzuriteError(f"cannot run {exe}: {exc.strerror}") from None
        try:
            self.url = self._read_listen_url(timeout)
            self._port = int(self.url.rsplit(":", 1)[1])
            wait_until_answers(self.url, timeout)
        except BaseException:
            self._halt()
            if self.url is None:  # never started: a temporary folder goes (a restart keeps its blobs)
                self._cleanup()
            raise
        return self

    def restart(self, accounts: dict[str, str] | None = None, timeout: float = _START_TIMEOUT) -> "Azurite":
        """Stop and start again on the same port and folder (blobs kept), with ``accounts`` added."""
        self.accounts = {**self.accounts, **(accounts or {})}
        self._halt()
        return self._start(timeout)

    @property
    def exited(self) -> int | None:
        """The exit status when the process has ended on its own (None while it runs or when stopped)."""
        proc = self._proc
        return proc.poll() if proc is not None else None

    @property
    def folder(self) -> str | None:
        return self.location or (self._workdir.name if self._workdir else None)

    def _read_listen_url(self, timeout: float) -> str:
        """The URL from Azurite's "successfully listens on" line (polled in its output file)."""
        deadline = time.monotonic() + timeout
        while True:
            exited = self._proc.poll() is not None if self._proc else True
            text = self._log.read_text(errors="replace") if self._log and self._log.exists() else ""
            match = _LISTENING.search(text)
            if match:
                return match.group(1).rstrip("/")
            if exited:
                if "EADDRINUSE" in text:
                    raise AzuriteError(f"Azurite cannot listen: port {self._port} on 127.0.0.1 is in use")
                raise AzuriteError(f"Azurite exited before listening: {_last([text])}")
            if time.monotonic() > deadline:
                raise AzuriteError(f"Azurite did not report its port within {timeout:.0f}s: {_last([text])}")
            if self.abandoned.is_set():  # stopped before it was ready (`adfemu serve` with a usage error)
                raise AzuriteError("Azurite was stopped while it started")
            time.sleep(0.005)  # a small file read: polling often costs little and start-up waits less

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after ``timeout``; remove a temporary folder.
        Safe to call twice."""
        self._halt(timeout)
        self._cleanup()

    def _halt(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # to the guard, which forwards one: never two to Azurite
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=timeout)

    def _cleanup(self) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def connection_string(self, account: str = DEV_ACCOUNT) -> str:
        return connection_string(self.url, account, DEV_KEY if account == DEV_ACCOUNT else self.accounts[account])

    def __enter__(self) -> "Azurite":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Supervisor:
    """Owns one Azurite from a long-lived thread of its own: start, restart and stop run there, so the
    parent-death signal (which Linux ties to the starting *thread*) fires only when the process goes, even when
    a restart is asked for from a short-lived request thread.

    A watchdog thread checks every ``interval`` seconds that Azurite still runs; when it has died, it is started
    again on the same port and folder (so blobs survive), the restart is logged and counted, and ``on_restart``
    (given the moment of the death) reports whether the blobs written before it are still there."""

    def __init__(self, azurite: Azurite, interval: float = 0.5,
                 on_restart: Callable[[float], tuple[int, int]] | None = None, kept_after_stop: bool = False):
        self.azurite = azurite
        self.interval = interval
        self.on_restart = on_restart
        self.kept_after_stop = kept_after_stop  # the folder outlives the emulator (``--state``)
        self.restarts = 0
        self.last_restart: str | None = None
        self.last_exit: int | None = None
        self.checked: tuple[int, int] = (0, 0)  # (blobs checked, blobs missing) after the last restart
        self._stopping = threading.Event()
        self._tasks: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="azurite-supervisor", daemon=True)
        self._thread.start()
        self._watchdog = threading.Thread(target=self._watch, name="azurite-watchdog", daemon=True)

    def _serve(self) -> None:
        while True:
            task, done = self._tasks.get()
            if task is None:
                done.put(None)
                return
            try:
                done.put((task(), None))
            except BaseException as exc:  # handed to the caller
                done.put((None, exc))

    def _run(self, task):
        return self._result(self._submit(task))

    def _submit(self, task) -> queue.Queue:
        done: queue.Queue = queue.Queue()
        self._tasks.put((task, done))
        return done

    @staticmethod
    def _result(done: queue.Queue):
        result, error = done.get()
        if error is not None:
            raise error
        return result

    def start(self) -> Azurite:
        return self.begin().wait()

    def begin(self) -> "Starting":
        """Start Azurite without waiting: the caller does its own work meanwhile, then ``wait()``s (start-up of
        `adfemu serve` and `adfemu run`: Python's imports and the factory's validation overlap Azurite's start)."""
        return Starting(self, self._submit(self.azurite.start))

    def add_accounts(self, accounts: dict[str, str]) -> None:
        """Restart with more accounts (same port, blobs kept)."""
        self._run(lambda: self.azurite.restart(accounts))

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            if self.azurite.exited is None:
                continue
            died = time.time()
            try:
                code = self._run(self._revive)
            except Exception as exc:  # noqa: BLE001 - tried again at the next tick
                log.error("storage: Azurite exited and could not be restarted: %s", exc)
                continue
            if code is None:
                continue
            log.warning("storage: Azurite exited (status %s) and was restarted at %s", code, self.azurite.url)
            checked = self.checked
            if self.on_restart is not None:
                try:
                    checked = self.on_restart(died)
                except Exception as exc:  # noqa: BLE001 - storage down again: the next restart checks
                    log.warning("storage: could not check the blobs after the restart: %s", exc)
                if checked[1]:
                    log.warning("storage: %d of the %d blobs written last before Azurite exited are gone",
                                checked[1], checked[0])
            # published together, once the check is done
            self.checked, self.last_exit = checked, code
            self.last_restart = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self.restarts += 1

    def _revive(self) -> int | None:
        """On the supervisor thread: restart a dead Azurite; its exit status, or None when it runs after all."""
        code = self.azurite.exited
        if code is None or self._stopping.is_set():
            return None
        self.azurite.restart()
        return code

    def status(self) -> dict:
        """For ``/_emulator/health``: who started storage, where its blobs are, and its restarts."""
        checked, missing = self.checked
        return {"startedByAdfemu": True, "pid": self.azurite.pid, "location": self.azurite.folder,
                "keptAfterStop": self.kept_after_stop,
                "restarts": self.restarts, "lastRestart": self.last_restart, "lastExitStatus": self.last_exit,
                "dataKept": missing == 0, "blobsChecked": checked, "blobsMissing": missing}

    def stop(self) -> None:
        self._stopping.set()
        self.azurite.abandoned.set()
        if self._watchdog.is_alive():
            self._watchdog.join(timeout=10)
        if not self._thread.is_alive():
            return
        try:
            self._run(self.azurite.stop)
        finally:
            done: queue.Queue = queue.Queue()
            self._tasks.put((None, done))
            done.get()
            self._thread.join(timeout=10)


@dataclass
class Starting:
    """An Azurite being started by its supervisor."""
    supervisor: Supervisor
    _done: queue.Queue = field(repr=False)
    _azurite: Azurite | None = field(default=None, repr=False)

    def wait(self) -> Azurite:
        """The running Azurite (raises what its start raised); the watchdog starts with it."""
        if self._azurite is None:
            self._azurite = self.supervisor._result(self._done)
            self.supervisor._watchdog.start()
        return self._azurite


def begin(accounts: dict[str, str]) -> Starting:
    """Spawn an Azurite (temporary folder, port 0) for these accounts and return at once."""
    return Supervisor(Azurite(accounts=dict(accounts))).begin()


def _last(lines: list[str]) -> str:
    """The end of what a process printed, on one line."""
    return " ".join("".join(lines).split())[-300:] or "(no output)"


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
    import urllib.error  # imported once Azurite is spawned: http, email and ssl come with it (30 ms)
    import urllib.request
    try:
        urllib.request.urlopen(f"{url}/{DEV_ACCOUNT}?comp=list", timeout=timeout)
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False
    return True
