"""Projects with thousands of releases for the kit index, published cheaply: each release is a real,
minimal wheel (METADATA, WHEEL, RECORD) written with ``zipfile`` directly, its metadata handed to the
index so no archive is reopened. ``DistSpec`` builds take milliseconds each; these take tens of µs."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime

from tests.kit.dists import normalize
from tests.kit.index import KitIndex

TAGS = ("py3-none-any", "cp311-cp311-manylinux_2_17_x86_64")
"""Two wheels per release: one the target can use, one of another kind (a page of many files)."""


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def metadata_of(name: str, version: str, requires: Sequence[str], requires_python: str | None) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines.extend(f"Requires-Dist: {r}" for r in requires)
    return ("\n".join(lines) + "\n").encode()


def mini_wheel(name: str, version: str, tag: str, metadata: bytes) -> tuple[str, bytes]:
    """A wheel's file name and bytes: an importable empty package, METADATA, WHEEL and RECORD."""
    stem = f"{normalize(name).replace('-', '_')}-{version}"
    info = f"{stem}.dist-info"
    wheel = f"Wheel-Version: 1.0\nGenerator: envlock-test-kit\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    members = {f"{normalize(name).replace('-', '_')}/__init__.py": b"", f"{info}/METADATA": metadata}
    members[f"{info}/WHEEL"] = wheel
    record = [_record_line(path, data) for path, data in members.items()] + [f"{info}/RECORD,,"]
    members[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path, data in members.items():
            archive.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
    return f"{stem}-{tag}.whl", buffer.getvalue()


def publish_big(
    index: KitIndex,
    name: str,
    versions: Sequence[str],
    *,
    requires: Callable[[str], Sequence[str]] = lambda version: (),
    requires_python: Callable[[str], str | None] = lambda version: None,
    upload_time: Callable[[str], datetime | None] = lambda version: None,
    tags: Sequence[str] = TAGS,
) -> int:
    """Publish one wheel per tag for every version; returns how many files were published."""
    count = 0
    for version in versions:
        python = requires_python(version)
        metadata = metadata_of(name, version, requires(version), python)
        for tag in tags:
            filename, data = mini_wheel(name, version, tag, metadata)
            index.add_bytes(
                filename, data, metadata, requires_python=python, upload_time=upload_time(version)
            )
            count += 1
    return count
