"""The file side of Copy: which blobs a file source reads (and their rows), and where a file sink writes.

Sink file names (Microsoft Learn, "Copy and transform data in Azure Blob storage", ``copyBehavior`` and the
examples of recursive/copyBehavior): ``PreserveHierarchy`` (default) keeps each file's path relative to the source
folder; ``FlattenHierarchy`` writes every file at the first level of the sink folder with a generated name;
``MergeFiles`` writes one file, named by the sink dataset's ``fileName`` or generated. Generated names follow
the documented pattern ``Data.[activity run id].[GUID if FlattenHierarchy].[format].[compression]``; a tabular
source read by table name gives ``[table name].[format].[compression]``. The format part is DelimitedText's
``fileExtension`` (required when the sink dataset has no ``fileName``), ``.json``, ``.parquet``, or the source
file's own extension for Binary.

Inferred: with PreserveHierarchy a file compressed on one side only gains or loses the codec's extension
(``a.csv`` -> ``a.csv.gz``); a ZipDeflate archive's entries go to ``<archive name>/<entry>`` unless
``preserveZipFileNameAsFolder`` is false. A sink dataset naming one ``fileName`` with several source files and
PreserveHierarchy/FlattenHierarchy is refused rather than letting the files overwrite each other.
"""
from __future__ import annotations

import posixpath
import uuid
from dataclasses import dataclass
from typing import Iterator

from ..blobs import BlobStoreError
from ..datasets import Dataset, Location
from ..engine import ActivityError, Call
from ..formats import BINARY_READ_SETTINGS, TABULAR, FormatError, codec_level, file_codec
from ..formats.codecs import Codec, decompress
from ..selection import MissingSource, select
from ..tabular import Table
from .copy_faults import COPY_ERROR
from .stores import STORE_READ_SETTINGS, STORE_WRITE_SETTINGS, check_options, dataset_store, flag, read_settings

BEHAVIORS = {"preservehierarchy": "PreserveHierarchy", "flattenhierarchy": "FlattenHierarchy",
             "mergefiles": "MergeFiles"}


@dataclass
class SourceFile:
    relative: str    # path below the source folder (a zip entry: <archive>/<entry>)
    blob: str        # the blob it came from
    data: bytes      # decompressed content
    stored: int      # bytes read from storage (the blob's size; an archive counts once)


class FileSource:
    def __init__(self, call: Call, dataset: Dataset, source: dict):
        self.call, self.dataset = call, dataset
        store_settings = check_options(call, "source.storeSettings", source.get("storeSettings"), STORE_READ_SETTINGS)
        if "recursive" in source and "recursive" not in store_settings:  # the older source-level property
            store_settings = {**store_settings, "recursive": source["recursive"]}
        fmt = TABULAR.get(dataset.type)
        self.format_settings = check_options(call, "source.formatSettings", source.get("formatSettings"),
                                             fmt.read_settings if fmt else BINARY_READ_SETTINGS)
        zip_settings = check_options(call, "source.formatSettings.compressionProperties",
                                     self.format_settings.get("compressionProperties"),
                                     {"type", "preserveZipFileNameAsFolder", "preserveCompressionFileNameAsFolder"})
        self.zip_folder = flag(zip_settings.get("preserveZipFileNameAsFolder"), True)
        if flag(store_settings.get("enablePartitionDiscovery"), False):
            raise ActivityError(f"Activity '{call.name}': source.storeSettings.enablePartitionDiscovery is not "
                                "emulated by adfemu.", "NotSupported")
        self.settings = read_settings(call, store_settings)
        self.delete_after = flag(store_settings.get("deleteFilesAfterCompletion"), False)
        self.store = dataset_store(call, dataset)
        self.location = dataset.location()
        self.codec = _codec(call, dataset)
        self.files_read: list[SourceFile] = []

    def files(self):
        try:
            return select(self.store, self.location, self.settings)
        except MissingSource as exc:
            raise ActivityError(f"Failure happened on 'Source' side. ErrorCode=UserErrorSourceBlobNotExists, "
                                f"Message=The required Blob is missing: {exc}.", COPY_ERROR) from None
        except BlobStoreError as exc:
            raise _store_error("Source", exc) from None

    def read(self) -> Iterator[SourceFile]:
        for selected in self.files():
            try:
                raw = self.store.read(self.location.container, selected.blob)
            except BlobStoreError as exc:
                raise _store_error("Source", exc) from None
            if self.codec is None:
                yield SourceFile(selected.relative, selected.blob, raw, len(raw))
                continue
            try:
                parts = decompress(self.codec, raw, f"'{self.location.container}/{selected.blob}'")
            except FormatError as exc:
                raise _format_error("Source", exc) from None
            for index, (entry, data) in enumerate(parts):
                yield SourceFile(self._relative(selected.relative, entry), selected.blob, data,
                                 len(raw) if index == 0 else 0)

    def _relative(self, relative: str, entry: str | None) -> str:
        if entry is None:  # gzip/bzip2/deflate: the name without the codec's extension
            return relative[:-len(self.codec.extension)] if relative.lower().endswith(self.codec.extension) \
                else relative
        folder = posixpath.dirname(relative)
        archive = posixpath.basename(relative)
        archive = archive[:-4] if archive.lower().endswith(".zip") else archive
        return posixpath.join(folder, archive, entry) if self.zip_folder else posixpath.join(folder, entry)

    def table(self, file: SourceFile) -> Table:
        fmt = TABULAR[self.dataset.type]
        try:
            return fmt.read(file.data, self.dataset.props, self.format_settings,
                            f"'{self.location.container}/{file.blob}'")
        except FormatError as exc:
            raise _format_error("Source", exc) from None

    def delete(self, blobs: list[str]) -> None:
        for blob in dict.fromkeys(blobs):
            try:
                self.store.delete(self.location.container, blob)
            except BlobStoreError as exc:
                raise _store_error("Source", exc) from None


class FileSink:
    def __init__(self, call: Call, dataset: Dataset, sink: dict):
        self.call, self.dataset = call, dataset
        store_settings = check_options(call, "sink.storeSettings", sink.get("storeSettings"), STORE_WRITE_SETTINGS)
        fmt = TABULAR.get(dataset.type)
        self.format_settings = check_options(call, "sink.formatSettings", sink.get("formatSettings"),
                                             fmt.write_settings if fmt else {"type"})
        behavior = store_settings.get("copyBehavior") or sink.get("copyBehavior") or "PreserveHierarchy"
        if str(behavior).lower() not in BEHAVIORS:
            raise ActivityError(f"Activity '{call.name}': copyBehavior '{behavior}' is not one of "
                                f"{', '.join(BEHAVIORS.values())}.")
        self.behavior = BEHAVIORS[str(behavior).lower()]
        self.store = dataset_store(call, dataset)
        self.location: Location = dataset.location()
        self.codec = _codec(call, dataset)
        try:
            self.level = codec_level(dataset.type, dataset.props)
        except FormatError as exc:
            raise _format_error("Sink", exc) from None
        self.written = 0
        self.bytes = 0

    def extension(self, source_name: str = "") -> str:
        if self.dataset.type == "DelimitedText":
            ext = self.format_settings.get("fileExtension")
            if not ext:
                raise ActivityError(f"Activity '{self.call.name}': the sink dataset '{self.dataset.name}' has no "
                                    "fileName, so sink.formatSettings.fileExtension is required (Delimited text "
                                    "format).", COPY_ERROR)
            return str(ext) if str(ext).startswith(".") else f".{ext}"
        fmt = TABULAR.get(self.dataset.type)
        return fmt.extension if fmt else posixpath.splitext(source_name)[1]

    def generated(self, source_name: str = "", flatten_key: str | None = None) -> str:
        run = self.call.record.activity_run_id
        guid = f".{uuid.uuid5(uuid.UUID(_as_uuid(run)), flatten_key)}" if flatten_key is not None else ""
        return f"Data.{run}{guid}{self.extension(source_name)}{self.codec.extension if self.codec else ''}"

    def target(self, relative: str | None, count: int, table_name: str | None = None) -> str:
        """The blob name a source file (``relative``) or a tabular result (``None``) is written to."""
        if self.location.file:
            if relative is not None and count > 1 and self.behavior != "MergeFiles":
                raise ActivityError(f"Activity '{self.call.name}': the sink dataset '{self.dataset.name}' names one "
                                    f"file ('{self.location.file}') but the source has {count} files; use copyBehavior "
                                    "MergeFiles or leave the sink's fileName empty.", COPY_ERROR)
            name = self.location.file
        elif relative is None:
            name = (f"{table_name}{self.extension()}{self.codec.extension if self.codec else ''}" if table_name
                    else self.generated())
        elif self.behavior == "PreserveHierarchy":
            name = self._renamed(relative)
        elif self.behavior == "FlattenHierarchy":
            name = self.generated(relative, relative)
        else:
            name = self.generated(relative)
        return "/".join(p for p in (self.location.folder, name) if p)

    def _renamed(self, relative: str) -> str:
        if self.codec and not relative.lower().endswith(self.codec.extension):
            return relative + self.codec.extension
        return relative

    def write_bytes(self, blob: str, data: bytes) -> None:
        if self.codec is not None:
            data = self.codec.compress(data, posixpath.basename(blob)[:-len(self.codec.extension)]
                                       if blob.lower().endswith(self.codec.extension) else posixpath.basename(blob),
                                       self.level)
        try:
            self.store.write(self.location.container, blob, data)
        except BlobStoreError as exc:
            raise _store_error("Sink", exc) from None
        self.written += 1
        self.bytes += len(data)

    def write_table(self, blob: str, table: Table) -> None:
        fmt = TABULAR[self.dataset.type]
        try:
            data = fmt.write(table, self.dataset.props, self.format_settings,
                             f"'{self.location.container}/{blob}'")
        except FormatError as exc:
            raise _format_error("Sink", exc) from None
        self.write_bytes(blob, data)


def _codec(call: Call, dataset: Dataset) -> Codec | None:
    try:
        return file_codec(dataset.type, dataset.props)
    except FormatError as exc:
        raise ActivityError(f"Activity '{call.name}': dataset '{dataset.name}': {exc}.", "NotSupported") from None


def _as_uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, text))


def _store_error(side: str, exc: BlobStoreError) -> ActivityError:
    code = "UserErrorSourceBlobNotExists" if exc.missing else "AzureBlobOperationFailed"
    return ActivityError(f"Failure happened on '{side}' side. ErrorCode={code}, Message={exc}.", COPY_ERROR)


def _format_error(side: str, exc: Exception) -> ActivityError:
    return ActivityError(f"Failure happened on '{side}' side. ErrorCode=UserErrorInvalidDataFormat, Message={exc}.",
                         COPY_ERROR)
