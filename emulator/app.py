"""``create_app``: one Flask app serving every emulated API under its real path.

Routing keys on the path only, so any cloud URL maps to the emulator by replacing scheme and
host. Errors are rendered once, here, into the AML classic envelope.
"""
from __future__ import annotations

import logging
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Callable

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from . import aad_errors, arm_errors, errors
from .aad import Directory
from .apis import aad, arm, classic_mgmt, control, faults as fault_routes, render_aml_error, runtime
from .arm import ResourceManager
from .backend import Backend
from .config import Config, ConfigError, merged
from .faults import Faults
from .journal import Journal, kept_headers
from .secrets import Redactor, learned, learned_version, redact_library_logs, redactor, register_known
from .state import snapshot
from .jobs import JobRunner
from .limits import MAX_REQUEST_BYTES
from .persistence import NOWHERE, Persistence
from .restore import restore, saved_config
from .routing import EmulatorFlask
from .storage import BlobStore, StorageUnavailable

log = logging.getLogger("adfemu.emulator")
STARTED = "adfemu.started"  # WSGI environ key: when the request reached the app (the journal's durationMs)


class Emulator:
    """Everything one emulator instance owns: state, jobs, storage access, journal. ``persistence``: where the
    state is kept (in memory by default; ``persistence.SqliteState`` for ``--state``), restored from it here."""

    def __init__(self, config: Config, store: BlobStore, workers: int = 4, persistence: Persistence = NOWHERE):
        redact_library_logs()
        if persistence.persistent:  # what was saved, plus what ``config`` adds
            config = saved_config(persistence, config)
        self.config = config
        self.store = store
        for name, key in config.storage_accounts.items():
            store.remember_key(name, key)
        from .azurite import DEV_ACCOUNT, DEV_KEY
        store.remember_key(DEV_ACCOUNT, DEV_KEY)
        self.backend = Backend(config)
        self.directory = Directory(config.document.get("azureAd"))
        self.arm = ResourceManager(config.document.get("resourceManager"), self.directory, self.backend, store)
        self.jobs = JobRunner(store, workers)
        self._redactor: tuple[tuple, Redactor] | None = None
        self.journal = Journal(self.redactor)
        self.faults = Faults(config.document.get("faults"))  # fault injection; each part asks it at one place
        store.faults = self.jobs.faults = self.arm.faults = self.directory.faults = self.faults
        register_known(self.secrets)  # log records are masked with them too
        self.ca_bundle: str | None = None  # set when served over HTTPS
        self.storage_status: Callable[[], dict] = lambda: {"startedByAdfemu": False}  # set by the stack
        self._provisioning = threading.Lock()
        try:
            self.version = version("adfemu")
        except PackageNotFoundError:
            self.version = "0+unknown"
        self.persistence = persistence
        if persistence.persistent:
            restore(self, persistence)
        self._attach(persistence)

    def _attach(self, persistence: Persistence) -> None:
        for owner in (self.backend, self.arm, self.jobs, self.journal):
            owner.persistence = persistence

    def provision(self, document: dict, source: str) -> dict:
        """Add what another config document describes (e.g. a factory's services, provisioned by the runner)
        to the running emulator; what is already here keeps its state, and ``reset`` restores the union.
        Storage accounts it names are added to Azurite through ``add_storage_accounts`` (set by the stack that
        started Azurite, which restarts it; without one, the storage must already know them)."""
        with self._provisioning:
            config = merged(self.config, document, source)
            known = self.config.storage_accounts
            new_accounts = {n: k for n, k in config.storage_accounts.items() if n not in known}
            if new_accounts:
                self.add_storage_accounts(new_accounts)
                for name, key in new_accounts.items():
                    self.store.remember_key(name, key)
            self.config = config
            services = self.backend.extend(config)
            self.directory.extend(config.document.get("azureAd"))
            self.arm.extend(config.document.get("resourceManager"))
            self.persistence.config(config)
            self.persistence.directory(self.directory)
        return {"status": "ok", "webServices": services, "storageAccounts": sorted(new_accounts)}

    def add_storage_accounts(self, accounts: dict[str, str]) -> None:
        """Make storage accounts usable; replaced by the stack when it owns Azurite. Here: check that the
        storage already accepts each account's key."""
        for name, key in accounts.items():
            if not self.store.accepts(name, key):
                raise ConfigError(f"storage account '{name}' is not known to the storage at {self.store.azurite_url}, "
                                  "which adfemu did not start (hint: add it to that Azurite's AZURITE_ACCOUNTS)")

    def reset(self) -> None:
        """Services back to the config, jobs cancelled and forgotten, journal emptied. Blobs stay."""
        self.jobs.clear()
        self.backend.reset()
        self.arm.reset()
        self.journal.clear()
        self.faults.reset()

    def secrets(self) -> list[str]:
        """Every key, token, client secret and minted SAS signature the emulator knows, for redaction."""
        from .azurite import DEV_KEY
        return self.backend.secrets() + self.directory.secrets() + [DEV_KEY] + learned()

    def redactor(self) -> Redactor:
        """The redactor of ``secrets()``, rebuilt only when they change (keys, tokens issued, SAS minted)."""
        key = (self.backend.secrets(), self.directory.secrets_version, learned_version())
        cached = self._redactor
        if cached is None or cached[0][0] is not key[0] or cached[0][1:] != key[1:]:
            cached = self._redactor = (key, redactor(self.secrets()))
        return cached[1]

    def state(self) -> dict:
        return snapshot(self)

    def close(self) -> None:
        self._attach(NOWHERE)  # stopping changes nothing saved: Running jobs come back Failed at the next start
        self.jobs.shutdown()


def create_app(emulator: Emulator) -> Flask:
    app = EmulatorFlask("adfemu.emulator", static_folder=None)  # no static files: one route less to match
    app.extensions["adfemu"] = emulator
    app.json.sort_keys = False
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES  # a body without Content-Length is cut off while read
    for blueprint in (runtime.bp, classic_mgmt.bp, control.bp, arm.bp, aad.bp, fault_routes.bp):
        app.register_blueprint(blueprint)
    _register_error_handlers(app)
    _register_hooks(app, emulator)
    return app


def _register_hooks(app: Flask, emulator: Emulator) -> None:
    """One hook before and one after each request (each hook costs Flask's dispatch on every request).

    Before, in order: a body over the limit is refused unread; the journal's clock starts; fault rules apply
    (so injected latency counts in ``durationMs``). After: the fault's Retry-After, ARM's headers, the journal."""

    @app.before_request
    def before():
        refused = _refuse_large_bodies()
        if refused is not None:
            return refused
        request.environ[STARTED] = time.perf_counter()
        fault_routes.before_request()
        return None

    @app.after_request
    def after(response):
        req = request._get_current_object()  # once: each use of the proxy costs a lookup
        fault_routes.add_retry_after(req, response)
        if arm.is_arm_path(req.path):
            arm.add_arm_headers(response)
        if not req.path.startswith("/_emulator/"):
            _record(emulator, req, response)
        return response


def _record(emulator: Emulator, req, response) -> None:
    elapsed = (time.perf_counter() - req.environ.get(STARTED, time.perf_counter())) * 1000
    body = _body_for_journal(req)
    entry = emulator.journal.record(req.method, req.path, req.query_string.decode("latin-1"), kept_headers(req.environ),
                                    body or b"", response.status_code, elapsed, _api(req), unread=body is None)
    log.info("%s %s -> %s (%.1f ms)", entry["method"], entry["path"], entry["status"], elapsed)


def _refuse_large_bodies():
    """413 in the API's own envelope for a declared Content-Length over the limit, before anything reads it."""
    if not request.environ.get("CONTENT_LENGTH"):  # no declared length (a GET, a chunked body): nothing to parse
        return None
    size = request.content_length
    if size is not None and size > MAX_REQUEST_BYTES:
        return _too_large(size)
    return None


def _too_large(size: int | None):
    shown = size if size is not None else f"more than {MAX_REQUEST_BYTES}"
    if arm.is_arm_path(request.path):
        return arm.render_arm_error(arm_errors.RequestTooLarge(shown, MAX_REQUEST_BYTES))
    if aad.is_token_path(request.path):
        return aad.render_aad_error(aad_errors.RequestTooLarge(shown, MAX_REQUEST_BYTES))
    if request.path.startswith("/_emulator/"):
        return control.control_error("RequestTooLarge", f"the body has {shown} bytes; at most "
                                                        f"{MAX_REQUEST_BYTES} bytes are accepted", 413)
    return render_aml_error(errors.RequestTooLarge(shown, MAX_REQUEST_BYTES))


def _register_error_handlers(app: Flask) -> None:
    app.register_error_handler(errors.AmlError, render_aml_error)
    app.register_error_handler(arm_errors.ArmError, arm.render_arm_error)
    app.register_error_handler(aad_errors.AadError, aad.render_aad_error)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 413:  # a body without Content-Length that went over the limit while read
            return _too_large(request.content_length)
        if arm.is_arm_path(request.path):
            try:
                arm.unrouted(exc.code)
            except arm_errors.ArmError as error:
                return arm.render_arm_error(error)
        if aad.is_token_path(request.path) and exc.code == 405:
            return aad.render_aad_error(aad_errors.PostOnly(request.method))
        if exc.code == 404:
            return render_aml_error(errors.RouteNotFound(request.path))
        if exc.code == 405:
            return render_aml_error(errors.MethodNotAllowed())
        return render_aml_error(errors.RequestBodyInvalid())

    @app.errorhandler(StorageUnavailable)
    def storage_down(exc: StorageUnavailable):
        if arm.is_arm_path(request.path):
            return arm.render_arm_error(arm_errors.ServiceUnavailable(str(exc)))
        return render_aml_error(errors.ServiceUnavailable(str(exc)))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.error("unexpected error on %s %s: %s", request.method, request.path, type(exc).__name__, exc_info=exc)
        if arm.is_arm_path(request.path):
            return arm.render_arm_error(arm_errors.InternalServerError("The emulator hit an unexpected error; see its log."))
        return render_aml_error(errors.InternalError("The emulator hit an unexpected error; see its log."))


_BLUEPRINT_API = {"classic_mgmt": "management", "arm": "arm", "aad": "aad"}
_RUNTIME_API = {"runtime.execute": "rrs", "runtime.swagger": "swagger"}  # the other runtime routes are BES jobs


def _api(req) -> str | None:
    """Which API a request was for ("bes", "rrs", "swagger", "management", "arm", "aad"); None when unrouted."""
    if req.blueprint == "runtime":
        return _RUNTIME_API.get(req.endpoint, "bes")
    return _BLUEPRINT_API.get(req.blueprint or "")


def _body_for_journal(req) -> bytes | None:
    """The body (as the views read it, cached); None for a body refused as too large, which is never read."""
    environ = req.environ
    if not environ.get("CONTENT_LENGTH") and not environ.get("HTTP_TRANSFER_ENCODING"):
        return b""  # HTTP/1.1: a request with neither header has no body
    size = req.content_length
    if size is not None and size > MAX_REQUEST_BYTES:
        return None
    try:
        return req.get_data(cache=True)
    except HTTPException:  # went over the limit while read (no Content-Length)
        return None
