"""The emulated Azure side as a test or a script uses it: start it (Azurite + the emulator) or attach to a
running `adfemu serve`, load factories into it, run pipelines, move blobs, score, read the journal, reset."""
from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

import requests

from adfemu.runner.definitions import DefinitionsError
from adfemu.runner.endpoints import Endpoints, UnmappedHost
from adfemu.runner.engine import Engine, Settings as EngineSettings
from adfemu.runner.secrets import SecretError, resolve
from adfemu.runner.services import Services
from adfemu.runner.stubs import StubError, stub_handlers

from ._errors import AdfemuError, FactoryError, RunInputError, StartError
from ._factory import Factory, PathLike, load
from ._results import RunResult, TriggerResult
from ._startup import begin_azurite
from ._times import instant, utc
from ._triggered import as_triggered
from ._storage import Data, Storage

APIS = ("bes", "rrs", "swagger", "management", "arm", "aad")


@dataclass(frozen=True)
class Settings:
    """How runs behave. Defaults for an ``Environment``; ``run(..., **changes)`` overrides them per run."""

    time_scale: float = 0.01       # real seconds per emulated second (Wait, retries, timeouts, BES polling)
    poll_seconds: float = 20.0     # emulated seconds between BES status polls
    secrets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # Key Vault: {vault: {name: value}}
    stubs: Mapping[str, Any] = field(default_factory=dict)  # activity type or name -> outcome or handler
    now: datetime | str | None = None  # fixes utcNow(), pipeline().TriggerTime and the records' start
    seed: int | None = None        # reproducible run ids, guid() and rand()
    max_parallel: int = 8          # activities of one scope running at once
    listener: Callable[[Any], None] | None = None  # told of each step as it happens (see docs/python-api.md)
    sql: Mapping[str, str] = field(default_factory=dict)  # SQL linked service -> SQLite file (docs/activities.md)

    def replace(self, **changes: Any) -> "Settings":
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise RunInputError(f"unknown setting(s) {', '.join(unknown)} (settings: "
                                f"{', '.join(f.name for f in dataclasses.fields(self))})")
        return dataclasses.replace(self, **changes)


class Environment:
    """One emulated Azure side. Make one with ``adfemu.start()`` or ``adfemu.connect(url)``; use it as a
    context manager or call ``close()``."""

    def __init__(self, url: str, storage_url: str, *, ca_bundle: str | None = None, settings: Settings | None = None,
                 provision: bool = True, overrides: Mapping[str, str] | None = None, stack: Any = None):
        self.url = url.rstrip("/")
        self.storage_url = storage_url.rstrip("/")
        self.ca_bundle = ca_bundle
        self.settings = settings or Settings()
        self.provision = provision
        self.overrides = dict(overrides or {})
        self.storage = Storage(self.storage_url)
        self._stack = stack
        self.runs: list[RunResult] = []  # since the last reset (the pytest plugin reports them)
        self._scripts: dict[str, str] = {}  # SQL script -> the SQLite database built from it for this environment
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._factories: dict[Path, Factory] = {}
        self._http = requests.Session()

    # --- factories ------------------------------------------------------------------------------------

    def load(self, factory: PathLike | Factory, *, secrets: Mapping | None = None) -> Factory:
        """Load a factory (once per path) and create what it needs here: its web services (unless this
        environment serves a given config) and its storage accounts, under their own names and keys."""
        if isinstance(factory, Factory):
            loaded = factory
        else:
            path = Path(os.fspath(factory)).resolve()
            if path in self._factories:
                return self._factories[path]
            loaded = load(path, secrets=secrets if secrets is not None else self.settings.secrets)
        if loaded.path not in self._factories:
            self._provision(loaded)
            self._factories[loaded.path] = loaded
        return loaded if isinstance(factory, Factory) else self._factories[loaded.path]  # a given Factory is run as given

    def _provision(self, factory: Factory) -> None:
        if self.provision:
            document, _ = factory.emulator_config()
        else:
            accounts = factory.storage_accounts()
            document = {"storage": {"accounts": [{"name": n, "key": k} for n, k in accounts.items()]}}
        response = self._call("POST", "/_emulator/provision", json=document)
        if not response.ok:
            message = _message(response)
            raise FactoryError(f"{factory.path}: the emulator cannot provide what the factory needs: {message}")
        self.storage.keys.update(factory.storage_accounts())

    def adopt(self, factory: Factory) -> None:
        """Record a factory that was provisioned when the environment started."""
        self._factories[factory.path] = factory
        self.storage.keys.update(factory.storage_accounts())

    # --- runs -----------------------------------------------------------------------------------------

    def run(self, factory: PathLike | Factory, pipeline: str, parameters: Mapping[str, Any] | None = None,
            stubs: Mapping[str, Any] | None = None, *, trigger_time: datetime | str | None = None,
            trigger_type: str | None = None, window: tuple[datetime | str, datetime | str] | None = None,
            **settings: Any) -> RunResult:
        """Run ``pipeline`` of ``factory`` and wait for it. ``parameters`` are typed values or strings (converted
        to the declared types); ``stubs`` give outcomes to activities by type or name; ``settings`` override
        this environment's ``Settings`` for this run (``now=``, ``seed=``, ``time_scale=``, ``secrets=`` ...).
        ``trigger_time``, ``trigger_type`` and ``window`` (start, end) run it as a trigger would: the
        ``pipeline().Trigger*`` variables are set, and the factory's trigger of that pipeline (if it has one) maps
        its parameters from ``trigger()`` (given ``parameters`` win)."""
        engine, loaded = self._engine(factory, stubs, settings)
        try:
            if trigger_time is None and trigger_type is None and window is None:
                record = engine.run(pipeline, dict(parameters or {}))
            else:
                record = as_triggered(engine, pipeline, dict(parameters or {}), trigger_time, trigger_type, window)
        except (DefinitionsError, ValueError) as exc:
            raise RunInputError(str(exc)) from None
        result = RunResult(record)
        self.runs.append(result)
        return result

    def run_trigger(self, factory: PathLike | Factory, trigger: str, start: datetime | str, end: datetime | str,
                    stubs: Mapping[str, Any] | None = None, **settings: Any) -> TriggerResult:
        """Run what the schedule or tumbling-window ``trigger`` would start between ``start`` and ``end``, with time
        compressed (see docs/triggers.md)."""
        from adfemu.runner.trigger_runs import TriggerRunner
        from adfemu.runner.triggers import TriggerError
        engine, _ = self._engine(factory, stubs, settings)
        try:
            runs = TriggerRunner(engine).run(trigger, utc(start, "start"), utc(end, "end"))
        except (TriggerError, DefinitionsError, ValueError) as exc:
            raise RunInputError(str(exc)) from None
        result = TriggerResult(runs)
        self.runs.extend(result.runs)
        return result

    def _engine(self, factory: PathLike | Factory, stubs: Mapping[str, Any] | None,
                settings: dict) -> tuple[Engine, Factory]:
        chosen = self.settings.replace(**settings)
        loaded = self.load(factory, secrets=chosen.secrets)
        try:
            handlers = stub_handlers({**chosen.stubs, **(stubs or {})}, "stubs")
        except StubError as exc:
            raise RunInputError(str(exc)) from None
        services = Services(Endpoints(self.url, self.overrides), vaults={k: dict(v) for k, v in chosen.secrets.items()},
                            ca_bundle=self.ca_bundle, storage_url=self.storage_url,
                            sql=self._databases(sql_paths(chosen.sql)))
        engine = Engine(loaded.definitions, EngineSettings(
            time_scale=chosen.time_scale, poll_seconds=chosen.poll_seconds, services=services, stubs=handlers,
            now=instant(chosen.now), seed=chosen.seed, max_parallel=chosen.max_parallel, listener=chosen.listener))
        return engine, loaded

    # --- storage --------------------------------------------------------------------------------------

    def upload(self, path: str, data: Data, account: str | None = None) -> None:
        """Write ``data`` (bytes, str, a ``pathlib.Path`` or an open binary file) to ``container/blob/path``;
        the container is created when missing. ``account``: a storage account a loaded factory names
        (default: Azurite's ``devstoreaccount1``)."""
        self.storage.upload(path, data, account)

    def download(self, path: str, account: str | None = None) -> bytes:
        return self.storage.download(path, account)

    def list_blobs(self, prefix: str = "", account: str | None = None) -> list[str]:
        """``container/blob`` paths starting with ``prefix``, sorted."""
        return self.storage.list_blobs(prefix, account)

    def upload_folder(self, folder: PathLike, account: str | None = None) -> int:
        """Upload a folder whose first-level folders are containers; returns the number of files."""
        return self.storage.upload_folder(folder, account)

    def save_storage(self, folder: PathLike) -> int:
        """Write every blob of every known account to ``folder/<account>/<container>/<path>``."""
        return self.storage.save(folder)

    def connection_string(self, account: str | None = None) -> str:
        return self.storage.connection_string(account)

    # --- scoring, journal, state ------------------------------------------------------------------------

    def score(self, factory: PathLike | Factory, linked_service_name: str, rows: Sequence[Mapping[str, Any]],
              *, input_name: str | None = None, global_parameters: Mapping[str, str] | None = None) -> list[dict]:
        """Score ``rows`` with the web service endpoint behind an AzureML linked service (its ``mlEndpoint`` and
        ``apiKey``), through request-response scoring; returns the first output's rows."""
        loaded = self.load(factory)
        props = (loaded.linked_service(linked_service_name).get("properties") or {}).get("typeProperties") or {}
        endpoint = props.get("mlEndpoint")
        if not isinstance(endpoint, str) or "/services/" not in endpoint:
            raise AdfemuError(f"linked service '{linked_service_name}' has no mlEndpoint naming a web service")
        try:
            key = resolve(props.get("apiKey"), loaded.definitions, {k: dict(v) for k, v in self.settings.secrets.items()})
            base = Endpoints(self.url, self.overrides).map(re.sub(r"/jobs.*$", "", endpoint.split("?")[0]))
        except (SecretError, DefinitionsError, UnmappedHost) as exc:
            raise AdfemuError(f"linked service '{linked_service_name}': {exc}") from None
        if input_name is None:
            swagger = self._http.get(f"{base}/swagger.json", verify=self._verify, timeout=30)
            inputs = (((swagger.json() if swagger.ok else {}).get("definitions") or {}).get("ExecutionRequest") or {}) \
                .get("properties", {}).get("Inputs", {}).get("properties", {}) if swagger.ok else {}
            input_name = next(iter(inputs), "input1")
        body = {"Inputs": {input_name: [dict(r) for r in rows]}, "GlobalParameters": dict(global_parameters or {})}
        response = self._http.post(f"{base}/execute?api-version=2.0&format=swagger", json=body, verify=self._verify,
                                   headers={"Authorization": f"Bearer {key}"}, timeout=120)
        if not response.ok:
            raise AdfemuError(f"scoring through '{linked_service_name}' failed: {_message(response)}")
        results = response.json().get("Results") or {}
        return list(next(iter(results.values()), []))

    def requests(self, api: str | None = None) -> list[dict]:
        """The request journal (secrets masked), oldest first; ``api``: one of "bes", "rrs", "swagger",
        "management", "arm", "aad"."""
        if api is not None and api not in APIS:
            raise AdfemuError(f"api must be one of {', '.join(APIS)}, not {api!r}")
        return self._call("GET", "/_emulator/requests", params={"api": api} if api else None).json()

    def reset(self, storage: bool = True) -> None:
        """Web services, models, jobs, ARM resources and the journal back to how they started; with ``storage``,
        every container of every known account is deleted too."""
        self._call("POST", "/_emulator/reset").raise_for_status()
        self.runs.clear()
        if storage:
            self.storage.clear()

    def health(self) -> dict:
        return self._call("GET", "/_emulator/health").json()

    # --- fault injection (docs/emulator.md) ----------------------------------------------------------

    def fault(self, effect: str | Mapping[str, Any], *, api: str | None = None, operation: str | None = None,
              service: str | None = None, endpoint: str | None = None, count: int | None = None,
              probability: float | None = None, id: str | None = None, **fields: Any) -> "Fault":
        """Add one fault rule now (after the rules already there) and return it; used as a context manager it is
        removed when the block ends. ``effect`` is the effect's type ("error", "latency", "jobFailed", ...) with
        its fields as keywords (``status=503, retry_after=5``, ``ms=200``, ``details="..."``,
        ``lifetime_seconds=0``), or the effect as a dict."""
        body = dict(effect) if isinstance(effect, Mapping) else {"type": effect}
        body.update({_camel(k): v for k, v in fields.items()})
        rule = {k: v for k, v in (("id", id), ("api", api), ("operation", operation), ("service", service),
                                  ("endpoint", endpoint), ("count", count), ("probability", probability)) if v is not None}
        rule["effect"] = body
        added = self.set_faults([rule], replace=False)[-1] if id is None else \
            next(r for r in self.set_faults([rule], replace=False) if r["id"] == id)
        return Fault(self, added["id"])

    def set_faults(self, rules: Sequence[Mapping[str, Any]], *, seed: int | None = None,
                   replace: bool = True) -> list[dict]:
        """Install fault rules as the emulator's JSON documents them; ``replace=False`` appends (a rule whose id is
        known replaces that rule in place). Returns every rule with its counters."""
        body: dict[str, Any] = {"rules": [dict(r) for r in rules], "replace": replace}
        if seed is not None:
            body["seed"] = seed
        response = self._call("POST", "/_emulator/faults", json=body)
        if not response.ok:
            raise RunInputError(f"fault rules refused: {_message(response)}")
        return response.json()["rules"]

    def faults(self) -> list[dict]:
        """The fault rules in order, with how often each matched and fired."""
        return self._call("GET", "/_emulator/faults").json()["rules"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/_emulator/faults").raise_for_status()

    def _databases(self, paths: dict[str, str]) -> dict[str, str]:
        """SQL mappings to SQLite files; a ``.sql`` script becomes a database built from it once for this
        environment (in a temporary folder), so runs share it and the script stays untouched."""
        import sqlite3
        found = {}
        for name, path in paths.items():
            if not path.lower().endswith(".sql"):
                found[name] = path
                continue
            if path not in self._scripts:
                self._workdir = self._workdir or tempfile.TemporaryDirectory(prefix="adfemu-sql-")
                database = Path(self._workdir.name, f"{len(self._scripts)}-{Path(path).stem}.sqlite")
                try:
                    with sqlite3.connect(database) as connection:
                        connection.executescript(Path(path).read_text(encoding="utf-8"))
                    connection.close()
                except (OSError, sqlite3.Error) as exc:
                    raise RunInputError(f"sql: the script {path} for linked service '{name}' cannot be run: "
                                        f"{exc}") from None
                self._scripts[path] = str(database)
            found[name] = self._scripts[path]
        return found

    def close(self) -> None:
        """Stop what ``adfemu.start()`` started (nothing for an attached environment)."""
        self._http.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
        if self._stack is not None:
            stack, self._stack = self._stack, None
            stack.close()

    def __enter__(self) -> "Environment":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Environment {self.url} storage={self.storage_url}>"

    @property
    def _verify(self) -> str | bool:
        return self.ca_bundle or True

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self._http.request(method, f"{self.url}{path}", verify=self._verify, timeout=120, **kwargs)
        except requests.RequestException as exc:
            raise StartError(f"the emulator at {self.url} does not answer ({type(exc).__name__})") from None


class Fault:
    """One fault rule added by ``Environment.fault``; ``with env.fault(...):`` removes it when the block ends."""

    def __init__(self, env: Environment, rule_id: str):
        self.env, self.id = env, rule_id

    @property
    def rule(self) -> dict | None:
        """The rule as the emulator shows it now (``matched``, ``fired``, ``remaining``), or None once removed."""
        return next((r for r in self.env.faults() if r["id"] == self.id), None)

    def remove(self) -> None:
        response = self.env._call("DELETE", f"/_emulator/faults/{self.id}")
        if response.status_code not in (200, 404):  # 404: already gone (a reset clears rules too)
            response.raise_for_status()

    def __enter__(self) -> "Fault":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<Fault {self.id}>"


def _camel(name: str) -> str:
    """``retry_after`` -> ``retryAfter`` (the JSON field names)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def sql_paths(mapping: Mapping[str, Any], base: Path | None = None) -> dict[str, str]:
    """``{linked service: SQLite file}`` with each path absolute (relative ones from ``base``, else the working
    directory); a file that does not exist is a ``RunInputError`` naming it."""
    if not isinstance(mapping, Mapping):
        raise RunInputError("sql must map SQL linked service names to SQLite files ({'SqlDb': 'tests/db.sqlite'})")
    paths = {}
    for name, path in mapping.items():
        full = Path(base or Path.cwd(), os.fspath(path)).resolve()
        if not full.is_file():
            raise RunInputError(f"sql: the SQLite file {path} for linked service '{name}' does not exist")
        paths[str(name)] = str(full)
    return paths


def _message(response: requests.Response) -> str:
    try:
        error = response.json().get("error") or {}
        details = [d.get("message", "") for d in error.get("details") or [] if isinstance(d, dict)]
        return " ".join(m for m in [error.get("message", "")] + details if m) or f"HTTP {response.status_code}"
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"


def start(*factories: PathLike | Factory, config: PathLike | None = None, https: bool = False,
          storage: str | None = None, lenient: bool = False, host: str = "127.0.0.1", port: int = 0,
          secrets: Mapping | None = None, state: PathLike | None = None, _starting: Any = None,
          **settings: Any) -> Environment:
    """Start Azurite (on a free loopback port) and the emulator, and return an ``Environment``.

    ``factories`` are provisioned at once (their web services and storage accounts exist from the start; a
    factory loaded later makes Azurite restart for accounts it adds, keeping every blob). ``config``: serve an
    emulator config file instead of provisioning web services from factories. ``https``: serve TLS with a new
    local CA (``ca_bundle``). ``storage``: use a running Azurite (connection string). ``lenient``: accept BES
    blob names without a file extension. ``state``: a folder that keeps the emulator's state (SQLite) and
    Azurite's blobs, restored when started again with it (as ``adfemu serve --state``; default: in memory).
    ``settings``: defaults for runs (see ``Settings``)."""
    from adfemu.emulator.azurite import AzuriteError
    try:  # Azurite first: the imports and the factories' validation below overlap its start
        starting = _starting or (begin_azurite(factories, config) if storage is None and state is None else None)
    except AzuriteError as exc:
        raise StartError(f"cannot start the emulated Azure side: {exc}") from None
    try:
        return _start(factories, config, https, storage, lenient, host, port, secrets, state, starting, settings)
    except BaseException:
        if starting is not None and starting.supervisor.azurite.pid is not None:
            starting.supervisor.stop()
        raise


def _start(factories, config, https, storage, lenient, host, port, secrets, state, starting, settings) -> Environment:
    from adfemu.emulator.azurite import AzuriteError
    from adfemu.emulator.config import ConfigError, from_document, load as load_config, merged
    from adfemu.emulator.persistence import StateError
    from adfemu.emulator.server import start_stack
    from adfemu.runner import activities  # noqa: F401  (the engine's; imported while Azurite starts)

    chosen = Settings().replace(secrets=dict(secrets or {}), **settings)
    loaded = [f if isinstance(f, Factory) else load(f, secrets=chosen.secrets) for f in factories]
    try:
        base = load_config(os.fspath(config)) if config is not None else from_document({}, "<adfemu>")
        if base.document.get("sql"):  # the config's SQL mapping, relative to the config file; explicit sql= wins
            chosen = chosen.replace(sql={**sql_paths(base.document["sql"], Path(os.fspath(config)).resolve().parent),
                                         **sql_paths(chosen.sql)})
        if lenient:
            base.document["lenientExtensions"] = True
        for factory in loaded:
            if config is None:
                document, _ = factory.emulator_config(lenient)
            else:
                document = {"storage": {"accounts": [{"name": n, "key": k}
                                                     for n, k in factory.storage_accounts().items()]}}
            base = merged(base, document, str(factory.path))
    except ConfigError as exc:
        raise StartError(f"invalid emulator config: {exc}") from None
    try:
        stack = start_stack(base, host, port, storage, https=https, state=os.fspath(state) if state else None,
                            starting=starting)
    except (AzuriteError, StateError, OSError) as exc:
        raise StartError(f"cannot start the emulated Azure side: {exc}") from None
    env = Environment(stack.url, stack.emulator.store.azurite_url, ca_bundle=stack.ca_bundle, settings=chosen,
                      provision=config is None, overrides=base.document.get("endpoints"), stack=stack)
    env.storage.keys.update(base.storage_accounts)
    for factory in loaded:
        env.adopt(factory)
    return env


def connect(url: str, *, ca_bundle: str | None = None, provision: bool = True, **settings: Any) -> Environment:
    """Attach to a running `adfemu serve` at ``url`` (``ca_bundle``: its CA, when served with --https).
    Loading a factory provisions its services there unless ``provision`` is False."""
    http = requests.Session()
    try:
        health = http.get(f"{url.rstrip('/')}/_emulator/health", verify=ca_bundle or True, timeout=10)
        storage_url = health.json()["storage"]["url"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise StartError(f"no adfemu emulator answers at {url} ({type(exc).__name__}): start one with "
                         "`adfemu serve`") from None
    finally:
        http.close()
    return Environment(url, storage_url, ca_bundle=ca_bundle, settings=Settings().replace(**settings),
                       provision=provision)
