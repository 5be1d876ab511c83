"""Stdlib-only wheel and sdist builder; also copied verbatim into every kit sdist as its PEP 517 backend.

Everything here works on a *kit spec*: a JSON-able dict (see ``tests.kit.dists.DistSpec.to_kit_spec``)
with the keys ``name``, ``version``, ``requires``, ``extras``, ``requires_python``, ``tags``, ``files``
(path -> base64), ``console_scripts`` and ``data`` (scheme -> path -> base64). Output is byte-for-byte
deterministic. This module must keep running on every Python the tests use (3.7+), with no imports outside
the standard library, because inside an sdist it is the whole build backend.
"""

# Runs as a build backend on old Pythons (3.7+), stdlib-only: typing aliases, %-format and os.path stay.
# ruff: noqa: UP006, UP031, UP035, PTH103, PTH118, PTH120

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import zipfile
from typing import Any, Dict, List, Tuple

SPEC_FILE = "kit-spec.json"
"""Name of the spec file at the root of a kit sdist; the backend builds from it."""

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
TAR_MTIME = 315532800  # 1980-01-01T00:00:00Z
GENERATOR = "envlock-test-kit 1.0"

Spec = Dict[str, Any]
Entry = Tuple[str, bytes, int]  # (archive path, content, file mode)


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def escape_name(name: str) -> str:
    """Name component of wheel, sdist and .dist-info names (PEP 491 / PEP 625)."""
    return normalize(name).replace("-", "_")


def escape_version(version: str) -> str:
    return version.replace("-", "_")


def import_name(name: str) -> str:
    return escape_name(name)


def expand_tag(tag: str) -> List[str]:
    """``py2.py3-none-any`` -> ``["py2-none-any", "py3-none-any"]``."""
    interpreters, abis, platforms = tag.split("-")
    return [
        "-".join((i, a, p))
        for i in interpreters.split(".")
        for a in abis.split(".")
        for p in platforms.split(".")
    ]


def is_pure(tag: str) -> bool:
    return all(t.split("-")[2] == "any" for t in expand_tag(tag))


def _b(value: str) -> bytes:
    return base64.b64decode(value.encode("ascii"))


def dist_info_dir(spec: Spec) -> str:
    return "%s-%s.dist-info" % (escape_name(spec["name"]), escape_version(spec["version"]))


def data_dir(spec: Spec) -> str:
    return "%s-%s.data" % (escape_name(spec["name"]), escape_version(spec["version"]))


def wheel_filename(spec: Spec, tag: str) -> str:
    return "%s-%s-%s.whl" % (escape_name(spec["name"]), escape_version(spec["version"]), tag)


def sdist_filename(spec: Spec) -> str:
    return "%s-%s.tar.gz" % (escape_name(spec["name"]), escape_version(spec["version"]))


def metadata_text(spec: Spec) -> str:
    """Core metadata (METADATA / PKG-INFO), Metadata-Version 2.1."""
    lines = ["Metadata-Version: 2.1", "Name: %s" % spec["name"], "Version: %s" % spec["version"]]
    lines.append("Summary: %s, built by the envlock test kit" % spec["name"])
    if spec.get("requires_python"):
        lines.append("Requires-Python: %s" % spec["requires_python"])
    lines.extend("Provides-Extra: %s" % extra for extra in spec.get("extras", []))
    lines.extend("Requires-Dist: %s" % req for req in spec.get("requires", []))
    return "\n".join(lines) + "\n\n"


def wheel_text(tag: str) -> str:
    lines = [
        "Wheel-Version: 1.0",
        "Generator: %s" % GENERATOR,
        "Root-Is-Purelib: %s" % ("true" if is_pure(tag) else "false"),
    ]
    lines.extend("Tag: %s" % t for t in expand_tag(tag))
    return "\n".join(lines) + "\n"


def entry_points_text(spec: Spec) -> str:
    scripts = spec.get("console_scripts", {})
    if not scripts:
        return ""
    body = "".join("%s = %s\n" % (name, scripts[name]) for name in sorted(scripts))
    return "[console_scripts]\n" + body


def default_files(spec: Spec) -> Dict[str, bytes]:
    """``<import_name>/__init__.py`` with ``__version__`` and a ``main()`` that prints name and version."""
    source = '__version__ = "%s"\n\n\ndef main():\n    print("%s %s")\n' % (
        spec["version"],
        spec["name"],
        spec["version"],
    )
    return {"%s/__init__.py" % import_name(spec["name"]): source.encode("utf-8")}


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "sha256=" + digest


def dist_info_entries(spec: Spec, tag: str) -> List[Entry]:
    """The .dist-info files except RECORD."""
    info = dist_info_dir(spec)
    entries = [
        (info + "/METADATA", metadata_text(spec).encode("utf-8"), 0o644),
        (info + "/WHEEL", wheel_text(tag).encode("utf-8"), 0o644),
    ]
    entry_points = entry_points_text(spec)
    if entry_points:
        entries.append((info + "/entry_points.txt", entry_points.encode("utf-8"), 0o644))
    return sorted(entries)


def wheel_entries(spec: Spec, tag: str) -> List[Entry]:
    """Every file of the wheel in archive order, RECORD last."""
    files = {path: _b(content) for path, content in spec.get("files", {}).items()}
    if not files:
        files = default_files(spec)
    entries: List[Entry] = [(path, files[path], 0o644) for path in sorted(files)]
    data = spec.get("data", {})
    for scheme in sorted(data):
        mode = 0o755 if scheme == "scripts" else 0o644
        for path in sorted(data[scheme]):
            arcname = "%s/%s/%s" % (data_dir(spec), scheme, path)
            entries.append((arcname, _b(data[scheme][path]), mode))
    entries.extend(dist_info_entries(spec, tag))
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for arcname, content, _mode in entries:
        writer.writerow([arcname, _record_hash(content), str(len(content))])
    record_name = dist_info_dir(spec) + "/RECORD"
    writer.writerow([record_name, "", ""])
    entries.append((record_name, record.getvalue().encode("utf-8"), 0o644))
    return entries


def wheel_bytes(spec: Spec, tag: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for arcname, content, mode in wheel_entries(spec, tag):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_DATE)
            info.create_system = 3
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def pyproject_text() -> str:
    return '[build-system]\nrequires = []\nbuild-backend = "kit_backend"\nbackend-path = ["_kit_backend"]\n'


def sdist_bytes(spec: Spec, backend_source: bytes) -> bytes:
    """A PEP 625 sdist whose in-tree backend (``backend_source``) rebuilds the same wheel offline."""
    base = sdist_filename(spec)[: -len(".tar.gz")]
    members = [
        ("PKG-INFO", metadata_text(spec).encode("utf-8")),
        ("_kit_backend/kit_backend.py", backend_source),
        (SPEC_FILE, (json.dumps(spec, indent=1, sort_keys=True) + "\n").encode("utf-8")),
        ("pyproject.toml", pyproject_text().encode("utf-8")),
    ]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for directory in (base, base + "/_kit_backend"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = TAR_MTIME
            archive.addfile(info)
        for name, content in sorted(members):
            info = tarfile.TarInfo(base + "/" + name)
            info.size = len(content)
            info.mode = 0o644
            info.mtime = TAR_MTIME
            archive.addfile(info, io.BytesIO(content))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as gz:
        gz.write(raw.getvalue())
    return compressed.getvalue()


# --- PEP 517 hooks: active when this file is the in-tree backend of a kit sdist (cwd = unpacked sdist) ---


def _load_spec() -> Spec:
    with open(SPEC_FILE, encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def _backend_tag(spec: Spec) -> str:
    tags = spec.get("tags") or ["py3-none-any"]
    return str(tags[0])


def get_requires_for_build_wheel(config_settings: Any = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Any = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Any = None) -> str:
    spec = _load_spec()
    info = dist_info_dir(spec)
    for arcname, content, _mode in dist_info_entries(spec, _backend_tag(spec)):
        target = os.path.join(metadata_directory, *arcname.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(content)
    return info


def build_wheel(wheel_directory: str, config_settings: Any = None, metadata_directory: Any = None) -> str:
    spec = _load_spec()
    tag = _backend_tag(spec)
    filename = wheel_filename(spec, tag)
    with open(os.path.join(wheel_directory, filename), "wb") as handle:
        handle.write(wheel_bytes(spec, tag))
    return filename


def build_sdist(sdist_directory: str, config_settings: Any = None) -> str:
    spec = _load_spec()
    with open(__file__, "rb") as handle:
        source = handle.read()
    filename = sdist_filename(spec)
    with open(os.path.join(sdist_directory, filename), "wb") as handle:
        handle.write(sdist_bytes(spec, source))
    return filename
