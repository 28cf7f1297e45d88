"""File compression codecs of the file formats (Microsoft Learn, "Delimited text format", "JSON format",
"Binary format"): ``gzip``, ``bzip2``, ``deflate`` and ``ZipDeflate`` with the standard library; ``snappy``,
``lz4``, ``Tar`` and ``TarGzip`` are not emulated (a clear error names them).

``deflate`` is a raw deflate stream (what .NET's DeflateStream writes); reading also accepts a zlib-wrapped one.
A ZipDeflate archive holds one file per entry; reading yields each entry. ``compressionLevel`` ``Optimal`` is
zlib's default level, ``Fastest`` level 1. Written gzip headers carry no name and no time, so equal data gives
equal bytes.
"""
from __future__ import annotations

import bz2
import gzip
import io
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable

LEVELS = {"optimal": 6, "fastest": 1}


class CodecError(ValueError):
    """Unknown or unsupported codec, or data that does not decompress."""


@dataclass(frozen=True)
class Codec:
    name: str
    extension: str
    compress: Callable[[bytes, str, int], bytes]        # (data, entry name, level)
    decompress: Callable[[bytes], list[tuple[str | None, bytes]]]  # [(entry name or None, data)]


def _gzip(data: bytes, name: str, level: int) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)


def _bzip2(data: bytes, name: str, level: int) -> bytes:
    return bz2.compress(data, 9 if level >= 6 else 1)


def _deflate(data: bytes, name: str, level: int) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _inflate(data: bytes) -> list[tuple[str | None, bytes]]:
    try:
        return [(None, zlib.decompress(data, -15))]
    except zlib.error:
        return [(None, zlib.decompress(data))]


def _zip(data: bytes, name: str, level: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        info = zipfile.ZipInfo(name or "data", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)
    return buffer.getvalue()


def _unzip(data: bytes) -> list[tuple[str | None, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
                raise CodecError(f"zip entry '{info.filename}' uses a compression other than deflate "
                                 "(ADF supports only deflate, not deflate64)")
        return [(i.filename, archive.read(i)) for i in archive.infolist() if not i.is_dir()]


CODECS = {
    "gzip": Codec("gzip", ".gz", _gzip, lambda d: [(None, gzip.decompress(d))]),
    "bzip2": Codec("bzip2", ".bz2", _bzip2, lambda d: [(None, bz2.decompress(d))]),
    "deflate": Codec("deflate", ".deflate", _deflate, _inflate),
    "zipdeflate": Codec("ZipDeflate", ".zip", _zip, _unzip),
}
NOT_EMULATED = ("snappy", "lz4", "tar", "targzip")


def codec(name: str | None) -> Codec | None:
    """The codec a dataset names (case-insensitive), None when it names none."""
    if name in (None, "", "none", "None"):
        return None
    key = str(name).strip().lower()
    if key in CODECS:
        return CODECS[key]
    if key in NOT_EMULATED:
        raise CodecError(f"compression '{name}' is not supported by adfemu (supported: gzip, bzip2, deflate, "
                         "ZipDeflate)")
    raise CodecError(f"compression '{name}' is not a compression ADF knows (gzip, bzip2, deflate, ZipDeflate, "
                     "snappy, lz4, Tar, TarGzip)")


def level(name: str | None) -> int:
    if name in (None, ""):
        return LEVELS["optimal"]
    try:
        return LEVELS[str(name).strip().lower()]
    except KeyError:
        raise CodecError(f"compression level '{name}' is not Optimal or Fastest") from None


def decompress(chosen: Codec, data: bytes, where: str) -> list[tuple[str | None, bytes]]:
    try:
        return chosen.decompress(data)
    except CodecError:
        raise
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, ValueError) as exc:
        raise CodecError(f"{where} does not decompress as {chosen.name} ({type(exc).__name__})") from None
