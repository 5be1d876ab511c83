"""Project pages parsed once, across runs: the validated ``DistFile`` values of a page body are kept in
the cache's ``pages`` area in a compact JSON form, keyed by the sha256 of the body (with its URL, content
type and index), so a warm compile reads back what an earlier run parsed instead of parsing botocore's
2 MB page again. A changed body (the HTTP cache revalidated it and got new bytes) is a new key; an entry
that does not read back is parsed afresh and rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import Version

from envlock.index.cache import Cache
from envlock.index.pages import DistFile

_FORMAT = 1
AREA = "pages"


def page_key(url: str, content_type: str, index: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{_FORMAT}\0{url}\0{content_type}\0{index}\0".encode())
    digest.update(body)
    return digest.hexdigest() + ".json"


def parsed(
    cache: Cache,
    key: str,
    name: NormalizedName,
    index: str,
    parse: Callable[[], tuple[DistFile, ...]],
) -> tuple[DistFile, ...]:
    """The page's files: read back from the cache when an earlier run parsed the same body, else parsed
    (``parse`` validates; only its result is stored) and stored for the next run."""
    data = cache.read_entry(AREA, key)
    if data is not None:
        with suppress(ValueError, TypeError, KeyError, IndexError):
            return _decode(data, name, index)
    files = parse()
    with suppress(OSError):  # a read-only or full cache costs the next run a parse, never this one
        cache.write_entry(AREA, key, _encode(files))
    return files


def _encode(files: tuple[DistFile, ...]) -> bytes:
    rows = [
        [
            f.filename,
            f.url,
            str(f.version),
            f.is_wheel,
            sorted(f.tags),
            f.sha256,
            f.requires_python,
            f.yanked,
            None if f.metadata_hashes is None else dict(f.metadata_hashes),
            f.size,
            None if f.upload_time is None else f.upload_time.isoformat(),
        ]
        for f in files
    ]
    return json.dumps({"format": _FORMAT, "files": rows}, separators=(",", ":")).encode()


def _decode(data: bytes, name: NormalizedName, index: str) -> tuple[DistFile, ...]:
    document = json.loads(data)
    if document["format"] != _FORMAT:
        raise ValueError("another format")
    versions: dict[str, Version] = {}
    tag_sets: dict[tuple[str, ...], frozenset[str]] = {}
    files = []
    for row in document["files"]:
        filename, url, version, is_wheel, tags, sha256, requires_python, yanked, metadata, size, upload = row
        if version not in versions:
            versions[version] = Version(version)
        tags_key = tuple(tags)
        if tags_key not in tag_sets:
            tag_sets[tags_key] = frozenset(tags)
        files.append(
            DistFile(
                filename=_text(filename),
                url=_text(url),
                project=name,
                version=versions[version],
                is_wheel=bool(is_wheel),
                tags=tag_sets[tags_key],
                hashes={} if sha256 is None else {"sha256": _text(sha256)},
                requires_python=requires_python,
                yanked=yanked,
                metadata_hashes=metadata,
                size=size,
                upload_time=None if upload is None else datetime.fromisoformat(upload),
                index=index,
            )
        )
    return tuple(files)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value
