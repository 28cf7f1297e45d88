"""Wiring for `adfemu run` and the demo: the emulated Azure side (started here, or already running)
and a runner engine whose activities reach it over HTTP."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from adfemu.runner.definitions import Definitions
from adfemu.runner.endpoints import Endpoints
from adfemu.runner.engine import Engine, Settings
from adfemu.runner.services import Services


@dataclass
class Session:
    emulator_url: str
    storage_url: str | None
    engine: Engine
    ca_bundle: str | None = None


def _add_factory_accounts(config, definitions: Definitions, vaults: dict) -> None:
    """Storage accounts named in the factory's connection strings live in Azurite under their own names."""
    from adfemu.runner.provision import storage_accounts
    known = config.document.setdefault("storage", {}).setdefault("accounts", [])
    names = {a["name"] for a in known}
    known += [{"name": n, "key": k} for n, k in storage_accounts(definitions, vaults).items() if n not in names]


@contextmanager
def session(definitions: Definitions, *, config_path: str | None = None, emulator_url: str | None = None,
            storage: str | None = None, time_scale: float = 0.01, vaults: dict | None = None,
            poll_seconds: float = 20.0, lenient: bool = False, https: bool = False, ca_bundle: str | None = None,
            notes: list[str] | None = None, stubs: dict | None = None) -> Iterator[Session]:
    """Start Azurite and the emulator (from ``config_path``, or provisioned from the factory when there
    is none) unless ``emulator_url`` names a running `adfemu serve`, and yield an engine wired to them;
    everything started here is stopped on exit. What provisioning assumed is appended to ``notes``.
    ``https`` serves the emulator over TLS (a new local CA, which the runner trusts); ``ca_bundle`` is the
    CA to trust for a running emulator served with ``--https``."""
    stack, overrides = None, {}
    if emulator_url is None:
        from adfemu.emulator.config import from_document, load
        from adfemu.emulator.server import start_stack
        if config_path is not None:
            config = load(config_path)
            overrides = config.document.get("endpoints", {})
            _add_factory_accounts(config, definitions, vaults or {})
            if lenient:
                config.document["lenientExtensions"] = True
        else:
            from adfemu.runner.provision import emulator_config
            document, assumed = emulator_config(definitions, vaults, lenient)
            if notes is not None:
                notes += assumed
            config = from_document(document, "<provisioned from the factory>")
        stack = start_stack(config, storage=storage, https=https)
        emulator_url, storage_url = stack.url, stack.emulator.store.azurite_url
        ca_bundle = stack.ca_bundle or ca_bundle
    else:
        storage_url = None
    try:
        services = Services(Endpoints(emulator_url, overrides), vaults=vaults or {})
        services.ca_bundle = ca_bundle
        settings = Settings(time_scale=time_scale, poll_seconds=poll_seconds, services=services, stubs=stubs or {})
        yield Session(emulator_url, storage_url, Engine(definitions, settings), ca_bundle)
    finally:
        if stack is not None:
            stack.close()
