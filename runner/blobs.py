"""Blob storage as the data-moving activities reach it: the account behind a storage linked service, served
by Azurite at ``Services.storage_url`` (path-style: ``{storage_url}/{account}/{container}/{blob}``).

Linked services (Microsoft Learn, "Copy and transform data in Azure Blob storage" and "... Azure Data Lake
Storage Gen2"): ``AzureStorage`` / ``AzureBlobStorage`` with ``connectionString`` (account key or SAS),
``sasUri``, or ``serviceEndpoint`` (+ ``accountKey``, or a service principal / managed identity);
``AzureBlobFS`` with ``url`` (+ ``accountKey``) or ``sasUri``. Every ``*.blob.core.windows.net`` and
``*.dfs.core.windows.net`` host maps to the same-named Azurite account. Azurite has no Data Lake Storage Gen2
(dfs) API, so an ``AzureBlobFS`` file system is a blob container and its paths are blob names.

Azure AD access to storage (service principal, managed identity) is not available on Azurite: such a linked
service uses the account key that provisioning gave the account (``derived_key``). Messages never contain a
key, a SAS signature or a connection string.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

BLOB_TYPES = ("AzureStorage", "AzureBlobStorage", "AzureBlobFS")
from adfemu.schemas.connection_strings import DEV_ACCOUNT, DEV_KEY
from adfemu.schemas.connection_strings import parse as parse_connection_string
STORAGE_HOST = re.compile(r"^([a-z0-9]+)\.(?:blob|dfs)\.core\.(?:windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$",
                          re.I)


class BlobStoreError(Exception):
    """A storage operation failed or a linked service cannot reach storage; the message names what and where."""

    def __init__(self, message: str, missing: bool = False):
        super().__init__(message)
        self.missing = missing  # the container or blob does not exist


# One parser for the runner: the harness and provisioning use it too. (Issue 12 unifies connection-string
# parsing into adfemu.schemas; point this function at the shared helper then.)
def derived_key(account: str) -> str:
    """The key adfemu gives an account that a factory names without one (a service endpoint reached through Azure
    AD): stable, so provisioning and the runner agree without sharing state."""
    return base64.b64encode(hashlib.sha512(f"adfemu-account-key:{account.lower()}".encode()).digest()).decode()


def account_from_url(url: str) -> str | None:
    """The account of ``https://{account}.blob.core.windows.net/...`` (or ``dfs``), or of a path-style emulator URL
    (``http://127.0.0.1:10000/{account}``)."""
    parts = urlsplit(str(url or "").strip())
    match = STORAGE_HOST.match(parts.hostname or "")
    if match:
        return match.group(1).lower()
    first = parts.path.strip("/").split("/")[0]
    return first or None


@dataclass(frozen=True)
class Account:
    """How to reach one storage account: its name and a key or a SAS (never shown)."""
    name: str
    key: str | None = None
    sas: str | None = None  # without the leading '?'
    container: str | None = None  # the container a container-scoped SAS URI names

    def __repr__(self) -> str:  # keys and SAS stay out of tracebacks and logs
        return f"Account({self.name!r})"


def account_of(linked_service: dict, secret: Callable[[Any], str | None], evaluate: Callable[[Any], Any]) -> Account:
    """The account a blob linked service (canonical document) names. ``secret`` resolves SecureString / Key Vault
    values, ``evaluate`` evaluates expressions (``linkedService()`` parameters)."""
    name = linked_service.get("name", "?")
    props = (linked_service.get("properties") or {})
    kind, tp = props.get("type"), props.get("typeProperties") or {}
    if kind not in BLOB_TYPES:
        raise BlobStoreError(f"linked service '{name}' is {kind}, not a blob storage linked service "
                             f"({', '.join(BLOB_TYPES)})")
    if tp.get("connectionString") is not None:
        return _from_connection_string(name, str(evaluate(secret(tp["connectionString"])) or ""), secret, tp)
    if tp.get("sasUri") is not None:
        return _from_sas_uri(name, str(evaluate(secret(tp["sasUri"])) or ""), secret, tp)
    endpoint = tp.get("serviceEndpoint") if kind != "AzureBlobFS" else tp.get("url")
    if endpoint is not None:
        account = account_from_url(str(evaluate(endpoint) or ""))
        if not account:
            raise BlobStoreError(f"linked service '{name}': its {'url' if kind == 'AzureBlobFS' else 'serviceEndpoint'}"
                                 " names no storage account")
        key = secret(tp["accountKey"]) if tp.get("accountKey") is not None else None
        return Account(account, str(evaluate(key)) if key else derived_key(account))
    raise BlobStoreError(f"linked service '{name}' has neither connectionString, sasUri nor "
                         f"{'url' if kind == 'AzureBlobFS' else 'serviceEndpoint'}")


def _from_connection_string(name: str, text: str, secret: Callable, tp: dict) -> Account:
    try:
        parts = parse_connection_string(text)
    except ValueError as exc:
        raise BlobStoreError(f"linked service '{name}': its connectionString is not valid ({exc})") from None
    account = parts.get("AccountName") or account_from_url(parts.get("BlobEndpoint", ""))
    if not account:
        raise BlobStoreError(f"linked service '{name}': its connectionString names no AccountName")
    key = parts.get("AccountKey") or (secret(tp["accountKey"]) if tp.get("accountKey") is not None else None)
    sas = parts.get("SharedAccessSignature") or (secret(tp["sasToken"]) if tp.get("sasToken") is not None else None)
    if not key and not sas:
        key = derived_key(account)
    return Account(account, key or None, sas.lstrip("?") if sas else None)


def _from_sas_uri(name: str, uri: str, secret: Callable, tp: dict) -> Account:
    parts = urlsplit(uri.strip())
    account = account_from_url(uri)
    if not account:
        raise BlobStoreError(f"linked service '{name}': its sasUri names no storage account")
    token = parts.query or (secret(tp["sasToken"]) or "" if tp.get("sasToken") is not None else "")
    path = [p for p in parts.path.split("/") if p]
    if STORAGE_HOST.match(parts.hostname or ""):
        container = path[0] if path else None
    else:  # path-style emulator URL: /{account}/{container}
        container = path[1] if len(path) > 1 else None
    return Account(account, None, str(token).lstrip("?") or None, container)


@dataclass(frozen=True)
class BlobInfo:
    name: str               # the blob name inside its container
    size: int
    last_modified: datetime  # UTC
    content_md5: str | None  # base64, as Azure reports it


class BlobStore:
    """One account's blobs on Azurite. A new client per store: nothing is shared between activity threads."""

    def __init__(self, storage_url: str, account: Account):
        if not storage_url:
            raise BlobStoreError("no storage is configured for this run (Services.storage_url is empty)")
        self.account = account
        credential: Any = {"account_name": account.name, "account_key": account.key} if account.key else account.sas
        self._client = BlobServiceClient(f"{storage_url.rstrip('/')}/{account.name}", credential=credential)

    def _fail(self, what: str, exc: Exception, container: str, blob: str = "") -> BlobStoreError:
        where = f"'{container}/{blob}'" if blob else f"container '{container}'"
        if isinstance(exc, ResourceNotFoundError):
            return BlobStoreError(f"{what} {where} in storage account '{self.account.name}': it does not exist",
                                  missing=True)
        if isinstance(exc, HttpResponseError):
            code = getattr(exc.error_code, "value", exc.error_code) or exc.status_code
            hint = " (a container name is 3-63 lowercase letters, digits and hyphens)" \
                if code in ("OutOfRangeInput", "InvalidResourceName") else ""
            return BlobStoreError(f"{what} {where} in storage account '{self.account.name}' failed: {code}{hint}")
        return BlobStoreError(f"{what} {where} in storage account '{self.account.name}' failed: the storage did not "
                              f"answer ({type(exc).__name__})")

    def container_exists(self, container: str) -> bool:
        try:
            return self._client.get_container_client(container).exists()
        except AzureError as exc:
            raise self._fail("check", exc, container) from None

    def container_modified(self, container: str) -> datetime | None:
        try:
            return _utc(self._client.get_container_client(container).get_container_properties().last_modified)
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise self._fail("read the properties of", exc, container) from None

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        """Every blob whose name starts with ``prefix`` (all levels), in name order."""
        try:
            for item in self._client.get_container_client(container).list_blobs(name_starts_with=prefix or None):
                yield _info(item.name, item)
        except AzureError as exc:
            raise self._fail("list", exc, container, prefix) from None

    def properties(self, container: str, blob: str) -> BlobInfo | None:
        try:
            return _info(blob, self._client.get_blob_client(container, blob).get_blob_properties())
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise self._fail("read the properties of", exc, container, blob) from None

    def read(self, container: str, blob: str) -> bytes:
        try:
            return self._client.get_blob_client(container, blob).download_blob().readall()
        except AzureError as exc:
            raise self._fail("read", exc, container, blob) from None

    def write(self, container: str, blob: str, data: bytes) -> None:
        """Write (overwrite) a blob; the container is created when missing, as ADF's sink does."""
        try:
            try:
                self._client.create_container(container)
            except ResourceExistsError:
                pass
            self._client.get_blob_client(container, blob).upload_blob(data, overwrite=True)
        except AzureError as exc:
            raise self._fail("write", exc, container, blob) from None

    def delete(self, container: str, blob: str) -> None:
        try:
            self._client.get_blob_client(container, blob).delete_blob()
        except AzureError as exc:
            raise self._fail("delete", exc, container, blob) from None

    def url(self, container: str, blob: str = "") -> str:
        """The blob's address as Azure shows it (for outputs and logs)."""
        return f"https://{self.account.name}.blob.core.windows.net/{container}/{blob}".rstrip("/")


def _info(name: str, item: Any) -> BlobInfo:
    settings = getattr(item, "content_settings", None)
    md5 = getattr(settings, "content_md5", None) if settings is not None else None
    return BlobInfo(name, int(getattr(item, "size", 0) or 0), _utc(item.last_modified),
                    base64.b64encode(bytes(md5)).decode() if md5 else None)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
