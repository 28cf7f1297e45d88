"""The Validation activity (Microsoft Learn, "Validation activity"): waits until the dataset's file exists
(with at least ``minimumSize`` bytes) or its folder exists (``childItems`` true: with items; false: empty),
checking every ``sleep`` seconds (default 10) until ``timeout`` (default ``0.12:00:00``), both emulated seconds
compressed by the run's time scale. The output has ``exists``, ``size`` (files), ``childItems`` (folders, when
asked), ``effectiveIntegrationRuntime`` and ``executionDuration``, as ADF's output shows them. A timeout fails the
activity like an activity timeout."""
from __future__ import annotations

import time

from ..blobs import BlobStoreError
from ..datasets import resolve_dataset
from ..engine import ActivityError, ActivityTimeout, Call, _seconds
from .metadata import describe
from .stores import EFFECTIVE_RUNTIME, check_options, dataset_store

DEFAULT_TIMEOUT = "0.12:00:00"


def validation(call: Call) -> dict:
    props = check_options(call, "typeProperties", call.props, {"dataset", "timeout", "sleep", "minimumSize",
                                                               "childItems"})
    dataset = resolve_dataset(call, props.get("dataset"))
    timeout_text = str(call.evaluate(props.get("timeout")) or DEFAULT_TIMEOUT)
    timeout = _seconds(timeout_text)
    if timeout is None:
        raise ActivityError(f"Activity '{call.name}': timeout '{timeout_text}' is not d.hh:mm:ss.")
    sleep = float(call.evaluate(props.get("sleep")) or 10)
    minimum = int(call.evaluate(props.get("minimumSize")) or 0)
    child_items = call.evaluate(props.get("childItems"))
    store, location = dataset_store(call, dataset), dataset.location()
    started, waited = time.monotonic(), 0.0
    while True:
        try:
            item = describe(store, location)
        except BlobStoreError as exc:
            raise ActivityError(f"Activity '{call.name}': {exc}.") from None
        if _valid(item, minimum, child_items):
            output = {"exists": True}
            if item.is_file:
                output["size"] = item.size
            elif child_items is not None:
                output["childItems"] = item.children
            output.update({"effectiveIntegrationRuntime": EFFECTIVE_RUNTIME,
                           "executionDuration": int(time.monotonic() - started)})
            return output
        if waited + sleep > timeout:
            call.sleep(max(timeout - waited, 0))
            raise ActivityTimeout(call.name, f"the Validation timeout {timeout_text} ('{location}' did not meet "
                                             "the criteria)")
        call.sleep(sleep)
        waited += sleep


def _valid(item, minimum: int, child_items) -> bool:
    if not item.exists:
        return False
    if item.is_file:
        return (item.size or 0) >= minimum
    if child_items is None:
        return True
    wanted = str(child_items).lower() == "true" if isinstance(child_items, str) else bool(child_items)
    return bool(item.children) == wanted


HANDLERS = {"Validation": validation}
