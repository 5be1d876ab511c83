"""Malicious artifacts for the hostile-input tests: wheels whose every byte the test chooses (names,
RECORD, entry points), unlike the well-formed ones of ``dists.py``; locks of them, and the check that a
command refused cleanly."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

    from tests.kit.index import KitIndex


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")


def raw_wheel(
    out_dir: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes] | Sequence[tuple[str, bytes]] = (),
    *,
    filename: str | None = None,
    metadata_name: str | None = None,
    requires: Sequence[str] = (),
    entry_points: str | None = None,
    record: Mapping[str, str] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """A wheel of ``name`` ``version`` holding ``files`` (paths as given, even hostile ones, and in
    order: a sequence may repeat a path) plus a dist-info. ``record`` overrides RECORD rows
    (path -> ``hash,size``); ``metadata_name`` puts another project's name in METADATA."""
    dist = f"{name.replace('-', '_')}-{version}"
    dist_info = f"{dist}.dist-info"
    members = list(files.items()) if isinstance(files, Mapping) else list(files)
    if not members:
        members = [(f"{name.replace('-', '_')}/__init__.py", b"def main():\n    print('hi')\n")]
    metadata = f"Metadata-Version: 2.1\nName: {metadata_name or name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    members.append((f"{dist_info}/METADATA", metadata.encode()))
    members.append(
        (
            f"{dist_info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: kit\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
    )
    if entry_points is not None:
        members.append((f"{dist_info}/entry_points.txt", entry_points.encode()))
    rows = [f"{path},{record_hash(data)},{len(data)}" for path, data in members]
    for path, row in (record or {}).items():
        rows = [r for r in rows if not r.startswith(path + ",")] + [f"{path},{row}"]
    rows.append(f"{dist_info}/RECORD,,")
    members.append((f"{dist_info}/RECORD", ("\n".join(rows) + "\n").encode()))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (filename or f"{dist}-py3-none-any.whl")
    with zipfile.ZipFile(target, "w", compression) as archive:
        for path, data in members:
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return target


def lock_wheels(index: KitIndex, *wheels: tuple[str, Path], path: str = "pylock.toml") -> str:
    """Serve each (name, wheel) on ``index`` and lock it as ``name`` 1.0; the lock's path."""
    from tests.kit.sync_locks import file_entry, write_lock_dict

    packages = []
    for name, wheel in wheels:
        index.add_file(wheel)
        packages.append({"name": name, "version": "1.0", "wheels": [file_entry(index, wheel)]})
    write_lock_dict(Path(path), {"lock-version": "1.0", "created-by": "t", "packages": packages})
    return path


def refused_cleanly(result: subprocess.CompletedProcess[str], *needles: str, code: int | None = None) -> None:
    """Exit non-zero (``code`` when given), one ``error:`` line naming every needle, at most a ``hint:``
    after it, no traceback (progress lines before it are the command's own)."""
    assert result.returncode != 0, result.stderr
    if code is not None:
        assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [number for number, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert [line.split(":")[0] for line in lines[errors[0] + 1 :]] in ([], ["hint"]), result.stderr
    for needle in needles:
        assert needle in lines[errors[0]], result.stderr
