"""Where the emulator's state lives: in memory (the default, ``NOWHERE``) or in a SQLite file (``--state DIR``).

State and HTTP are apart (as in moto): the owners of state (``backend.Backend``, ``jobs.JobRunner``,
``arm.ResourceManager``, ``journal.Journal``, the emulator for its config and directory) call one hook of
``Persistence`` after each change, under their own lock, so the file sees changes in the order memory did;
``restore.py`` rebuilds them from the file at start. ``codec.py`` turns the objects into JSON documents.

The file is ``DIR/state.sqlite`` (standard library ``sqlite3``): WAL journal, one transaction per change,
``synchronous=NORMAL``, which keeps every committed change when the process is killed (only an OS crash or a
power cut can lose the last ones). A change is committed before its HTTP answer is sent, so whatever a client
was told is in the file. Blobs stay in Azurite, whose ``--location`` is ``DIR/azurite``.

``DIR/adfemu.lock`` is held (``flock``) by ``adfemu serve`` and by the Azurite it starts (which inherits the
descriptor), so a second emulator on the same folder waits until both are gone: a killed emulator's Azurite
saves its blob index on the SIGTERM it gets, and no two Azurites ever share a folder.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
LOCK_WAIT = 30.0  # seconds to wait for the previous emulator (and its Azurite) to let go of the folder

# version -> the statements that bring a file of that version to the next one (see ``_migrate``)
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE models (digest TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL);
"""


class StateError(RuntimeError):
    """The state folder cannot be used; the message names it and why."""


class Persistence:
    """The hooks the owners of state call after each change. This base keeps nothing (in-memory state)."""

    persistent = False
    path: Path | None = None

    def workspace(self, ws: Any) -> None: ...
    def workspaces(self, all_ws: Iterable[Any]) -> None: ...
    def job(self, job: Any) -> None: ...
    def forget_jobs(self, job_ids: Iterable[str]) -> None: ...
    def all_jobs_forgotten(self) -> None: ...
    def arm_setup(self, rm: Any) -> None: ...
    def arm_resource(self, resource: Any) -> None: ...
    def arm_resource_removed(self, resource: Any) -> None: ...
    def arm_operation(self, op: Any, dropped: Iterable[str] = ()) -> None: ...
    def arm_replaced(self, rm: Any) -> None: ...
    def journal_entry(self, entry: dict, keep: int) -> None: ...
    def journal_cleared(self) -> None: ...
    def config(self, config: Any) -> None: ...
    def directory(self, directory: Any) -> None: ...
    def put(self, kind: str, key: str, value: Any) -> None: ...
    def close(self) -> None: ...


NOWHERE = Persistence()


class SqliteState(Persistence):
    """The state of one emulator in ``DIR/state.sqlite``; see the module docstring."""

    persistent = True

    def __init__(self, folder: str | os.PathLike, lock_wait: float = LOCK_WAIT):
        self.folder = Path(folder).resolve()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create the state folder {self.folder}: {exc.strerror}") from None
        self.lock_fd = _take_lock(self.folder / "adfemu.lock", lock_wait)
        self.path = self.folder / "state.sqlite"
        self._lock = threading.Lock()
        self._models: set[str] = set()  # digests known to be in the file
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self.version = _migrate(self._db, self.path)
        except (sqlite3.Error, StateError) as exc:
            os.close(self.lock_fd)
            if isinstance(exc, StateError):
                raise
            raise StateError(f"{self.path}: not a usable adfemu state file ({exc})") from None
        self._models = {row[0] for row in self._db.execute("SELECT digest FROM models")}

    # --- transactions ------------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _put(self, db: sqlite3.Connection, kind: str, key: str, value: Any) -> None:
        db.execute("INSERT INTO records (kind, key, value) VALUES (?, ?, ?) "
                   "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value", (kind, key, json.dumps(value)))

    def _models_of(self, db: sqlite3.Connection, blobs: dict[str, bytes]) -> None:
        for digest, data in blobs.items():
            if digest not in self._models:
                db.execute("INSERT OR IGNORE INTO models (digest, data) VALUES (?, ?)", (digest, data))
                self._models.add(digest)

    # --- the hooks ---------------------------------------------------------------------------------

    def put(self, kind: str, key: str, value: Any) -> None:
        with self._tx() as db:
            self._put(db, kind, key, value)

    def workspace(self, ws: Any) -> None:
        from .codec import encode_workspace
        document, blobs = encode_workspace(ws)
        with self._tx() as db:
            self._models_of(db, blobs)
            self._put(db, "workspace", ws.id.lower(), document)

    def workspaces(self, all_ws: Iterable[Any]) -> None:
        from .codec import encode_workspace
        encoded = [(ws.id.lower(), *encode_workspace(ws)) for ws in all_ws]
        with self._tx() as db:
            db.execute("DELETE FROM records WHERE kind = 'workspace'")
            for key, document, blobs in encoded:
                self._models_of(db, blobs)
                self._put(db, "workspace", key, document)

    def job(self, job: Any) -> None:
        from .codec import encode_job
        self.put("job", job.id, encode_job(job))

    def forget_jobs(self, job_ids: Iterable[str]) -> None:
        with self._tx() as db:
            db.executemany("DELETE FROM records WHERE kind = 'job' AND key = ?", [(i,) for i in job_ids])

    def all_jobs_forgotten(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM records WHERE kind = 'job'")

    def arm_setup(self, rm: Any) -> None:
        from .codec import encode_arm_setup
        self.put("arm", "setup", encode_arm_setup(rm))

    def arm_resource(self, resource: Any) -> None:
        from .codec import arm_key, encode_arm_resource
        self.put("armresource", arm_key(resource), encode_arm_resource(resource))

    def arm_resource_removed(self, resource: Any) -> None:
        from .codec import arm_key
        with self._tx() as db:
            db.execute("DELETE FROM records WHERE kind = 'armresource' AND key = ?", (arm_key(resource),))

    def arm_operation(self, op: Any, dropped: Iterable[str] = ()) -> None:
        from .codec import encode_operation
        with self._tx() as db:
            self._put(db, "armoperation", op.id, encode_operation(op))
            db.executemany("DELETE FROM records WHERE kind = 'armoperation' AND key = ?", [(i,) for i in dropped])

    def arm_replaced(self, rm: Any) -> None:
        from .codec import arm_key, encode_arm_resource, encode_arm_setup, encode_operation
        with self._tx() as db:
            db.execute("DELETE FROM records WHERE kind IN ('arm', 'armresource', 'armoperation')")
            self._put(db, "arm", "setup", encode_arm_setup(rm))
            for resource in rm.services.values():
                self._put(db, "armresource", arm_key(resource), encode_arm_resource(resource))
            for op in rm.operations.values():
                self._put(db, "armoperation", op.id, encode_operation(op))

    def journal_entry(self, entry: dict, keep: int) -> None:
        with self._tx() as db:
            seq = db.execute("INSERT INTO journal (entry) VALUES (?)", (json.dumps(entry),)).lastrowid
            db.execute("DELETE FROM journal WHERE seq <= ?", (seq - keep,))

    def journal_cleared(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM journal")

    def config(self, config: Any) -> None:
        from .codec import encode_config
        document, blobs = encode_config(config)
        with self._tx() as db:
            self._models_of(db, blobs)
            self._put(db, "config", "current", document)

    def directory(self, directory: Any) -> None:
        from .codec import encode_directory
        self.put("directory", "current", encode_directory(directory))

    # --- reading (at start) ------------------------------------------------------------------------

    def records(self, kind: str) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM records WHERE kind = ?", (kind,)).fetchall()
        return {key: json.loads(value) for key, value in rows}

    def record(self, kind: str, key: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    def model(self, digest: str) -> bytes:
        with self._lock:
            row = self._db.execute("SELECT data FROM models WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            raise StateError(f"{self.path}: the model {digest[:12]}… named by the state is missing")
        return bytes(row[0])

    def journal(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT entry FROM journal ORDER BY seq").fetchall()
        return [json.loads(row[0]) for row in rows]

    def is_empty(self) -> bool:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0

    def drop_unused_models(self, used: set[str]) -> None:
        with self._tx() as db:
            unused = self._models - used
            db.executemany("DELETE FROM models WHERE digest = ?", [(d,) for d in unused])
            self._models -= unused

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            finally:
                os.close(self.lock_fd)


def _take_lock(path: Path, wait: float) -> int:
    """An exclusive ``flock`` on ``path`` (its descriptor), waiting up to ``wait`` seconds for a previous
    emulator or its Azurite to let go."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise StateError(f"the state folder {path.parent} is in use by another adfemu serve (or the "
                                 f"Azurite it started) and was not released within {wait:.0f}s") from None
            time.sleep(0.05)


def _migrate(db: sqlite3.Connection, path: Path) -> int:
    """Create the schema in a new file, or bring an older file up to ``SCHEMA_VERSION`` one version at a time
    (each step in one transaction). A file from a newer adfemu is refused."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" not in tables:
        if tables:
            raise StateError(f"{path}: not an adfemu state file (tables {', '.join(sorted(tables))})")
        db.execute("BEGIN IMMEDIATE")  # statements one by one: executescript would commit on its own
        for statement in filter(str.strip, SCHEMA.split(";")):
            db.execute(statement)
        db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        db.execute("COMMIT")
        return SCHEMA_VERSION
    version = int(db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StateError(f"{path}: written by a newer adfemu (state schema {version}; this adfemu reads up to "
                         f"{SCHEMA_VERSION})")
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise StateError(f"{path}: no migration from state schema {version}")
        db.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version + 1),))
        except sqlite3.Error as exc:
            db.execute("ROLLBACK")
            raise StateError(f"{path}: the migration from state schema {version} to {version + 1} failed ({exc}); "
                             "the file is unchanged") from None
        db.execute("COMMIT")
        log.info("state %s migrated from schema %d to %d", path, version, version + 1)
        version += 1
    return version
