"""Incompatible rows of a tabular copy (Microsoft Learn, "Fault tolerance of copy activity"): with
``enableSkipIncompatibleRow`` they are skipped and counted (``rowsSkipped``), otherwise the first one fails the
copy. Skipped rows are logged as the documentation shows:

- ``logSettings`` (``enableCopyActivityLog``, ``logLocationSettings``): a CSV with ``Timestamp, Level,
  OperationName, OperationItem, Message`` at ``{path}/copyactivity-logs/{activity}/{activity run id}/{guid}.csv``;
  the output's ``logFilePath`` names the folder;
- legacy ``redirectIncompatibleRowSettings``: the row's fields plus ``ErrorCode`` and ``ErrorMessage`` at
  ``{path}/{activity run id}/{guid}.csv``; the output's ``redirectRowPath`` names the folder.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..blobs import BlobStoreError
from ..datasets import linked_service
from ..engine import ActivityError, Call
from ..formats import delimited
from ..tabular import Table, as_text
from .stores import blob_store, check_options, flag

COPY_ERROR = "2200"  # the error code of Copy failures in ADF's public error reports


@dataclass
class Faults:
    call: Call
    skip: bool
    skipped: list[tuple[list[Any], str, str]] = field(default_factory=list)  # (row, error code, message)

    def incompatible(self, row: list[Any], message: str, code: str = "UserErrorInvalidDataValue",
                     side: str = "Sink") -> None:
        """A row cannot be copied: remembered when skipping, otherwise the copy fails."""
        if not self.skip:
            raise ActivityError(f"Failure happened on '{side}' side. ErrorCode={code}, Message={message}",
                                COPY_ERROR)
        self.skipped.append((row, code, message))

    def write_logs(self, props: dict) -> dict:
        """Log the skipped rows where the activity asks; returns the output fields naming the logs."""
        fields: dict[str, Any] = {}
        settings = check_options(self.call, "logSettings", props.get("logSettings"),
                                 {"enableCopyActivityLog", "copyActivityLogSettings", "logLocationSettings"})
        if settings and flag(settings.get("enableCopyActivityLog"), False):
            log = check_options(self.call, "logSettings.copyActivityLogSettings",
                                settings.get("copyActivityLogSettings"), {"logLevel", "enableReliableLogging"})
            if str(log.get("logLevel") or "Warning").lower() != "warning":
                raise ActivityError(f"Activity '{self.call.name}': copyActivityLogSettings.logLevel "
                                    f"'{log.get('logLevel')}' is not supported by adfemu (Warning is: the skipped "
                                    "rows are logged).", "NotSupported")
            location = settings.get("logLocationSettings") or {}
            folder = f"{_path(location)}/copyactivity-logs/{self.call.name}/{self.call.record.activity_run_id}"
            fields["logFilePath"] = folder + "/"
            if self.skipped:
                self._write(location, f"{folder}/{uuid.uuid4()}.csv", self._session_log())
        redirect = check_options(self.call, "redirectIncompatibleRowSettings",
                                 props.get("redirectIncompatibleRowSettings"), {"linkedServiceName", "path"})
        if redirect:
            folder = f"{_path(redirect)}/{self.call.record.activity_run_id}"
            store_url = self._write(redirect, f"{folder}/{uuid.uuid4()}.csv", self._redirect_log()) \
                if self.skipped else None
            fields["redirectRowPath"] = (store_url.rsplit("/", 1)[0] if store_url else folder) + "/"
        return fields

    def _session_log(self) -> bytes:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f") + "0"
        rows = [[stamp, "Warning", "TabularRowSkip", ",".join(as_text(v) if v is not None else "" for v in row),
                 message] for row, _, message in self.skipped]
        table = Table(["Timestamp", "Level", "OperationName", "OperationItem", "Message"], rows)
        return delimited.write(table, {"firstRowAsHeader": True, "escapeChar": '"'})

    def _redirect_log(self) -> bytes:
        width = max(len(row) for row, _, _ in self.skipped)
        rows = [list(row) + [None] * (width - len(row)) + [code, message] for row, code, message in self.skipped]
        return delimited.write(Table([f"Prop_{i}" for i in range(width + 2)], rows), {"escapeChar": '"'})

    def _write(self, location: dict, path: str, data: bytes) -> str:
        ref = location.get("linkedServiceName") or {}
        store = blob_store(self.call, linked_service(self.call, ref.get("referenceName"), ref.get("parameters")))
        container, _, blob = path.partition("/")
        try:
            store.write(container, blob, data)
        except BlobStoreError as exc:
            raise ActivityError(f"Activity '{self.call.name}': writing the log of skipped rows failed: {exc}.",
                                COPY_ERROR) from None
        return store.url(container, blob)


def _path(location: dict) -> str:
    path = str(location.get("path") or "").strip("/")
    if not location.get("linkedServiceName"):
        raise ActivityError("the log location of skipped rows needs a linkedServiceName")
    return path or "copyactivity-logs-adfemu"
