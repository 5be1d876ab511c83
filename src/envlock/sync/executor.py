"""Applies a SyncPlan to a target as one transaction: every wheel unpacked in the store first, then
uninstall by RECORD into a stash, materialize the wheels (in parallel), compile bytecode if asked, and
commit (drop the stash) or roll back (delete what was written, restore the stash). The running sync never
invokes pip; wheels are unpacked with the ``installer`` library's rules (docs/safety.md)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from envlock.models.artifacts import ArtifactKind, SelectedPackage
from envlock.runtime import sha256_file
from envlock.sync.layout import InstallLayout
from envlock.sync.link import LinkMode, Materializer
from envlock.sync.materialize import InstallError, announce, install_wheel, placements
from envlock.sync.plan import SyncPlan
from envlock.sync.transaction import Checkpoint, Transaction, no_checkpoint
from envlock.sync.unpacked_model import UnpackError
from envlock.sync.wheel_store import UnpackedWheel, prepare, ready


@dataclass(frozen=True)
class ExecuteOptions:
    """How to apply a plan."""

    compile_bytecode: bool = False
    """Compile ``.pyc`` for installed modules with the target interpreter (off: Python does it lazily)."""
    max_workers: int = 8
    """Wheels installed at once (different distributions write different files; file creation is
    I/O-bound and releases the GIL, so threads pay off even on few cores)."""
    checkpoint: Checkpoint = no_checkpoint
    """Crash-test hook, called at named points of the transaction."""
    store: Path | None = None
    """The unpacked-wheel store (the cache's ``unpacked`` area); None: a temporary one for this call."""
    link_mode: LinkMode = LinkMode.AUTO
    """How files get from the store into the venv (docs/sync.md, "Link modes")."""


def apply(
    plan: SyncPlan,
    artifacts: Mapping[str, Path | UnpackedWheel],
    layout: InstallLayout,
    options: ExecuteOptions = ExecuteOptions(),
) -> None:
    """Carry out ``plan`` with the verified wheels in ``artifacts`` (sha256 -> wheel path, or its
    entry in the unpacked store from ``prepare_wheels``). All or nothing: wheels are unpacked before
    the venv is touched, and on any later failure (including KeyboardInterrupt) the venv is rolled
    back and the error re-raised."""
    if plan.is_empty:
        return
    packages = plan.to_install()
    with contextlib.ExitStack() as stack:
        store = options.store
        if store is None and any(
            not isinstance(artifacts[p.artifact.sha256], UnpackedWheel) for p in packages
        ):
            store = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="envlock-unpacked-")))
        prepared = prepare_wheels(packages, artifacts, store or Path())
        _apply_prepared(plan, prepared, layout, options)


def _apply_prepared(
    plan: SyncPlan, prepared: Mapping[str, UnpackedWheel], layout: InstallLayout, options: ExecuteOptions
) -> None:
    transaction = Transaction(layout, checkpoint=options.checkpoint)
    placer = Materializer(options.link_mode)
    try:
        for dist in plan.to_uninstall():
            transaction.uninstall(dist.dist_info)
        _install(transaction, plan, prepared, placer, options.max_workers)
        options.checkpoint("installed")
        if options.compile_bytecode:
            compile_bytecode(layout, transaction.written_python_files())
    except BaseException:
        transaction.rollback()
        raise
    transaction.commit()
    options.checkpoint("committed")


def _install(
    transaction: Transaction,
    plan: SyncPlan,
    prepared: Mapping[str, UnpackedWheel],
    placer: Materializer,
    max_workers: int,
) -> None:
    """Every wheel of the plan placed (``placement``) and announced in the journal, then installed (its
    folders made, its files written), the wheels in parallel (the biggest first, so the threads finish
    together)."""
    items = [(p, prepared[p.artifact.sha256]) for p in sorted(plan.to_install(), key=lambda p: p.name)]
    wheels = placements(transaction, items)
    announce(transaction, wheels)
    jobs = sorted(zip(items, wheels, strict=True), key=lambda job: -len(job[0][1].files))
    workers = max(1, min(max_workers, len(jobs)))
    if workers == 1:
        for (package, wheel), where in jobs:
            install_wheel(transaction, package, wheel, placer, where)
        return
    from concurrent.futures import ThreadPoolExecutor  # lazy: a one-wheel patch needs no threads (logging)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(install_wheel, transaction, package, wheel, placer, where)
            for (package, wheel), where in jobs
        ]
        for future in futures:
            future.result()


BYTECODE_BATCH = 200
"""Files per compiling process at least: below that, another interpreter start costs more than it saves."""


def compile_bytecode(layout: InstallLayout, files: Sequence[Path]) -> None:
    """Compile ``files`` with the target interpreter (its own magic number), quietly, one process per
    core. ``compileall -j`` parallelises folders only, never a list of files, so the list is split here."""
    if not files:
        return
    python = layout.interpreter if Path(layout.interpreter).exists() else _python_in(layout)
    workers = max(1, min(os.cpu_count() or 1, len(files) // BYTECODE_BATCH))
    batches = [files[index::workers] for index in range(workers)]
    processes = [
        subprocess.Popen(
            [python, "-m", "compileall", "-q", "-i", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in batches
    ]
    try:
        for process, batch in zip(processes, batches, strict=True):
            assert process.stdin is not None
            process.stdin.write("\n".join(str(f) for f in batch))
            process.stdin.close()
    finally:
        for process in processes:
            process.wait()


def _python_in(layout: InstallLayout) -> str:
    scripts = Path(layout.scheme["scripts"])
    for name in ("python", "python3", "python.exe"):
        if (scripts / name).exists():
            return str(scripts / name)
    return layout.interpreter


def prepare_wheels(
    packages: Sequence[SelectedPackage],
    artifacts: Mapping[str, Path | UnpackedWheel],
    store: Path,
    fresh: frozenset[str] = frozenset(),
    checkpoint: Checkpoint = no_checkpoint,
) -> dict[str, UnpackedWheel]:
    """Every wheel of ``packages`` unpacked in ``store`` (sha256 of the locked artifact -> entry),
    unpacking the missing ones (and those in ``fresh``, always) in parallel. Touches no venv: an invalid
    wheel fails here, before any change. Entries already given in ``artifacts`` are used as they are."""

    def one(package: SelectedPackage) -> tuple[str, UnpackedWheel]:
        given = artifacts[package.artifact.sha256]
        if isinstance(given, UnpackedWheel):
            return package.artifact.sha256, given
        # A wheel built from an sdist is stored under its own hash (it depends on the Python too).
        key = package.artifact.sha256 if package.artifact.kind is ArtifactKind.WHEEL else sha256_file(given)
        try:
            renew = package.artifact.sha256 in fresh
            entry = prepare(given, key, store, fresh=renew, checkpoint=checkpoint)
        except (UnpackError, ValueError, KeyError, OSError) as error:  # unpack wraps the rest (zipfile's)
            detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise InstallError(
                f"cannot install {package.name} {package.version} from {given.name}: {detail}"
            ) from None
        return package.artifact.sha256, entry

    unique = list({p.artifact.sha256: p for p in packages}.values())
    found: dict[str, UnpackedWheel] = {}
    for package in unique:  # entries already in the store: a JSON read and a stat per file, no thread
        sha256 = package.artifact.sha256  # (threads only add lock hand-offs to Python-bound work)
        stored = package.artifact.kind is ArtifactKind.WHEEL and sha256 not in fresh
        if stored and isinstance(artifacts[sha256], Path) and (entry := ready(store, sha256)) is not None:
            found[sha256] = entry
    missing = [p for p in unique if p.artifact.sha256 not in found]
    if len(missing) <= 1:
        return found | dict(one(p) for p in missing)
    from concurrent.futures import ThreadPoolExecutor  # lazy: store hits and a single unpack need no threads

    with ThreadPoolExecutor(max_workers=min(8, len(missing))) as pool:
        return found | dict(pool.map(one, missing))
