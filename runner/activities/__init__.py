"""Activity handlers by type: each takes a ``Call`` and returns the activity's output (or raises
``ActivityError``). ``control`` holds ADF's control-flow activities, ``aml`` the two AzureML ones."""
from __future__ import annotations

from . import aml, control

HANDLERS = {**control.HANDLERS, **aml.HANDLERS}
