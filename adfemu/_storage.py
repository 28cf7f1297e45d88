"""Blobs in the emulated storage, as a test or the command line sees them: ``container/blob/path`` in an
account (Azurite's well-known ``devstoreaccount1`` unless named), upload, download, list, a whole folder in
(``--data``) and everything out (``--save-storage``)."""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Union

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

from adfemu.emulator.azurite import DEV_ACCOUNT, DEV_KEY, connection_string

from ._errors import StorageError

Data = Union[bytes, str, "os.PathLike[str]", IO[bytes]]


def split(path: str) -> tuple[str, str]:
    """``container/blob/path`` (a leading ``/`` is ignored) -> (container, blob)."""
    container, _, blob = str(path).lstrip("/").partition("/")
    if not container or not blob:
        raise StorageError(f"'{path}' is not container/blob/path (e.g. 'input/train.csv' is blob 'train.csv' in "
                           "container 'input')")
    return container, blob


def _bytes(data: Data) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, os.PathLike):
        return Path(data).read_bytes()
    if isinstance(data, (io.IOBase,)) or hasattr(data, "read"):
        content = data.read()
        return content.encode("utf-8") if isinstance(content, str) else content
    raise StorageError(f"upload takes bytes, str, a pathlib.Path or an open binary file, not {type(data).__name__}")


class Storage:
    """Azurite at ``url`` (path-style: ``{url}/{account}/{container}/{blob}``) with the keys of known accounts."""

    def __init__(self, url: str, keys: dict[str, str] | None = None):
        self.url = url.rstrip("/")
        self.keys = {DEV_ACCOUNT: DEV_KEY, **(keys or {})}
        self._clients: dict[str, BlobServiceClient] = {}

    def connection_string(self, account: str | None = None) -> str:
        account = account or DEV_ACCOUNT
        return connection_string(self.url, account, self._key(account))

    def client(self, account: str | None = None) -> BlobServiceClient:
        account = account or DEV_ACCOUNT
        if account not in self._clients:
            self._clients[account] = BlobServiceClient(
                f"{self.url}/{account}", credential={"account_name": account, "account_key": self._key(account)})
        return self._clients[account]

    def _key(self, account: str) -> str:
        key = self.keys.get(account)
        if key is None:
            raise StorageError(f"storage account '{account}' is not known here (known: {', '.join(sorted(self.keys))}); "
                               "load the factory that names it first (adfemu.load / adfemu run --data)")
        return key

    def upload(self, path: str, data: Data, account: str | None = None) -> None:
        container, blob = split(path)
        content = _bytes(data)
        with _storage_errors(f"upload {path}", account):
            client = self.client(account)
            try:
                client.create_container(container)
            except ResourceExistsError:
                pass
            client.get_blob_client(container, blob).upload_blob(content, overwrite=True)

    def download(self, path: str, account: str | None = None) -> bytes:
        container, blob = split(path)
        with _storage_errors(f"download {path}", account):
            try:
                return self.client(account).get_blob_client(container, blob).download_blob().readall()
            except ResourceNotFoundError:
                raise StorageError(f"blob '{path}' does not exist in account '{account or DEV_ACCOUNT}'") from None

    def list_blobs(self, prefix: str = "", account: str | None = None) -> list[str]:
        """Every ``container/blob`` path that starts with ``prefix``, sorted."""
        prefix = prefix.lstrip("/")
        wanted_container, slash, blob_prefix = prefix.partition("/")
        found = []
        with _storage_errors("list blobs", account):
            client = self.client(account)
            for container in client.list_containers():
                if slash and container.name != wanted_container:
                    continue
                if not slash and not container.name.startswith(wanted_container):
                    continue
                blobs = client.get_container_client(container.name).list_blobs(
                    name_starts_with=blob_prefix or None)
                found += [f"{container.name}/{b.name}" for b in blobs]
        return sorted(found)

    def upload_folder(self, folder: str | os.PathLike, account: str | None = None) -> int:
        """Every file below ``folder``: its first-level folders are containers. Returns how many files."""
        root = Path(folder)
        if not root.is_dir():
            raise StorageError(f"{folder} is not a folder (its first-level folders become containers)")
        loose = [p.name for p in root.iterdir() if p.is_file()]
        if loose:
            raise StorageError(f"{folder}: '{loose[0]}' is a file at the top; put files in a folder, which becomes "
                               "their container (e.g. {folder}/input/{loose[0]})")
        count = 0
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            self.upload(file.relative_to(root).as_posix(), file, account)
            count += 1
        return count

    def save(self, folder: str | os.PathLike) -> int:
        """Every blob of every known account to ``folder/<account>/<container>/<blob>``. Returns how many."""
        count = 0
        for account in sorted(self.keys):
            for path in self.list_blobs(account=account):
                target = Path(folder, account, *path.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self.download(path, account))
                count += 1
        return count

    def clear(self) -> None:
        """Delete every container of every known account."""
        for account in self.keys:
            with _storage_errors("clear storage", account):
                client = self.client(account)
                for container in client.list_containers():
                    try:
                        client.delete_container(container.name)
                    except ResourceNotFoundError:
                        pass


class _storage_errors:
    """Storage SDK failures as one-line ``StorageError``s."""

    def __init__(self, what: str, account: str | None):
        self.what, self.account = what, account or DEV_ACCOUNT

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, HttpResponseError):
            reason = (exc.reason or str(exc.message or "")).split("\n")[0]
            raise StorageError(f"{self.what} in account '{self.account}' failed: {reason} "
                               f"({exc.error_code or exc.status_code})") from None
        if isinstance(exc, AzureError):
            raise StorageError(f"{self.what} in account '{self.account}' failed: the storage did not answer "
                               f"({type(exc).__name__})") from None
        return False
