"""The SQLite state behind `--state` (emulator/persistence.py): schema version and migrations, the folder lock,
and what the Python API and the pytest plugin do with it. The kill -9 acceptance tests are in test_restart.py."""
from __future__ import annotations

import sqlite3

import pytest
import requests

import adfemu
from adfemu.emulator import persistence
from adfemu.emulator.persistence import SCHEMA_VERSION, SqliteState, StateError

from .conftest import FIXTURES
from .helpers import PREDICTIVE, WS, WS_TOKEN


def _version(path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])


def test_a_new_state_has_the_current_schema_version_and_wal(tmp_path):
    state = SqliteState(tmp_path)
    try:
        assert state.version == SCHEMA_VERSION == 1
        assert state._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        state.put("probe", "one", {"kept": True})
    finally:
        state.close()
    assert _version(tmp_path / "state.sqlite") == SCHEMA_VERSION
    again = SqliteState(tmp_path)
    try:
        assert again.record("probe", "one") == {"kept": True}
    finally:
        again.close()


def test_an_older_state_is_migrated_one_version_at_a_time_and_keeps_its_data(tmp_path, monkeypatch):
    SqliteState(tmp_path).close()  # a file of today's schema ...
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        db.execute("INSERT INTO records (kind, key, value) VALUES ('probe', 'one', '{\"n\": 1}')")
    steps = []

    def add_column(db):  # ... which a next version changes: each step in one transaction
        steps.append(SCHEMA_VERSION)
        db.execute("ALTER TABLE records ADD COLUMN changed TEXT")

    def fill_column(db):
        steps.append(SCHEMA_VERSION + 1)
        db.execute("UPDATE records SET changed = 'yes'")

    monkeypatch.setattr(persistence, "SCHEMA_VERSION", SCHEMA_VERSION + 2)
    monkeypatch.setitem(persistence.MIGRATIONS, SCHEMA_VERSION, add_column)
    monkeypatch.setitem(persistence.MIGRATIONS, SCHEMA_VERSION + 1, fill_column)
    state = SqliteState(tmp_path)
    try:
        assert steps == [1, 2] and state.version == 3
        assert state.record("probe", "one") == {"n": 1}
        assert state._db.execute("SELECT changed FROM records").fetchone()[0] == "yes"
    finally:
        state.close()
    assert _version(tmp_path / "state.sqlite") == 3


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    SqliteState(tmp_path).close()

    def broken(db):
        db.execute("ALTER TABLE records ADD COLUMN half TEXT")
        db.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(persistence, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(persistence.MIGRATIONS, SCHEMA_VERSION, broken)
    with pytest.raises(StateError, match="migration from state schema 1 to 2 failed .*the file is unchanged"):
        SqliteState(tmp_path)
    assert _version(tmp_path / "state.sqlite") == SCHEMA_VERSION
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        assert "half" not in [row[1] for row in db.execute("PRAGMA table_info(records)")]


def test_a_state_from_a_newer_adfemu_or_another_file_is_refused_clearly(tmp_path):
    SqliteState(tmp_path).close()
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StateError, match=r"written by a newer adfemu \(state schema 99; this adfemu reads up to 1\)"):
        SqliteState(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    with sqlite3.connect(other / "state.sqlite") as db:
        db.execute("CREATE TABLE unrelated (x)")
    with pytest.raises(StateError, match="not an adfemu state file"):
        SqliteState(other)


def test_one_folder_serves_one_emulator_at_a_time(tmp_path):
    first = SqliteState(tmp_path)
    try:
        with pytest.raises(StateError, match="is in use by another adfemu serve"):
            SqliteState(tmp_path, lock_wait=0.2)
    finally:
        first.close()
    SqliteState(tmp_path, lock_wait=0.2).close()  # free again


def test_the_python_api_keeps_state_between_starts(tmp_path):
    config, state = FIXTURES / "seed-emulator.json", tmp_path / "state"
    with adfemu.start(config=config, state=state) as env:
        assert env.health()["state"] == {"path": str(state.resolve() / "state.sqlite"), "schemaVersion": 1}
        created = requests.put(f"{env.url}/workspaces/{WS}/webservices/{PREDICTIVE}/endpoints/kept",
                               headers={"Authorization": f"Bearer {WS_TOKEN}"}, json={"Description": "kept"})
        assert created.status_code == 201
        env.upload("keptdata/a.csv", b"x,y\n1,2\n")
    with adfemu.start(config=config, state=state) as env:
        again = requests.get(f"{env.url}/workspaces/{WS}/webservices/{PREDICTIVE}/endpoints/kept",
                             headers={"Authorization": f"Bearer {WS_TOKEN}"})
        assert again.status_code == 200 and again.json()["PrimaryKey"] == created.json()["PrimaryKey"]
        assert env.download("keptdata/a.csv") == b"x,y\n1,2\n"


def test_the_default_stays_in_memory(aml):
    assert requests.get(f"{aml.url}/_emulator/health").json()["state"] is None


def test_the_plugin_takes_the_state_folder_from_the_ini_file(pytester):
    pytester.makeini("[pytest]\nadfemu_state = .adfemu-state\n")
    pytester.makepyfile(test_user='''
def test_state_folder(adfemu):
    assert adfemu.health()["state"]["path"].endswith(".adfemu-state/state.sqlite")
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert (pytester.path / ".adfemu-state" / "azurite").is_dir()


def test_a_restart_keeps_what_was_saved_adds_what_the_config_adds_and_takes_its_settings(tmp_path):
    from adfemu.emulator.app import Emulator
    from adfemu.emulator.config import from_document
    from adfemu.emulator.storage import BlobStore

    from .conftest import seed_document

    def start(document: dict) -> Emulator:
        return Emulator(from_document(document, "test", FIXTURES), BlobStore("http://127.0.0.1:9"),
                        persistence=SqliteState(tmp_path))

    def stop(emulator: Emulator) -> None:
        emulator.close()
        emulator.persistence.close()

    first = start(seed_document())
    _, created, _ = first.backend.put_endpoint(WS, PREDICTIVE, "saved", {"Description": "made before"})
    stop(first)
    document = seed_document()
    document["lenientExtensions"] = True
    document["workspaces"][0]["webServices"].append({"id": "a" * 32, "name": "added later", "kind": "training"})
    second = start(document)
    try:
        _, _, kept = second.backend.endpoint(WS, PREDICTIVE, "saved")
        assert (kept.primary_key, kept.description) == (created.primary_key, "made before")
        assert second.backend.service(WS, "a" * 32)[1].name == "added later"
        assert second.config.lenient_extensions is True
    finally:
        stop(second)
