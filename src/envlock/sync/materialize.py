"""Materializes one unpacked wheel into a target, inside a ``Transaction``: its files linked or copied from
the store, what depends on the venv made for it (script launchers, ``#!python`` shebangs, INSTALLER,
``envlock.json``, ``direct_url.json``, a RECORD true for the venv), the dist-info renamed into place last."""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installer.scripts import Script

from envlock import validate
from envlock.env.site_packages import ENVLOCK_MARKER, INSTALLER_NAME
from envlock.errors import EnvlockError
from envlock.sources.model import VCS, Source
from envlock.sync.layout import InstallLayout
from envlock.sync.link import Materializer, write_all
from envlock.sync.models import SelectedPackage
from envlock.sync.transaction import Transaction
from envlock.sync.unpacked import UnpackedFile, record_hash
from envlock.sync.wheel_store import UnpackedWheel

_Row = tuple[str, str, str, "int | None"]
"""One RECORD row before its path is made relative: (scheme, path in the scheme, hash column, size)."""
_Target = tuple[UnpackedFile, str, bool]
"""A file of the wheel, where it is written, and whether that is the dist-info's staging folder."""


class InstallError(EnvlockError):
    """A wheel could not be installed (invalid wheel, file conflict, disk error); the venv was rolled back."""


def install_wheel(
    transaction: Transaction, package: SelectedPackage, wheel: UnpackedWheel, placer: Materializer
) -> None:
    """Put one unpacked wheel into the transaction's target; a failure is an InstallError naming it."""
    try:
        _materialize(transaction, package, wheel, placer)
    except (ValueError, KeyError, OSError) as error:
        detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InstallError(
            f"cannot install {package.name} {package.version} from {wheel.wheel}: {detail}"
        ) from None


@dataclass(frozen=True)
class _Destination:
    """Where one wheel's files go in the target."""

    scheme: Mapping[str, str]
    """Absolute scheme folders; ``headers`` already ends in the project's own folder."""
    staging: str
    """The folder the dist-info is written in before it is renamed into place."""
    dist_info: str
    """The dist-info's final path."""


def _materialize(
    transaction: Transaction, package: SelectedPackage, wheel: UnpackedWheel, placer: Materializer
) -> None:
    """Its whole file list is journaled in one write, files are linked or copied from the store
    (``#!python`` scripts rewritten, entry-point launchers generated for this venv), the dist-info is
    written to staging with INSTALLER, envlock.json, direct_url.json and a RECORD for the files as
    installed, and renamed into place last."""
    destination = _destination(transaction, wheel)
    launchers = _launchers(wheel, transaction.layout)
    targets = _announce(transaction, wheel, destination, launchers)
    rows = _write_files(transaction, placer, wheel, targets)
    rows += _write_launchers(transaction, placer, destination.scheme["scripts"], launchers)
    _move_dist_info_in(transaction, package, wheel, destination, rows)


def _destination(transaction: Transaction, wheel: UnpackedWheel) -> _Destination:
    scheme = {name: os.path.abspath(folder) for name, folder in transaction.layout.scheme.items()}  # noqa: PTH100
    scheme["headers"] = os.path.join(scheme["headers"], _header_name(wheel.wheel))  # noqa: PTH118
    return _Destination(
        scheme=scheme,
        staging=os.path.join(transaction.tmp_dir, uuid.uuid4().hex[:8]),  # noqa: PTH118
        dist_info=os.path.join(scheme[wheel.root_scheme], wheel.dist_info_dir),  # noqa: PTH118
    )


def _announce(
    transaction: Transaction,
    wheel: UnpackedWheel,
    destination: _Destination,
    launchers: Sequence[tuple[str, bytes]],
) -> list[_Target]:
    """Where each file of ``wheel`` is written (its dist-info's files: in staging), journaled in one
    write and flush for the whole wheel before any file lands."""
    dist_prefix = wheel.dist_info_dir + "/"
    targets: list[_Target] = []
    lines = [f"dist {destination.dist_info}"]
    for file in wheel.files:
        if file.scheme == wheel.root_scheme and file.path.startswith(dist_prefix):
            targets.append((file, _joined(destination.staging, file.path, wheel), True))
        else:
            target = _joined(destination.scheme[file.scheme], file.path, wheel)
            targets.append((file, target, False))
            lines.append(f"file {target}")
    lines += [f"file {_joined(destination.scheme['scripts'], name, wheel)}" for name, _data in launchers]
    transaction.journal_lines(lines)
    transaction.checkpoint("wheel-announced")
    return targets


def _write_files(
    transaction: Transaction, placer: Materializer, wheel: UnpackedWheel, targets: Sequence[_Target]
) -> list[_Row]:
    """Every file of the wheel at its target: linked or copied, or (a ``#!python`` script) written with
    this venv's interpreter in its first line."""
    layout = transaction.layout
    rows: list[_Row] = []
    made: set[str] = set()
    for file, target, staged in targets:
        parent = os.path.dirname(target)  # noqa: PTH120
        if parent not in made:
            _make_parent(parent, layout.root, wheel, file.path)
            made.add(parent)
        if file.shebang:
            with open(wheel.source(file), "rb") as handle:
                handle.readline()
                data = f"#!{layout.interpreter}\n".encode() + handle.read()
            _write_new(transaction, placer, target, data, executable=file.executable, staged=staged)
            rows.append((file.scheme, file.path, record_hash(data), len(data)))
        else:
            _place(transaction, placer, wheel.source(file), target, file.executable, staged)
            rows.append((file.scheme, file.path, file.hash, file.size))
        transaction.checkpoint("file-written")
    return rows


def _write_launchers(
    transaction: Transaction, placer: Materializer, scripts: str, launchers: Sequence[tuple[str, bytes]]
) -> list[_Row]:
    rows: list[_Row] = []
    if launchers:
        os.makedirs(scripts, exist_ok=True)  # noqa: PTH103
    for name, data in launchers:
        target = os.path.join(scripts, name)  # noqa: PTH118
        _write_new(transaction, placer, target, data, executable=True, staged=False)
        mode = os.stat(target).st_mode  # noqa: PTH116
        os.chmod(target, mode | (mode & 0o444) >> 2)  # noqa: PTH101 - as installer does
        rows.append(("scripts", name, record_hash(data), len(data)))
        transaction.checkpoint("file-written")
    return rows


def _move_dist_info_in(
    transaction: Transaction,
    package: SelectedPackage,
    wheel: UnpackedWheel,
    destination: _Destination,
    rows: Sequence[_Row],
) -> None:
    """The staged dist-info completed (INSTALLER, envlock.json, direct_url.json, RECORD) and renamed
    into place: a dist-info in site-packages means a complete install."""
    dist_prefix = wheel.dist_info_dir + "/"
    staged = os.path.join(destination.staging, wheel.dist_info_dir)  # noqa: PTH118
    os.makedirs(staged, exist_ok=True)  # noqa: PTH103
    record = list(rows)
    for name, data in sorted(_additional_metadata(package).items()):
        with open(os.path.join(staged, name), "wb") as handle:  # noqa: PTH118
            handle.write(data)
        record.append((wheel.root_scheme, dist_prefix + name, record_hash(data), len(data)))
    record.append((wheel.root_scheme, dist_prefix + "RECORD", "", None))
    with open(os.path.join(staged, "RECORD"), "wb") as handle:  # noqa: PTH118
        handle.write(_record_bytes(record, destination.scheme, wheel.root_scheme))
    final = Path(destination.dist_info)
    if final.exists():
        transaction.stash_path(final)
    transaction.checkpoint("dist-info-staged")
    os.rename(staged, destination.dist_info)  # noqa: PTH104
    transaction.note_written(destination.dist_info)
    transaction.checkpoint("dist-info-in")


def _joined(root: str, relative: str, wheel: UnpackedWheel) -> str:
    """Where a file of ``wheel`` goes: inside ``root`` (the store's manifest was checked on reading,
    ``wheel_store.load``; this is the backstop for the path itself)."""
    try:
        return validate.join(root, relative, "file")
    except validate.UnsafeInput as error:
        raise InstallError(f"{wheel.wheel}: {error}") from None


def _make_parent(parent: str, root: Path, wheel: UnpackedWheel, path: str) -> None:
    """Create ``parent`` unless a symbolic link on the way leads out of the venv."""
    try:
        validate.no_symlink_escape(parent, os.fspath(root), "folder")
        os.makedirs(parent, exist_ok=True)  # noqa: PTH103
    except validate.UnsafeInput as error:
        raise InstallError(f"{wheel.wheel}: {path}: {error}") from None
    except (FileExistsError, NotADirectoryError):
        raise InstallError(
            f"{wheel.wheel}: cannot create the folder for {path}: a file of that name is in the way"
        ) from None


def _place(
    transaction: Transaction, placer: Materializer, source: str, target: str, executable: bool, staged: bool
) -> None:
    """Link or copy ``source`` to ``target``; a file already there is cleared out of the way first
    (stashed, or deleted when this sync wrote it)."""
    try:
        placer.place(source, target, executable)
    except FileExistsError:
        if staged:
            raise
        transaction.clear_target(Path(target))
        placer.place(source, target, executable)
    if not staged:
        transaction.note_written(target)


def _write_new(
    transaction: Transaction,
    placer: Materializer,
    target: str,
    data: bytes,
    *,
    executable: bool,
    staged: bool,
) -> None:
    """Write ``data`` as a new file at ``target`` (venv-specific content: launchers, fixed shebangs)."""
    mode = placer.exec_mode if executable else placer.file_mode
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(target, flags, mode)
    except FileExistsError:
        if staged:
            raise
        transaction.clear_target(Path(target))
        fd = os.open(target, flags, mode)
    if not staged:
        transaction.note_written(target)
    try:
        if executable:
            os.chmod(target, mode)  # noqa: PTH101 - the umask may have taken execute bits off
        write_all(fd, data)
    finally:
        os.close(fd)


def _launchers(wheel: UnpackedWheel, layout: InstallLayout) -> list[tuple[str, bytes]]:
    """Console and GUI script launchers for this venv's interpreter (as ``installer`` makes them)."""
    return [
        Script(s.name, s.module, s.attr, s.section).generate(  # type: ignore[arg-type]
            layout.interpreter,
            layout.script_kind,  # type: ignore[arg-type]
        )
        for s in wheel.scripts
    ]


def _record_bytes(rows: Sequence[_Row], scheme: Mapping[str, str], root: str) -> bytes:
    """RECORD as ``installer`` writes it: sorted by path within its scheme, paths relative to the
    root scheme's folder (absolute on Windows for other schemes)."""

    def prefix(name: str) -> str:
        if name == root:
            return ""
        if os.name == "nt":  # pragma: no cover
            return os.path.abspath(scheme[name]) + "/"  # noqa: PTH100
        return os.path.relpath(scheme[name], start=scheme[root]) + "/"

    prefixes: dict[str, str] = {}
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=",", quotechar='"', lineterminator="\n")
    for name, path, digest, size in sorted(rows, key=lambda row: row[1]):
        if name not in prefixes:
            prefixes[name] = prefix(name)
        writer.writerow((prefixes[name] + path, digest, "" if size is None else str(size)))
    return out.getvalue().encode("utf-8")


def _header_name(wheel_filename: str) -> str:
    """The project name as pip derives it from a wheel file name (``foo_bar`` -> ``foo-bar``)."""
    return wheel_filename.split("-", 1)[0].replace("_", "-")


def direct_url(origin: Source) -> dict[str, Any]:
    """PEP 610 ``direct_url.json`` of a package built from a folder (``dir_info``, ``editable``) or a
    git commit (``vcs_info``; the URL without credentials)."""
    if origin.kind == VCS:
        info: dict[str, Any] = {"vcs": "git", "commit_id": origin.commit}
        if origin.revision:
            info["requested_revision"] = origin.revision
        data: dict[str, Any] = {"url": origin.public_url, "vcs_info": info}
        if origin.subdirectory:
            data["subdirectory"] = origin.subdirectory
        return data
    return {
        "url": (origin.path or Path()).as_uri(),
        "dir_info": {"editable": True} if origin.editable else {},
    }


def _additional_metadata(package: SelectedPackage) -> dict[str, bytes]:
    artifact = package.artifact
    marker = {"filename": artifact.filename, "sha256": artifact.sha256, "version": 1}
    files = {
        "INSTALLER": f"{INSTALLER_NAME}\n".encode(),
        ENVLOCK_MARKER: (json.dumps(marker, sort_keys=True) + "\n").encode(),
    }
    if artifact.origin is not None:
        files["direct_url.json"] = (json.dumps(direct_url(artifact.origin), sort_keys=True) + "\n").encode()
    elif package.direct:
        url = (
            validate.strip_credentials(artifact.url)
            if artifact.url
            else (artifact.path or Path()).absolute().as_uri()
        )
        direct = {
            "url": url,
            "archive_info": {"hash": f"sha256={artifact.sha256}", "hashes": {"sha256": artifact.sha256}},
        }
        files["direct_url.json"] = (json.dumps(direct, sort_keys=True) + "\n").encode()
    return files
