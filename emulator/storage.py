"""Blob addresses and blob I/O against Azurite.

Clients name blobs the way they would name them in Azure: a connection string plus a
``container/blob`` relative location (key mode), or a ``BaseLocation`` such as
``https://acct.blob.core.windows.net/`` plus a SAS token (SAS mode). Every such address is
mapped to the same account on the one Azurite the emulator uses (path-style URLs:
``http://127.0.0.1:<port>/<account>/<container>/<blob>``), so cloud names work unchanged.

The storage SDK (azure-storage-blob, azure-core) is imported by the first blob operation (``sdk``), or by
``warm_up``: its 0.3 s of imports need not delay `adfemu serve`'s first answer.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from adfemu.schemas import connection_strings

from . import errors, names
from .limits import short
from .secrets import learn

if TYPE_CHECKING:
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import BlobClient

SAS_LIFETIME = timedelta(hours=24)
UNSENDABLE = "The blob address contains characters that cannot be sent to storage"
# The SDK's defaults (20 s to connect, 3 retries from 15 s apart) made a call to a dead storage take ~84 s and
# hold a server thread meanwhile. Here a call that cannot connect fails in well under 5 s (one quick retry, for
# a storage being restarted), and a storage that accepts but never answers is given up after READ_TIMEOUT.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 15.0
RECENT_WRITES = 64  # blobs remembered to check, after a storage restart, that they are still there


_SDK: SimpleNamespace | None = None
_SDK_IMPORT = threading.Lock()  # one thread imports it; one at first use meanwhile waits for that import


def sdk() -> SimpleNamespace:
    """The storage SDK's names used here, and the clients' options, imported on first use."""
    global _SDK
    if _SDK is not None:
        return _SDK
    with _SDK_IMPORT:
        if _SDK is None:
            from azure.core import exceptions
            from azure.storage import blob
            options = {"connection_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT,
                       "retry_policy": blob.LinearRetry(backoff=0.3, retry_total=1, random_jitter_range=0)}
            _SDK = SimpleNamespace(blob=blob, client_options=options, AzureError=exceptions.AzureError,
                                   HttpResponseError=exceptions.HttpResponseError,
                                   ResourceExistsError=exceptions.ResourceExistsError,
                                   ResourceNotFoundError=exceptions.ResourceNotFoundError)
        return _SDK


def warm_up() -> None:
    """Import the storage SDK now, before a first blob operation needs it."""
    sdk()


class StorageUnavailable(RuntimeError):
    """Azurite did not answer: reported as a job failure or a 5xx, never as a client error. The message names
    the storage and the kind of failure, never the SDK's text (which quotes URLs with SAS signatures)."""

    @classmethod
    def failed(cls, url: str, exc: BaseException) -> "StorageUnavailable":
        return cls(f"the storage at {url} did not answer ({type(exc).__name__})")


def parse_connection_string(text: str) -> dict[str, str]:
    """``Key=Value;...`` into a dict with canonical key case; raises ValueError when malformed. The parser is
    ``adfemu.schemas.connection_strings``, shared with the runner."""
    return connection_strings.parse(text)


@dataclass(frozen=True)
class BlobAddress:
    """One blob on one account, with the credential the client gave us (an account key or a SAS)."""

    account: str
    container: str
    blob: str
    account_key: str | None = None
    sas: str | None = None  # without the leading '?'

    @property
    def relative_location(self) -> str:
        return f"{self.container}/{self.blob}"


def split_relative_location(relative: str, target: str | None = None) -> tuple[str, str]:
    """``/container/a/b.csv`` or ``container/a/b.csv`` -> (container, blob), both valid Azure names. Raises AML
    errors (``target``: the port or resource the location belongs to)."""
    path = relative.lstrip("/")
    container, _, blob = path.partition("/")
    if not container:
        raise errors.ContainerIsEmpty(target=target)
    if not blob:
        raise errors.InputBlobRelativeLocationInvalid(target=target)
    check_names(container, blob, target)
    return container, blob


def check_names(container: str, blob: str, target: str | None = None) -> None:
    """Azure's naming rules (``names``): ContainerSegmentInvalid or InvalidBlob naming the rule broken."""
    if names.container_problem(container):
        raise errors.ContainerSegmentInvalid(target=target)
    problem = names.blob_problem(blob)
    if problem:
        raise errors.InvalidBlob(f"'{short(names.printable(container + '/' + blob), 60)}' ({problem})", target=target)


def account_from_base_location(base: str) -> str:
    """``https://acct.blob.core.windows.net/`` -> acct; a path-style (Azurite) URL -> its first segment."""
    parts = urlsplit(base)
    host = parts.hostname or ""
    if ".blob." in host:
        return host.split(".", 1)[0]
    first = parts.path.strip("/").split("/", 1)[0]
    if not first:
        raise ValueError(f"no account in '{base}'")
    return first


class BlobStore:
    """Reads, writes and signs blobs on one Azurite, whatever host the client named."""

    def __init__(self, azurite_url: str, accounts: dict[str, str] | None = None):
        self.azurite_url = azurite_url.rstrip("/")
        self._accounts = dict(accounts or {})  # name -> key, for SAS minting of service-owned blobs
        self._lock = threading.Lock()
        self._written: deque[tuple[float, BlobAddress]] = deque(maxlen=RECENT_WRITES)
        self.faults = None  # emulator/faults.py, set by the Emulator

    def _injected(self, operation: str) -> None:
        """An injected storage outage or latency (emulator/faults.py)."""
        message = self.faults.storage(operation) if self.faults is not None else None
        if message is not None:
            raise StorageUnavailable(message)

    def remember_key(self, account: str, key: str) -> None:
        with self._lock:
            self._accounts.setdefault(account, key)

    def key_of(self, account: str) -> str | None:
        with self._lock:
            return self._accounts.get(account)

    def account_url(self, account: str) -> str:
        return f"{self.azurite_url}/{account}"

    def base_location(self, account: str) -> str:
        return self.account_url(account) + "/"

    def _client(self, address: BlobAddress) -> BlobClient:
        azure = sdk()
        if address.account_key:
            return azure.blob.BlobClient(self.account_url(address.account), address.container, address.blob,
                                         credential={"account_name": address.account,
                                                     "account_key": address.account_key},
                                         **azure.client_options)
        url = f"{self.account_url(address.account)}/{address.relative_location}"
        return azure.blob.BlobClient.from_blob_url(url + (f"?{address.sas}" if address.sas else ""),
                                                   **azure.client_options)

    def _service(self, account: str, key: str):
        azure = sdk()
        return azure.blob.BlobServiceClient(self.account_url(account),
                                            credential={"account_name": account, "account_key": key},
                                            **azure.client_options)

    def _unavailable(self, exc: BaseException) -> StorageUnavailable:
        return StorageUnavailable.failed(self.azurite_url, exc)

    def read(self, address: BlobAddress, shown_as: str) -> bytes:
        """Blob bytes; a missing or unreadable blob is the catalogue's BlobNotFound naming ``shown_as``."""
        self._injected("read")
        azure = sdk()
        try:
            return self._client(address).download_blob().readall()
        except azure.ResourceNotFoundError:
            raise errors.BlobNotFound(shown_as, "The specified blob does not exist")
        except azure.HttpResponseError as exc:
            raise errors.BlobNotFound(shown_as, _storage_message(exc))
        except UnicodeError:
            raise errors.BlobNotFound(shown_as, UNSENDABLE) from None
        except azure.AzureError as exc:
            raise self._unavailable(exc) from None

    def exists(self, address: BlobAddress, shown_as: str) -> None:
        """Raise BlobNotFound unless the blob can be read with the given credential."""
        self._injected("exists")
        azure = sdk()
        try:
            self._client(address).get_blob_properties()
        except azure.ResourceNotFoundError:
            raise errors.BlobNotFound(shown_as, "The specified blob does not exist")
        except azure.HttpResponseError as exc:
            raise errors.BlobNotFound(shown_as, _storage_message(exc))
        except UnicodeError:
            raise errors.BlobNotFound(shown_as, UNSENDABLE) from None
        except azure.AzureError as exc:
            raise self._unavailable(exc) from None

    def write(self, address: BlobAddress, data: bytes) -> None:
        """Write a blob; with the account key, create its container first (one small request, not a re-upload).
        Names that break Azure's rules are refused before anything is sent."""
        check_names(address.container, address.blob)
        self._injected("write")
        azure = sdk()
        try:
            if address.account_key:
                try:
                    self._service(address.account, address.account_key).create_container(address.container)
                except azure.ResourceExistsError:
                    pass
            self._client(address).upload_blob(data, overwrite=True)
            self._written.append((time.time(), address))
        except azure.HttpResponseError as exc:
            raise errors.BlobNotFound(address.relative_location, _storage_message(exc)) from None
        except UnicodeError:
            raise errors.BlobNotFound(address.relative_location, UNSENDABLE) from None
        except azure.AzureError as exc:
            raise self._unavailable(exc) from None

    def read_sas(self, address: BlobAddress) -> str | None:
        """A fresh read SAS (with '?') for ``address``, or the client's own token when no key is known."""
        key = address.account_key or self.key_of(address.account)
        if key is None:
            return f"?{address.sas}" if address.sas else None
        blob = sdk().blob
        token = blob.generate_blob_sas(address.account, address.container, address.blob, account_key=key,
                                       permission=blob.BlobSasPermissions(read=True),
                                       expiry=datetime.now(timezone.utc) + SAS_LIFETIME)
        learn(unquote(parse_qs(token).get("sig", [""])[0] if "sig=" in token else ""))  # masked in any encoding
        return f"?{token}"

    def accepts(self, account: str, key: str) -> bool:
        """True when the storage knows ``account`` with ``key`` (one container listing)."""
        azure = sdk()
        try:
            next(iter(self._service(account, key).list_containers(results_per_page=1)), None)
        except azure.HttpResponseError:
            return False
        except azure.AzureError as exc:
            raise self._unavailable(exc) from None
        return True

    def ping(self) -> bool:
        from .azurite import answers
        return answers(self.azurite_url)

    def missing_recent(self, before: float) -> tuple[int, int]:
        """Of the last blobs this store wrote before ``before`` (epoch seconds), how many are checked and how
        many are gone: after storage restarted, whether what it held survived."""
        recent = [address for moment, address in list(self._written) if moment < before]
        missing = 0
        for address in recent:
            try:
                self.exists(address, address.relative_location)
            except errors.BlobNotFound:
                missing += 1
        return len(recent), missing


def _storage_message(exc: HttpResponseError) -> str:
    message = (exc.reason or str(exc.message or "")).split("\n")[0].rstrip(".")
    return message or f"HTTP {exc.status_code}"
