"""The network and archive limits (docs/safety.md): the deadline and size knobs read from the environment,
the capped read of a body into memory, and the caps on what one wheel or sdist unpacks to, so a hostile
server or archive cannot make envlock wait or hold data without bound.
"""

from __future__ import annotations

import os
from typing import Protocol

from envlock.errors import InputError, NetworkError
from envlock.validate import redact

MiB = 1 << 20
DEADLINE_ENV = "ENVLOCK_HTTP_DEADLINE"
HEADER_TIMEOUT_ENV = "ENVLOCK_HTTP_HEADER_TIMEOUT"
MIN_RATE_ENV = "ENVLOCK_HTTP_MIN_RATE"
MAX_PAGE_ENV = "ENVLOCK_MAX_PAGE_SIZE"
MAX_METADATA_ENV = "ENVLOCK_MAX_METADATA_SIZE"
MAX_DOWNLOAD_ENV = "ENVLOCK_MAX_DOWNLOAD_SIZE"
DEFAULT_DEADLINE = 300.0
DEFAULT_HEADER_TIMEOUT = 30.0
"""Seconds a response's headers may take after its request was sent (servers answer in well under one):
a server that trickles header bytes holds a request this long, not the whole ``DEFAULT_DEADLINE``."""
"""Seconds a request may take, connect to last byte (retries and redirects included)..."""
DEFAULT_MIN_RATE = 32 * 1024
"""...plus one second per this many body bytes received, so a big artifact on a slow but working link
(a 2 GiB wheel at 256 kbit/s or better) always finishes, while a server trickling bytes is cut off."""
DEFAULT_MAX_PAGE_SIZE = 128 * MiB
"""PyPI's largest simple pages are tens of MB."""
DEFAULT_MAX_METADATA_SIZE = 16 * MiB
"""Core metadata is a few KB; the biggest real METADATA files (long READMEs) stay far below this."""
DEFAULT_MAX_DOWNLOAD_SIZE = 8 * 1024 * MiB
"""An artifact whose size neither the lock nor the index gives; the largest wheels are a few GB."""
MAX_UNPACKED_BYTES = 16 << 30
"""Default cap on what one wheel unpacks to (``ENVLOCK_MAX_UNPACKED_BYTES``): the largest real wheels
(CUDA libraries) unpack to a few GiB."""
MAX_COMPRESSION_RATIO = 100
"""Default cap on unpacked size / wheel size (``ENVLOCK_MAX_COMPRESSION_RATIO``), applied above
``RATIO_FLOOR``: real wheels compress 2-10x; a zip bomb 1000x."""
DRAIN = 64 * 1024
"""Bytes read from an unwanted body to keep its connection; a longer body closes the connection (also
the chunk size of a capped read)."""


def env_seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment variable ``name``, else ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise InputError(f"{name}={raw!r} is not a positive number of seconds")
    return value


_UNITS = {"": 1, "k": 1 << 10, "kib": 1 << 10, "m": MiB, "mib": MiB, "g": 1 << 30, "gib": 1 << 30}


def env_size(name: str, default: int) -> int:
    """A positive byte count from the environment variable ``name`` (``4096``, ``64K``, ``16M``,
    ``2G``: binary units), else ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    number = raw.rstrip("KkMmGgIiBb")
    unit = raw[len(number) :].lower().removesuffix("b") if raw[len(number) :].lower() != "b" else ""
    try:
        value = int(number.strip()) * _UNITS[unit]
    except (ValueError, KeyError):
        value = 0
    if value <= 0:
        raise InputError(f"{name}={raw!r} is not a positive size (bytes, or with K, M or G)")
    return value


def max_metadata_size() -> int:
    """The cap on a PEP 658 metadata file (``ENVLOCK_MAX_METADATA_SIZE``)."""
    return env_size(MAX_METADATA_ENV, DEFAULT_MAX_METADATA_SIZE)


def max_download_size() -> int:
    """The cap on an artifact whose size is not known in advance (``ENVLOCK_MAX_DOWNLOAD_SIZE``)."""
    return env_size(MAX_DOWNLOAD_ENV, DEFAULT_MAX_DOWNLOAD_SIZE)


def human_size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


class Readable(Protocol):
    def read(self, amt: int | None = None) -> bytes: ...


def read_limited(response: Readable, limit: int, url: str, what: str, env: str | None = None) -> bytes:
    """The whole body of ``response``, refused (NetworkError naming the URL) as soon as it grows past
    ``limit`` bytes: a hostile server cannot make us hold more than that in memory."""
    headers = getattr(response, "headers", None)
    declared = headers.get("content-length") if headers is not None else None
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(url, what, limit, env)
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = response.read(min(DRAIN, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise _too_large(url, what, limit, env)
        chunks.append(chunk)


def _too_large(url: str, what: str, limit: int, env: str | None) -> NetworkError:
    return NetworkError(
        f"cannot fetch {redact(url)}: the {what} is larger than the {human_size(limit)} limit",
        hint=f"if this is expected, raise {env}" if env else None,
    )


def _env_whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return max(0, int(raw))
    except ValueError:
        raise InputError(f"{name}={raw!r} is not a whole number") from None


def max_unpacked_bytes() -> int:
    """The cap on what one wheel or sdist unpacks to (``ENVLOCK_MAX_UNPACKED_BYTES``)."""
    return _env_whole_number("ENVLOCK_MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES)


def max_compression_ratio() -> int:
    """The cap on a wheel's unpacked size over its size (``ENVLOCK_MAX_COMPRESSION_RATIO``; 0: none)."""
    return _env_whole_number("ENVLOCK_MAX_COMPRESSION_RATIO", MAX_COMPRESSION_RATIO)
