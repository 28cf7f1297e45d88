"""Serving: waitress on a loopback port in a background thread, and the whole stack
(Azurite unless one is given, the emulator, the server) that ``adfemu serve`` runs.

Idle and slow clients must not starve the others: waitress takes up to ``CONNECTION_LIMIT`` connections
(its default, 100, was reached by a few idle connection pools), closes a connection idle for
``CHANNEL_TIMEOUT`` seconds, and uses poll() (select() cannot watch descriptors above 1023). It reads a whole
request before a worker thread sees it, so a slow sender holds no thread. werkzeug's TLS server (waitress has
no TLS) runs a thread per connection: each gets the same idle timeout, and the TLS handshake happens in that
thread rather than in the accepting one, where a client that connects and sends nothing would block every
other client.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import waitress
from werkzeug.serving import WSGIRequestHandler, make_server

from .app import Emulator, create_app
from .azurite import DEV_ACCOUNT, Azurite, Starting, Supervisor, wait_until_answers
from . import experiments
from .config import Config
from .limits import CHANNEL_TIMEOUT, CLEANUP_INTERVAL, CONNECTION_LIMIT, SERVER_MAX_BODY, WAITRESS_BUFFERS
from .persistence import NOWHERE, Persistence, SqliteState
from .restore import saved_config
from .storage import BlobStore, parse_connection_string, warm_up as warm_up_storage
from .tls import LocalTls, local_tls


class _QuietHandler(WSGIRequestHandler):
    """No per-request lines on stderr (they would show SAS tokens); the emulator's journal records requests.
    A connection idle for ``timeout`` seconds (the TLS handshake included) is closed."""

    timeout = CHANNEL_TIMEOUT

    def log_request(self, *args, **kwargs) -> None:
        pass

    def log(self, *args, **kwargs) -> None:
        pass


class EmulatorServer:
    """One WSGI app on a loopback port (``port=0`` takes a free one; see ``url``): waitress for HTTP,
    werkzeug's threaded server when ``tls`` is given (waitress has no TLS)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, threads: int = 8, tls: LocalTls | None = None,
                 channel_timeout: int = CHANNEL_TIMEOUT, cleanup_interval: int = CLEANUP_INTERVAL):
        self.host, self.tls = host, tls
        if tls is not None:
            handler = type("_Handler", (_QuietHandler,), {"timeout": channel_timeout})
            self._server = make_server(host, port, app, threaded=True, request_handler=handler)
            # handshake lazily, in the connection's own thread and under its timeout (see the module docstring)
            self._server.socket = tls.context.wrap_socket(self._server.socket, server_side=True,
                                                          do_handshake_on_connect=False)
            self._server.ssl_context = tls.context
            self.port = self._server.server_port
        else:
            self._server = waitress.create_server(
                app, host=host, port=port, threads=threads, ident="adfemu", clear_untrusted_proxy_headers=True,
                connection_limit=CONNECTION_LIMIT, channel_timeout=channel_timeout,
                cleanup_interval=cleanup_interval, asyncore_use_poll=True, max_request_body_size=SERVER_MAX_BODY,
                **WAITRESS_BUFFERS)
            self.port = self._server.effective_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def start(self) -> "EmulatorServer":
        target = self._server.serve_forever if self.tls else self._server.run
        self._thread = threading.Thread(target=target, name="adfemu-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.tls is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=10)
            self._server.server_close()
            self._thread = None
            return
        self._stop_waitress()

    def _stop_waitress(self) -> None:
        """Stop the task threads first (a request being served finishes and wakes the loop, which needs the
        trigger still open), then close every channel from waitress's own loop thread (closing sockets from
        another thread races with its select()) and let the loop end."""
        server = self._server
        server.task_dispatcher.shutdown()  # waits (up to 5 s) for the requests being served; drops queued ones

        def close_all_channels() -> None:
            for channel in list(server._map.values()):
                channel.close()  # the listening socket's close also closes the trigger

        if self._thread is not None and self._thread.is_alive():
            try:
                server.trigger.pull_trigger(close_all_channels)
            except OSError:  # the trigger is already closed: the loop is ending on its own
                pass
            self._thread.join(timeout=10)
        if server._map:
            close_all_channels()
        self._thread = None


def storage_from_connection_string(text: str) -> BlobStore:
    """A BlobStore on the Azurite a user's connection string names (``--storage``); adfemu starts nothing."""
    parts = parse_connection_string(text)
    endpoint = parts.get("BlobEndpoint") or "http://127.0.0.1:10000/" + parts.get("AccountName", DEV_ACCOUNT)
    split = urlsplit(endpoint)
    store = BlobStore(f"{split.scheme}://{split.netloc}")
    if parts.get("AccountName") and parts.get("AccountKey"):
        store.remember_key(parts["AccountName"], parts["AccountKey"])
    return store


@dataclass
class Stack:
    emulator: Emulator
    server: EmulatorServer
    storage: Supervisor | None  # the Azurite adfemu started (None with a given storage)
    state: Persistence = NOWHERE  # ``--state DIR``: the SQLite state (closed last, after Azurite)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def azurite(self) -> Azurite | None:
        return self.storage.azurite if self.storage else None

    @property
    def ca_bundle(self) -> str | None:
        return str(self.server.tls.ca_bundle) if self.server.tls else None

    def close(self) -> None:
        """Stop everything started; Azurite is stopped even if an earlier step fails."""
        try:
            self.server.stop()
            self.emulator.close()
        finally:
            try:
                if self.server.tls is not None:
                    self.server.tls.cleanup()
                if self.storage is not None:
                    self.storage.stop()
            finally:
                self.state.close()


def start_stack(config: Config, host: str = "127.0.0.1", port: int = 0, storage: str | None = None,
                workers: int = 4, https: bool = False, ca_bundle: str | None = None,
                state: str | None = None, starting: Starting | None = None, warm_up: bool = True) -> Stack:
    """``state``: a folder for the state (SQLite) and Azurite's blobs, restored from it when it has them.
    ``starting``: an Azurite already being started (``azurite.begin``) for the config's accounts; accounts it was
    not given are added (a restart). ``warm_up``: import the storage SDK and the built-in experiments (numpy) while
    Azurite starts; `adfemu serve` does it once it answers instead (``cli._warm_up``), as neither is needed to
    answer and their CPU slows Azurite's start on a small machine."""
    supervisor = starting.supervisor if starting is not None else None  # stopped below if anything fails
    tls, persistence = None, NOWHERE
    try:
        persistence = SqliteState(state) if state else NOWHERE
        if starting is not None and (storage or persistence.persistent):  # not for this stack after all
            supervisor, starting = None, starting.supervisor.stop()
        if persistence.persistent:  # the saved config names the storage accounts Azurite must know
            config = saved_config(persistence, config)
        if storage:
            store = storage_from_connection_string(storage)
            wait_until_answers(store.azurite_url, timeout=10)
        elif starting is not None:
            store = BlobStore("")  # its address when Azurite answers (below): the app is built while it starts
        else:
            supervisor = _supervised_azurite(config, persistence)
            store = BlobStore(supervisor.start().url)
            supervisor.on_restart = store.missing_recent
            if persistence.persistent:
                persistence.put("storage", "azurite", {"port": supervisor.azurite.port})
        emulator = Emulator(config, store, workers, persistence)
        if supervisor is not None:  # new accounts of a provisioned factory: Azurite restarts (blobs kept)
            emulator.add_storage_accounts = supervisor.add_accounts
            emulator.storage_status = supervisor.status
        tls = local_tls(ca_bundle) if https else None
        emulator.ca_bundle = str(tls.ca_bundle) if tls else None
        app = create_app(emulator)
        if warm_up:  # while Azurite starts
            warm_up_storage()
            experiments.warm_up(config.document)
        if starting is not None:
            _storage_started(starting, store, config)
        server = EmulatorServer(app, host, port, tls=tls).start()
    except BaseException:
        if tls is not None:
            tls.cleanup()
        if supervisor is not None:
            supervisor.stop()
        persistence.close()
        raise
    return Stack(emulator, server, supervisor, persistence)


def _storage_started(starting: Starting, store: BlobStore, config: Config) -> None:
    """Wait for the Azurite being started, point ``store`` at it, and restart it for accounts it was not given."""
    store.azurite_url = starting.wait().url.rstrip("/")
    supervisor = starting.supervisor
    missing = {n: k for n, k in config.storage_accounts.items() if supervisor.azurite.accounts.get(n) != k}
    if missing:
        supervisor.add_accounts(missing)
    supervisor.on_restart = store.missing_recent


def _supervised_azurite(config: Config, persistence: Persistence) -> Supervisor:
    """Azurite on a temporary folder, or on ``DIR/azurite`` (and its previous port) with a state folder; it
    inherits the folder's lock, so a restarted emulator waits until this Azurite has saved and gone."""
    if not persistence.persistent:
        return Supervisor(Azurite(accounts=config.storage_accounts))
    folder = persistence.folder / "azurite"
    folder.mkdir(exist_ok=True)
    previous = persistence.record("storage", "azurite") or {}
    azurite = Azurite(accounts=config.storage_accounts, location=str(folder),
                      preferred_port=int(previous.get("port", 0)), inherit_fds=(persistence.lock_fd,))
    return Supervisor(azurite, kept_after_stop=True)
