"""Materializes one unpacked wheel into a target, inside a ``Transaction``: its files linked or copied from
the store, what depends on the venv made for it (script launchers, ``#!python`` shebangs, INSTALLER,
``envlock.json``, ``direct_url.json``, a RECORD true for the venv), the dist-info renamed into place last."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from envlock import validate
from envlock.env.site_packages import ENVLOCK_MARKER, INSTALLER_NAME
from envlock.errors import EnvlockError
from envlock.models.artifacts import SelectedPackage
from envlock.models.source import VCS, Source
from envlock.sync import placement
from envlock.sync.layout import InstallLayout
from envlock.sync.link import Materializer, write_all
from envlock.sync.placement import Placement
from envlock.sync.transaction import Transaction
from envlock.sync.unpacked_model import UnpackedFile, record_hash
from envlock.sync.wheel_store import UnpackedWheel

_QUOTED = re.compile(r'[,"\r]')
"""What makes the csv module quote a RECORD path (a line break too: counted apart, paths are joined by it)."""
_Row = tuple[str, str, str, "int | None"]
"""One RECORD row before its path is made relative: (scheme, path in the scheme, hash column, size)."""


class InstallError(EnvlockError):
    """A wheel could not be installed (invalid wheel, file conflict, disk error); the venv was rolled back."""


def placements(
    transaction: Transaction, items: Sequence[tuple[SelectedPackage, UnpackedWheel]]
) -> list[Placement]:
    """Where each wheel of ``items`` (in name order) puts its files, a path two of them ship written by
    the last (``placement.claim``); an unsafe manifest name is an InstallError naming the wheel."""
    layout = transaction.layout
    scheme = {name: os.path.abspath(folder) for name, folder in layout.scheme.items()}  # noqa: PTH100
    root = os.path.abspath(layout.root)  # noqa: PTH100
    found = []
    for package, wheel in items:
        staged = f"{os.urandom(4).hex()}-{wheel.dist_info_dir}"  # the dist-info, before it moves in
        staging = os.path.join(transaction.tmp_dir, staged)  # noqa: PTH118
        try:
            found.append(placement.place(wheel, scheme, root, staging, launchers(wheel, layout)))
        except validate.UnsafeInput as error:
            raise InstallError(
                f"cannot install {package.name} {package.version} from {wheel.wheel}: {error}"
            ) from None
    return placement.claim(found)


def announce(transaction: Transaction, wheels: Sequence[Placement]) -> None:
    """Every wheel's dist-info and the paths it may write, journaled in one write before any folder or
    file is made (a killed sync's recovery deletes them and prunes the folders they leave empty)."""
    lines: list[str] = []
    for where in wheels:
        lines.append(f"dist {where.dist_info}")
        lines += [f"file {target}" for target in where.announced]
    transaction.journal_lines(lines)
    for _where in wheels:
        transaction.checkpoint("wheel-announced")


def install_wheel(
    transaction: Transaction,
    package: SelectedPackage,
    wheel: UnpackedWheel,
    placer: Materializer,
    where: Placement,
) -> None:
    """Put one unpacked wheel into the transaction's target (announced): its folders made, files linked
    or copied from the store (``#!python`` scripts rewritten, entry-point launchers generated for this
    venv), the dist-info written to staging with INSTALLER, envlock.json, direct_url.json and a RECORD
    for the files as installed, and renamed into place last. A failure is an InstallError naming it."""
    written: list[str] = []
    # Each wheel makes its folders in its own thread, overlapping the other wheels' links: the biggest
    # wheel's hundreds of mkdirs are ~1/5 of a big plan's, below a core's share on 2 cores and more.
    _make_folders(transaction, where)
    try:
        try:  # what was written is noted once per wheel (even when failing): no lock taken per file
            shebangs = _write_files(transaction, placer, wheel, where.files, written)
            for _name, data, target in where.launchers:
                _write_new(transaction, placer, target, data, executable=True, written=written)
                mode = os.stat(target).st_mode  # noqa: PTH116
                os.chmod(target, mode | (mode & 0o444) >> 2)  # noqa: PTH101 - as installer does
                transaction.checkpoint("file-written")
        finally:
            transaction.note_written_many(written)
        for folder in where.staged_folders:
            os.makedirs(folder, exist_ok=True)  # noqa: PTH103
        _write_files(transaction, placer, wheel, where.staged, None)
        _move_dist_info_in(transaction, package, wheel, where, _rows(wheel, shebangs, where))
    except (ValueError, KeyError, OSError) as error:
        detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InstallError(
            f"cannot install {package.name} {package.version} from {wheel.wheel}: {detail}"
        ) from None


def _rows(wheel: UnpackedWheel, shebangs: Mapping[str, bytes], where: Placement) -> list[_Row]:
    """RECORD rows of every file of the wheel (those another wheel wrote too) and of the launchers."""
    rows: list[_Row] = []
    for file in wheel.files:
        data = shebangs.get(file.path) if file.shebang else None
        if data is None:
            rows.append((file.scheme, file.path, file.hash, file.size))
        else:
            rows.append((file.scheme, file.path, record_hash(data), len(data)))
    rows += [("scripts", name, record_hash(data), len(data)) for name, data, _target in where.launchers]
    return rows


def _make_folders(transaction: Transaction, where: Placement) -> None:
    """Create the folders of ``where`` (parents first), noting those made. A folder made here is a real
    one; one already there (another wheel's, or the venv's) must be a folder, or a symbolic link to one
    that stays inside the venv."""
    root = os.fspath(transaction.layout.root)
    made: list[str] = []
    try:
        for folder in where.folders:
            try:
                os.mkdir(folder)  # noqa: PTH102
                made.append(folder)
            except FileExistsError:
                _existing_folder(folder, root, where.wheel)
            except OSError as error:
                detail = error.strerror or str(error)
                raise InstallError(f"{where.wheel}: cannot create {folder}: {detail}") from None
    finally:
        transaction.note_folders(made)


def _existing_folder(folder: str, root: str, wheel: str) -> None:
    """``folder`` is already there: a folder, or a symbolic link to one that stays inside the venv."""
    try:
        mode = os.lstat(folder).st_mode
    except OSError as error:  # gone again since mkdir saw it (another process in the venv)
        raise InstallError(f"{wheel}: cannot create {folder}: {error.strerror}") from None
    if stat.S_ISDIR(mode):
        return
    if stat.S_ISLNK(mode):
        try:
            validate.no_symlink_escape(folder, root, "folder")
        except validate.UnsafeInput as error:
            raise InstallError(f"{wheel}: {error}") from None
        if os.path.isdir(folder):  # noqa: PTH112
            return
    raise InstallError(f"{wheel}: cannot create the folder {folder}: a file of that name is in the way")


def _write_files(
    transaction: Transaction,
    placer: Materializer,
    wheel: UnpackedWheel,
    files: Sequence[tuple[UnpackedFile, str]],
    written: list[str] | None,
) -> dict[str, bytes]:
    """Every file of ``files`` at its target: linked or copied from the store, or (a ``#!python``
    script) written with this venv's interpreter in its first line (returned by path, for RECORD).
    ``written``: where the targets are noted (None: the dist-info's staging folder, removed whole on
    rollback)."""
    shebangs: dict[str, bytes] = {}
    prefixes = wheel.source_prefixes()
    checkpoint = transaction.checkpoint
    for file, target in files:
        source = prefixes[file.scheme] + file.path
        if file.shebang:
            with open(source, "rb") as handle:
                handle.readline()
                data = f"#!{transaction.layout.interpreter}\n".encode() + handle.read()
            _write_new(transaction, placer, target, data, executable=file.executable, written=written)
            shebangs[file.path] = data
        else:
            try:
                placer.place(source, target, file.executable)
            except FileExistsError:
                if written is None:
                    raise
                transaction.clear_target(Path(target))
                placer.place(source, target, file.executable)
            if written is not None:
                written.append(target)
        checkpoint("file-written")
    return shebangs


def _move_dist_info_in(
    transaction: Transaction,
    package: SelectedPackage,
    wheel: UnpackedWheel,
    where: Placement,
    rows: Sequence[_Row],
) -> None:
    """The staged dist-info completed (INSTALLER, envlock.json, direct_url.json, RECORD) and renamed
    into place: a dist-info in site-packages means a complete install."""
    dist_prefix = wheel.dist_info_dir + "/"
    staged = where.staging
    os.makedirs(staged, exist_ok=True)  # noqa: PTH103
    record = list(rows)
    for name, data in sorted(_additional_metadata(package).items()):
        with open(os.path.join(staged, name), "wb") as handle:  # noqa: PTH118
            handle.write(data)
        record.append((wheel.root_scheme, dist_prefix + name, record_hash(data), len(data)))
    record.append((wheel.root_scheme, dist_prefix + "RECORD", "", None))
    with open(os.path.join(staged, "RECORD"), "wb") as handle:  # noqa: PTH118
        handle.write(_record_bytes(record, where.scheme, wheel.root_scheme))
    final = Path(where.dist_info)
    if final.exists():
        transaction.stash_path(final)
    transaction.checkpoint("dist-info-staged")
    os.rename(staged, where.dist_info)  # noqa: PTH104
    transaction.note_written(where.dist_info)
    transaction.checkpoint("dist-info-in")


def _write_new(
    transaction: Transaction,
    placer: Materializer,
    target: str,
    data: bytes,
    *,
    executable: bool,
    written: list[str] | None,
) -> None:
    """Write ``data`` as a new file at ``target`` (venv-specific content: launchers, fixed shebangs)."""
    mode = placer.exec_mode if executable else placer.file_mode
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(target, flags, mode)
    except FileExistsError:
        if written is None:
            raise
        transaction.clear_target(Path(target))
        fd = os.open(target, flags, mode)
    if written is not None:
        written.append(target)
    try:
        if executable:
            os.chmod(target, mode)  # noqa: PTH101 - the umask may have taken execute bits off
        write_all(fd, data)
    finally:
        os.close(fd)


def launchers(wheel: UnpackedWheel, layout: InstallLayout) -> list[tuple[str, bytes]]:
    """Console and GUI script launchers for this venv's interpreter: on POSIX with a plain ``#!`` line
    written here, else as ``installer`` makes them (Windows launchers, the ``/bin/sh`` line for a long
    or spaced interpreter path)."""
    if not wheel.scripts:
        return []
    if layout.script_kind == "posix" and _plain_shebang(layout.interpreter):
        # importing installer.scripts loads the whole installer package (~25 ms) for a few lines of text
        return [(s.name, _posix_launcher(layout.interpreter, s.module, s.attr)) for s in wheel.scripts]
    from installer.scripts import Script  # lazy: only launchers that need its rules load installer

    return [
        Script(s.name, s.module, s.attr, s.section).generate(  # type: ignore[arg-type]
            layout.interpreter,
            layout.script_kind,  # type: ignore[arg-type]
        )
        for s in wheel.scripts
    ]


def _plain_shebang(interpreter: str) -> bool:
    """``#!<interpreter>`` works as it is: no space and within the kernel's 127-byte line."""
    raw = interpreter.encode()
    return b" " not in raw and b"\n" not in raw and len(raw) + 3 <= 127


def _posix_launcher(interpreter: str, module: str, attr: str) -> bytes:
    """The script that runs ``module:attr`` (an entry point, checked when the wheel was unpacked) with
    ``interpreter``, its exit status the function's result. ``sys.argv[0]`` loses a ``-script.pyw`` or
    ``.exe`` ending as installer's ``re.sub`` takes it off, without importing ``re`` at every start."""
    head = attr.split(".", 1)[0]
    return (
        f"#!{interpreter}\n# -*- coding: utf-8 -*-\nimport sys\nfrom {module} import {head}\n"
        'if __name__ == "__main__":\n'
        '    if sys.argv[0].endswith("-script.pyw"):\n'
        "        sys.argv[0] = sys.argv[0][:-11]\n"
        '    elif sys.argv[0].endswith(".exe"):\n'
        "        sys.argv[0] = sys.argv[0][:-4]\n"
        f"    sys.exit({attr}())\n"
    ).encode()


def _record_bytes(rows: Sequence[_Row], scheme: Mapping[str, str], root: str) -> bytes:
    """RECORD as ``installer`` writes it: sorted by path within its scheme, paths relative to the
    root scheme's folder (absolute on Windows for other schemes)."""

    def prefix(name: str) -> str:
        if name == root:
            return ""
        if os.name == "nt":  # pragma: no cover
            return os.path.abspath(scheme[name]) + "/"  # noqa: PTH100
        return os.path.relpath(scheme[name], start=scheme[root]) + "/"

    ordered = sorted(rows, key=lambda row: row[1])
    prefixes = {name: prefix(name) for name in {row[0] for row in ordered}}
    table = [
        (prefixes[name] + path, digest, "" if size is None else str(size))
        for name, path, digest, size in ordered
    ]
    text = "\n".join(shown for shown, _digest, _size in table)
    if text.count("\n") == len(table) - 1 and _QUOTED.search(text) is None:  # csv would quote no field
        return "".join(f"{shown},{digest},{size}\n" for shown, digest, size in table).encode("utf-8")
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=",", quotechar='"', lineterminator="\n").writerows(table)
    return out.getvalue().encode("utf-8")


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
