"""Activity handlers by type: each takes a ``Call`` and returns the activity's output (or raises
``ActivityError``). ``control`` holds ADF's control-flow activities, ``aml`` the two AzureML ones; ``copy``,
``lookup``, ``metadata`` (GetMetadata), ``delete``, ``validation``, ``web`` (Web, WebHook) and ``database``
(Script, Stored procedure) the data-moving ones (docs/activities.md)."""
from __future__ import annotations

from . import aml, control, copy, database, delete, lookup, metadata, validation, web

HANDLERS = {**control.HANDLERS, **aml.HANDLERS, **copy.HANDLERS, **lookup.HANDLERS, **metadata.HANDLERS,
            **delete.HANDLERS, **validation.HANDLERS, **web.HANDLERS, **database.HANDLERS}
