"""Rebuild an emulator from its saved state at start (``--state DIR``), and save all of it at once.

What was saved wins over the config given at restart for everything it holds (generated keys, ids, endpoints
created, models swapped, ARM resources, jobs); what the given config adds is added, as ``/_emulator/provision``
would. Jobs that were Running when the emulator stopped come back Failed with ``INTERRUPTED`` as their Details
(the experiment's progress is not saved, so they cannot resume); NotStarted jobs can still be started.
"""
from __future__ import annotations

from typing import Any

from . import codec
from .config import Config, ConfigError, merged
from .jobs import FAILED, RUNNING
from .models import iso, utcnow
from .persistence import SqliteState, StateError

INTERRUPTED = ("Error 0000: The job was interrupted because the emulator stopped while it ran (it restarted at {0}). "
               "Submit the job again.")


def saved_config(state: SqliteState, given: Config) -> Config:
    """The config the emulator had when it stopped, plus what ``given`` adds (called before Azurite starts: the
    storage accounts it names must exist there). Settings (``lenientExtensions``, ``endpoints``, ARM's
    ``asyncOperationSeconds`` and ``pageSize``, Azure AD's ``tokenLifetimeSeconds``...) are the given config's."""
    doc = state.record("config", "current")
    if doc is None:
        return given
    try:
        config = merged(codec.decode_config(doc, state.model), given.document, given.source)
    except ConfigError as exc:
        raise StateError(f"{state.path}: the saved config and {given.source} do not merge:\n{exc}") from None
    _settings_from(given.document, config.document, COLLECTIONS)
    for section, lists in (("resourceManager", ("subscriptions", "roleAssignments")), ("azureAd", ("tenants",))):
        if isinstance(given.document.get(section), dict):
            _settings_from(given.document[section], config.document.setdefault(section, {}), lists)
    return config


COLLECTIONS = ("workspaces", "storage", "azureAd", "resourceManager")  # merged item by item, saved items first


def _settings_from(given: dict, document: dict, collections: tuple[str, ...]) -> None:
    """Every key of ``document`` but its collections is as in ``given`` (a setting left out now is left out)."""
    for key in [k for k in document if k not in collections and k not in given]:
        del document[key]
    document.update({k: v for k, v in given.items() if k not in collections})


def restore(emulator: Any, state: SqliteState) -> None:
    """Load what ``state`` holds into a new emulator (whose config is ``saved_config``), then save it whole."""
    if not state.is_empty():
        _load(emulator, state)
    save_everything(emulator, state)


def _load(emulator: Any, state: SqliteState) -> None:
    config = emulator.config
    workspaces = {key: codec.decode_workspace(doc, state.model) for key, doc in state.records("workspace").items()}
    emulator.backend.restore(workspaces)
    emulator.backend.extend(config)
    directory = state.record("directory", "current")
    if directory is not None:
        codec.restore_directory(emulator.directory, directory)
        emulator.directory.extend(config.document.get("azureAd"))
    setup = state.record("arm", "setup")
    if setup is not None:
        subscriptions, assignments = codec.decode_arm_setup(setup)
        operations = {k: codec.decode_operation(d) for k, d in state.records("armoperation").items()}
        resources = [codec.decode_arm_resource(d, subscriptions, emulator.backend.workspaces, operations)
                     for d in state.records("armresource").values()]
        emulator.arm.restore(subscriptions, assignments, [r for r in resources if r is not None], operations)
        emulator.arm.extend(config.document.get("resourceManager"))
    moment = utcnow()
    jobs = [codec.decode_job(d, emulator.backend.workspaces) for d in state.records("job").values()]
    for job in (j for j in jobs if j is not None and j.status == RUNNING):
        job.status, job.details, job.ended = FAILED, INTERRUPTED.format(iso(moment)), moment
    emulator.jobs.restore([j for j in jobs if j is not None])
    emulator.journal.restore(state.journal())


def save_everything(emulator: Any, state: SqliteState) -> None:
    """The whole state in the file (at start, after loading: what the config added, the jobs converted)."""
    state.config(emulator.config)
    state.directory(emulator.directory)
    with emulator.backend.lock:
        workspaces = list(emulator.backend.workspaces.values())
        state.workspaces(workspaces)
    with emulator.arm.lock:
        state.arm_replaced(emulator.arm)
    state.all_jobs_forgotten()
    for job in emulator.jobs.all():
        state.job(job)
    used = {r.digest for ws in workspaces for svc in ws.services.values() for ep in svc.endpoints.values()
            for r in ep.resources.values()}
    state.drop_unused_models(used | set(codec.encode_config(emulator.config)[1]))
