"""Serving: waitress on a loopback port in a background thread, and the whole stack
(Azurite unless one is given, the emulator, the server) that ``adfemu serve`` runs."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import waitress

from .app import Emulator, create_app
from .azurite import DEV_ACCOUNT, Azurite, wait_until_answers
from .config import Config
from .storage import BlobStore, parse_connection_string


class EmulatorServer:
    """A waitress server for one WSGI app; ``port=0`` takes a free port (see ``url``)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, threads: int = 8):
        self._server = waitress.create_server(app, host=host, port=port, threads=threads,
                                              ident="adfemu", clear_untrusted_proxy_headers=True)
        self.host = host
        self.port = self._server.effective_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> "EmulatorServer":
        self._thread = threading.Thread(target=self._server.run, name="adfemu-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every channel from waitress's own loop thread (closing sockets from another thread
        races with its select()), let the loop end, then stop the task threads."""
        server = self._server

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
        server.task_dispatcher.shutdown()


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
    azurite: Azurite | None

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        """Stop everything started; Azurite is stopped even if an earlier step fails."""
        try:
            self.server.stop()
            self.emulator.close()
        finally:
            if self.azurite is not None:
                self.azurite.stop()


def start_stack(config: Config, host: str = "127.0.0.1", port: int = 0, storage: str | None = None,
                workers: int = 4) -> Stack:
    azurite = None
    if storage:
        store = storage_from_connection_string(storage)
        wait_until_answers(store.azurite_url, timeout=10)
    else:
        azurite = Azurite(accounts=config.storage_accounts).start()
        store = BlobStore(azurite.url)
    try:
        emulator = Emulator(config, store, workers)
        server = EmulatorServer(create_app(emulator), host, port).start()
    except BaseException:
        if azurite is not None:
            azurite.stop()
        raise
    return Stack(emulator, server, azurite)
