"""Orchestrates ``envlock sync``: lock -> target venv (create, patch or rebuild) -> selection -> plan ->
fetch (before the venv is touched) -> apply -> stamp. Side effects come in through ``SyncEdges``."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from envlock.errors import TargetEnvironmentError
from envlock.guard import stamp, stamp_writer
from envlock.sync import noop
from envlock.sync.models import SyncPlan, SyncResult

if TYPE_CHECKING:
    import subprocess

    from packaging.pylock import Pylock

    from envlock.env.interpreter import InterpreterInfo, Runner
    from envlock.index.cache import Cache
    from envlock.index.fetch import ArtifactClient, ProgressCallback
    from envlock.sync import executor as executor_types
    from envlock.sync.models import Selection
    from envlock.sync.wheel_store import UnpackedWheel


@dataclass(frozen=True)
class SyncOptions:
    """Everything ``envlock sync`` was asked to do."""

    lock_path: Path
    venv: Path
    python: str | None = None
    """``--python``: a version (``3.12``) or a path; None keeps the venv's (or uses envlock's own)."""
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None
    """None: the lock's ``default-groups``."""
    dry_run: bool = False
    rebuild: bool = False
    offline: bool = False
    only_binary: frozenset[str] = frozenset()
    compile_bytecode: bool = False
    cache_dir: Path | None = None
    system: bool = False
    """Allow a target that is not a venv (``--python`` or envlock's interpreter, installed in place)."""
    verify: bool = False
    """``--verify``: skip the stamp fast path and hash every installed file against its RECORD;
    reinstall every distribution with a file modified or missing."""
    link_mode: str | None = None
    """``--link-mode``: ``auto``, ``copy``, ``clone`` or ``hardlink``; None: ``ENVLOCK_LINK_MODE``,
    else ``auto``."""


@dataclass(frozen=True)
class SyncEdges:
    """The side effects a sync uses; tests pass fakes."""

    clock: Callable[[], float] = time.monotonic
    runner: Runner = field(default=lambda command: _run_subprocess(command))
    """Runs the probe and other subprocesses (default: ``interpreter.run_subprocess``)."""
    client_factory: Callable[[], ArtifactClient] | None = None
    """Makes the HTTP client, only when something must be downloaded (default: ``HttpClient``)."""
    progress: ProgressCallback | None = None
    default_python: str = field(default_factory=lambda: sys.executable)
    """The base interpreter of a new venv when ``--python`` is not given."""
    checkpoint: Callable[[str], None] = field(default=lambda _point: None)
    """Crash-test hook: called at named points of the sync (docs/safety.md lists them)."""
    notice: Callable[[str], None] | None = None
    """Told what the sync is waiting for (another sync's venv lock); the CLI prints it on stderr."""


def sync(options: SyncOptions, edges: SyncEdges = SyncEdges()) -> SyncResult:
    """Make the target exactly the lock (see docs/sync.md). Raises EnvlockError subclasses."""
    lock_bytes = _read_lock_bytes(options.lock_path)
    lock_sha = hashlib.sha256(lock_bytes).hexdigest()
    result = _sync(options, edges, lock_bytes, lock_sha)
    if result.up_to_date or result.dry_run or options.system:
        return result
    stale = _staleness(options.lock_path.absolute(), lock_sha)  # the verdict the stamp recorded (cached)
    note = (
        f"{options.lock_path.name} is older than its inputs ({stale}): run: envlock compile && envlock sync"
    )
    if stale and note not in result.notes:
        return replace(result, notes=(*result.notes, note))
    return result


@functools.lru_cache(maxsize=4)
def _staleness(lock_path: Path, lock_sha: str) -> str | None:
    """Why the lock is older than its inputs (its input fingerprint recomputed offline), or None when it is
    fresh or cannot be judged. Recorded in the stamp, so every later check and launcher refuses the venv
    until a compile and a sync: installing a stale lock must not make it look current. ``lock_sha`` keys
    the cache (one verdict per lock content per process)."""
    from envlock.inputs import freshness

    verdict = freshness.verdict(lock_path, os.environ)
    return (verdict.detail or "its inputs changed") if verdict.state == freshness.STALE else None


def _sync(options: SyncOptions, edges: SyncEdges, lock_bytes: bytes, lock_sha: str) -> SyncResult:
    from envlock.env import venvs

    started = edges.clock()
    edges = replace(edges, client_factory=_once(edges.client_factory or _http_client))
    venv = options.venv.absolute()

    if options.system:
        return _sync_system(options, edges, lock_bytes, lock_sha, started)
    venvs.check_target(venv, system=False)
    if not (options.dry_run or options.rebuild or options.python or options.verify) and noop.up_to_date(
        venv, lock_sha, lock_bytes, extras=options.extras, groups=options.groups, lock_path=options.lock_path
    ):
        python = str(venvs.venv_python(venv))
        return SyncResult(SyncPlan(()), venv, python, elapsed=edges.clock() - started, up_to_date=True)

    lock = _parse_lock(options.lock_path, lock_bytes, options, edges)
    config = _pyvenv_cfg(venv)
    existing = _probe_existing(venv, edges.runner)
    base: Path | None = None
    base_info: InterpreterInfo | None = None
    if options.python:
        from envlock.env.interpreter import probe

        base = venvs.find_python(options.python)
        base_info = probe(base, edges.runner)
    reason = _rebuild_reason(options, venv, existing, base_info)
    if reason is None and existing is not None:
        return _patch(options, edges, _Target(lock, lock_sha, existing, config), started)
    if base is None:
        from envlock.env.interpreter import probe

        base = _base_of(existing) if existing is not None else Path(edges.default_python)
        base_info = probe(base, edges.runner)
    assert base_info is not None
    return _build_new(options, edges, lock, lock_sha, base, base_info, reason, started)


# ---------------------------------------------------------------------------------------------------
# patch an existing venv


@dataclass(frozen=True)
class _Target:
    """The lock and the venv as probed before the venv lock was taken."""

    lock: Pylock
    lock_sha: str
    info: InterpreterInfo
    config: bytes | None
    """``pyvenv.cfg`` as it was when ``info`` was probed (another sync may rebuild the venv meanwhile)."""


def _patch(options: SyncOptions, edges: SyncEdges, target: _Target, started: float) -> SyncResult:
    from envlock.env import site_packages, venvs
    from envlock.env.interpreter import environment_for
    from envlock.sync import executor, planner

    venv = options.venv.absolute()
    info = target.info
    layout = executor.InstallLayout.for_interpreter(info, root=venv)
    selection = _select(target.lock, environment_for(info), options)
    if options.dry_run:
        interrupted = executor.needs_recovery(venv) or Path(stamp.marker_path(venv)).exists()
        verify: site_packages.Verify = True if interrupted or options.verify else "sizes"
        plan = planner.plan(selection, site_packages.scan(layout.site_dirs, verify=verify))
        return SyncResult(plan, venv, info.executable, dry_run=True, elapsed=edges.clock() - started)
    with executor.venv_lock(venv, on_wait=edges.notice):
        changed, notes = venvs.recover_rebuild(venv)
        if not changed and _pyvenv_cfg(venv) == target.config:
            plan, more = _patch_locked(options, edges, target, layout, selection)
            return SyncResult(
                plan, venv, info.executable, elapsed=edges.clock() - started, notes=(*notes, *more)
            )
    # The venv was swapped or rebuilt while this sync waited for its lock: decide again.
    result = sync(options, edges)
    return replace(result, notes=(*notes, *result.notes))


def _patch_locked(
    options: SyncOptions,
    edges: SyncEdges,
    target: _Target,
    layout: executor_types.InstallLayout,
    selection: Selection,
) -> tuple[SyncPlan, list[str]]:
    """Under the venv lock: recover what a killed sync left, plan against the venv as it is (every
    distribution verified against RECORD: hashes after an interruption, sizes otherwise), fetch,
    then mark, apply and stamp."""
    from envlock.env import site_packages
    from envlock.sync import executor, planner

    venv = options.venv.absolute()
    notes: list[str] = []
    interrupted = Path(stamp.marker_path(venv)).exists()
    if executor.needs_recovery(venv):
        if not interrupted:
            stamp_writer.begin_sync(venv)  # recovery changes the venv: the marker comes first, always
            interrupted = True
        notes += executor.recover_journal(venv).notes
    installed = site_packages.scan(
        layout.site_dirs, verify=True if interrupted or options.verify else "sizes"
    )
    plan = planner.plan(selection, installed)
    _refuse_unknown_files(plan, options)
    # Everything is downloaded, verified (and built) and unpacked before the venv is touched.
    artifacts = _fetch(plan, _cache(options), options, edges, target.info.executable, _markers(target.info))
    edges.checkpoint("fetched")
    stamp_writer.begin_sync(venv)
    edges.checkpoint("marker")
    executor.apply(plan, artifacts, layout, _execute_options(options, edges))
    edges.checkpoint("applied")
    _write_stamp(venv, options, target.lock, target.lock_sha, target.info.executable)
    edges.checkpoint("stamped")
    return plan, notes


def _execute_options(options: SyncOptions, edges: SyncEdges) -> executor_types.ExecuteOptions:
    from envlock.sync.executor import ExecuteOptions
    from envlock.sync.link import link_mode_from_env

    return ExecuteOptions(
        compile_bytecode=options.compile_bytecode,
        checkpoint=edges.checkpoint,
        store=_cache(options).area("unpacked"),
        link_mode=link_mode_from_env(options.link_mode),
    )


def _refuse_unknown_files(plan: SyncPlan, options: SyncOptions) -> None:
    """A distribution to remove or replace whose files are unknown (no RECORD) cannot be taken out
    exactly: refuse before anything is touched, naming it, rather than leave its files behind."""
    from envlock.env.site_packages import files_unknown

    unknown = [dist for dist in plan.to_uninstall() if files_unknown(dist)]
    if not unknown:
        return
    venv = options.venv.absolute()
    names = ", ".join(f"{d.name} {d.version} ({_relative(d.dist_info, venv)})" for d in unknown)
    raise TargetEnvironmentError(
        f"cannot sync {options.venv}: {names} has no RECORD (or installed-files.txt), so the files it "
        "installed are unknown and cannot be removed exactly; another tool left the venv torn",
        hint=f"rebuild the venv from the lock: envlock sync --rebuild{_venv_arg(options)}",
    )


def _relative(path: Path, start: Path) -> str:
    try:
        return path.relative_to(start).as_posix()
    except ValueError:
        return str(path)


def _venv_arg(options: SyncOptions) -> str:
    return "" if os.path.normpath(options.venv) == ".venv" else f" --venv {options.venv}"


def _pyvenv_cfg(venv: Path) -> bytes | None:
    try:
        return (venv / "pyvenv.cfg").read_bytes()
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------------
# create or rebuild


def _build_new(
    options: SyncOptions,
    edges: SyncEdges,
    lock: Pylock,
    lock_sha: str,
    base: Path,
    base_info: InterpreterInfo,
    reason: str | None,
    started: float,
) -> SyncResult:
    """A new venv beside the target, filled, then swapped in: a failure leaves the old one untouched."""
    from envlock.env import venvs
    from envlock.env.interpreter import environment_for
    from envlock.sync import executor, planner

    venv = options.venv.absolute()
    created = reason is None
    final_python = venvs.venv_python(venv)
    selection = _select(lock, environment_for(base_info), options)
    if options.dry_run:
        plan = planner.plan(selection, ())
        notes: tuple[str, ...] = (f"would rebuild: {reason}",) if reason else (f"would create {venv}",)
        return SyncResult(
            plan,
            venv,
            str(final_python),
            created=created,
            rebuilt=not created,
            dry_run=True,
            elapsed=edges.clock() - started,
            notes=notes,
        )
    plan = planner.plan(selection, ())
    artifacts = _fetch(plan, _cache(options), options, edges, str(base), _markers(base_info))
    edges.checkpoint("fetched")
    with executor.venv_lock(venv, on_wait=edges.notice):
        changed, recovered = venvs.recover_rebuild(venv)
        # Another sync created the venv, or a killed rebuild's swap was finished: decide again.
        raced = changed or (created and venvs.is_venv(venv))
        if not raced:
            _build_and_swap(options, edges, lock, lock_sha, base, plan, artifacts)
    if raced:
        result = sync(options, edges)
        return replace(result, notes=(*recovered, *result.notes))
    return SyncResult(
        plan,
        venv,
        str(final_python),
        created=created,
        rebuilt=not created,
        elapsed=edges.clock() - started,
        notes=(*recovered, *((f"rebuilt: {reason}",) if reason else ())),
    )


def _build_and_swap(
    options: SyncOptions,
    edges: SyncEdges,
    lock: Pylock,
    lock_sha: str,
    base: Path,
    plan: SyncPlan,
    artifacts: dict[str, UnpackedWheel],
) -> None:
    """Build and fill a venv beside the target, swap it in, delete the old one, stamp the new one."""
    from envlock.env import venvs
    from envlock.env.interpreter import probe
    from envlock.sync import executor

    venv = options.venv.absolute()
    final_python = venvs.venv_python(venv)
    staging = venvs.build_sibling(base, venv, edges.runner)
    try:
        edges.checkpoint("staging-created")
        info = probe(venvs.venv_python(staging), edges.runner)
        if not info.is_venv:  # pragma: no cover - python -m venv always makes one
            raise TargetEnvironmentError(f"{staging} did not become a virtual environment")
        layout = executor.InstallLayout.for_interpreter(info, root=staging, interpreter=str(final_python))
        stamp_writer.begin_sync(staging)
        executor.apply(plan, artifacts, layout, _execute_options(options, edges))
        # Hold the new venv's lock too, so a sync waiting on this path blocks until the stamp exists.
        with executor.venv_lock(staging, on_wait=edges.notice):
            aside = venvs.swap_in(staging, venv, edges.checkpoint)
            edges.checkpoint("swapped")
            # The old venv goes before the stamp: a stamped venv never has leftovers beside it.
            venvs.discard(aside)
            _write_stamp(venv, options, lock, lock_sha, str(final_python))
            edges.checkpoint("stamped")
    except BaseException:
        venvs.discard(staging if staging.exists() else None)
        raise


def _rebuild_reason(
    options: SyncOptions, venv: Path, existing: InterpreterInfo | None, wanted: InterpreterInfo | None
) -> str | None:
    """Why the existing venv must be rebuilt (None: patch it, or create it when there is none)."""
    from envlock.env import venvs

    if existing is None:
        if venvs.is_venv(venv):
            return "its interpreter is missing or broken"
        return None
    if options.rebuild:
        return "--rebuild"
    if wanted is not None and (
        wanted.version != existing.version
        or wanted.implementation != existing.implementation
        or os.path.realpath(wanted.base_prefix) != os.path.realpath(existing.base_prefix)
    ):
        return f"--python asks for Python {wanted.version_str}, the venv has {existing.version_str}"
    return None


def _probe_existing(venv: Path, runner: Runner) -> InterpreterInfo | None:
    from envlock.env import venvs
    from envlock.env.interpreter import probe

    if not venvs.is_venv(venv):
        return None
    try:
        return probe(venvs.venv_python(venv), runner)
    except TargetEnvironmentError:
        return None


def _base_of(info: InterpreterInfo) -> Path:
    """The interpreter a venv was made from (to rebuild it with the same one)."""
    cfg = stamp.read_pyvenv_cfg(info.prefix)
    home = cfg.get("home")
    name = Path(info.executable).name
    if home and (Path(home) / name).exists():
        return Path(home) / name
    return Path(sys.executable)


# ---------------------------------------------------------------------------------------------------
# --system


def _sync_system(
    options: SyncOptions, edges: SyncEdges, lock_bytes: bytes, lock_sha: str, started: float
) -> SyncResult:
    from envlock.env import site_packages, venvs
    from envlock.env.interpreter import environment_for, probe
    from envlock.sync import executor, planner

    python = venvs.find_python(options.python) if options.python else Path(edges.default_python)
    info = probe(python, edges.runner)
    lock = _parse_lock(options.lock_path, lock_bytes, options, edges)
    root = Path(info.prefix)
    layout = executor.InstallLayout.for_interpreter(info, root=root)
    selection = _select(lock, environment_for(info), options)
    if options.dry_run:
        plan = planner.plan(selection, site_packages.scan(layout.site_dirs))
        return SyncResult(plan, root, info.executable, dry_run=True, elapsed=edges.clock() - started)
    with executor.venv_lock(root, on_wait=edges.notice):
        interrupted = executor.needs_recovery(root)
        if interrupted:
            executor.recover(root)
        verify: site_packages.Verify = True if interrupted or options.verify else "sizes"
        plan = planner.plan(selection, site_packages.scan(layout.site_dirs, verify=verify))
        _refuse_unknown_files(plan, options)
        artifacts = _fetch(plan, _cache(options), options, edges, info.executable, _markers(info))
        executor.apply(plan, artifacts, layout, _execute_options(options, edges))
    return SyncResult(plan, root, info.executable, elapsed=edges.clock() - started)


# ---------------------------------------------------------------------------------------------------
# pieces


def _read_lock_bytes(path: Path) -> bytes:
    from envlock import validate
    from envlock.errors import LockFileError

    try:
        return validate.read_regular(path, validate.MAX_LOCK_BYTES)
    except FileNotFoundError:
        raise LockFileError(f"{path}: lock file not found", hint="run: envlock compile") from None
    except validate.UnsafeInput as error:
        raise LockFileError(f"{path}: {error}") from None
    except OSError as error:
        raise LockFileError(f"{path}: cannot read lock file: {error.strerror or error}") from None


def _parse_lock(path: Path, data: bytes, options: SyncOptions, edges: SyncEdges) -> Pylock:
    from envlock.errors import LockFileError
    from envlock.lock.lockfile import lock_from_dict

    if _is_requirements_file(path, data):
        return _requirements_lock(path, data, options, edges)
    from envlock.tomlshim import tomllib

    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise LockFileError(f"{path}: cannot read lock file: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise LockFileError(f"{path}: not valid TOML: {error}") from None
    return lock_from_dict(parsed, source=str(path))


def _requirements_lock(path: Path, data: bytes, options: SyncOptions, edges: SyncEdges) -> Pylock:
    """A hashed requirements file as a lock: its pins looked up on its index (or ENVLOCK_INDEX_URL)."""
    from envlock.errors import LockFileError
    from envlock.index.client import DEFAULT_INDEX, IndexClient, IndexSettings
    from envlock.lock import requirements_lock

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LockFileError(f"{path}: cannot read: {error}") from None
    parsed = requirements_lock.parse(path, text)
    primary = parsed.index_url or os.environ.get("ENVLOCK_INDEX_URL") or DEFAULT_INDEX
    assert edges.client_factory is not None
    http = edges.client_factory()
    client = IndexClient(
        http,  # type: ignore[arg-type]
        _cache(options),
        IndexSettings(
            indexes=tuple(dict.fromkeys((primary, *parsed.extra_index_urls))), find_links=parsed.find_links
        ),
    )
    return requirements_lock.to_pylock(
        path, parsed, lambda _parsed, name, version: client.files(name, version)
    )


def _once(factory: Callable[[], ArtifactClient]) -> Callable[[], ArtifactClient]:
    """The same client for the whole sync (index lookups and downloads share credentials and pool)."""
    made: list[ArtifactClient] = []

    def get() -> ArtifactClient:
        if not made:
            made.append(factory())
        return made[0]

    return get


def _is_requirements_file(path: Path, data: bytes) -> bool:
    if path.suffix == ".toml":
        return False
    if path.suffix in (".txt", ".in") or path.name.startswith("requirements"):
        return True
    return b"--hash" in data and b"lock-version" not in data


def _select(lock: Pylock, target: object, options: SyncOptions) -> Selection:
    from envlock.lock.selection import SelectionOptions, declared, select

    groups = declared(options.groups) if options.groups is not None else None
    return select(
        lock,
        target,  # type: ignore[arg-type]
        SelectionOptions(extras=declared(options.extras), groups=groups, only_binary=options.only_binary),
        lock_path=options.lock_path,
    )


def _cache(options: SyncOptions) -> Cache:
    from envlock.index.cache import Cache, default_cache_dir

    return Cache(options.cache_dir or default_cache_dir())


def _fetch(
    plan: SyncPlan,
    cache: Cache,
    options: SyncOptions,
    edges: SyncEdges,
    python: str,
    environment: Mapping[str, str],
) -> dict[str, UnpackedWheel]:
    """Every artifact the plan installs, verified in the cache and unpacked in its ``unpacked`` store
    (sha256 -> entry); sdists are built into wheels for ``python`` here too, so nothing can fail after
    the venv is touched but the writing itself."""
    from envlock.index import fetch
    from envlock.sync import wheel_claims
    from envlock.sync.executor import prepare_wheels
    from envlock.sync.link import link_mode_from_env
    from envlock.sync.models import ArtifactKind

    link_mode_from_env(options.link_mode)  # a bad ENVLOCK_LINK_MODE fails before anything is fetched
    wanted = plan.to_install()
    artifacts = [package.artifact for package in wanted]
    if not artifacts:
        return {}
    present = fetch.cached(artifacts, cache)
    missing = [a for a in artifacts if a.path is None and a.sha256 not in present]
    client: ArtifactClient | None = None
    if missing and not options.offline:
        client = (edges.client_factory or _http_client)()
    paths = fetch.fetch_all(
        artifacts, cache, client, fetch.FetchOptions(offline=options.offline), progress=edges.progress
    )
    for package in wanted:
        if package.artifact.kind is ArtifactKind.SDIST:
            paths[package.artifact.sha256] = _built_wheel(
                paths[package.artifact.sha256], package.artifact.sha256, cache, options, edges, python
            )
    unpacked = prepare_wheels(wanted, paths, cache.area("unpacked"))
    # The wheels' own METADATA must agree with the lock (and the index metadata it came from).
    selected = {item.wanted.name: item.wanted.version for item in plan.items if item.wanted is not None}
    wheel_claims.verify(wanted, unpacked, selected, environment)
    return unpacked


def _markers(info: InterpreterInfo) -> Mapping[str, str]:
    from envlock.env.interpreter import environment_for

    return environment_for(info).markers


def _built_wheel(
    sdist: Path, sha256: str, cache: Cache, options: SyncOptions, edges: SyncEdges, python: str
) -> Path:
    """The wheel built from a verified sdist for ``python`` (PEP 517, isolated), cached per sdist hash
    and interpreter version so a rebuild is not needed on the next sync."""
    import sysconfig

    from envlock.index.client import DEFAULT_INDEX, IndexClient, IndexSettings
    from envlock.resolve.builder import build_wheel, index_build_installer

    python_tag = _python_tag(python, edges)
    folder = cache.area("builds") / sha256 / f"{python_tag}-{sysconfig.get_platform()}"
    existing = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if existing:
        return existing[0]

    def install_requirements(requirements: Sequence[str], env_python: Path) -> None:
        if not requirements:
            return
        index = os.environ.get("ENVLOCK_INDEX_URL") or DEFAULT_INDEX
        http = (edges.client_factory or _http_client)()
        client = IndexClient(http, cache, IndexSettings(indexes=(index,)))  # type: ignore[arg-type]
        index_build_installer(client)(requirements, env_python)

    staging = cache.area("builds") / f".tmp-{os.getpid()}-{sha256[:12]}"
    wheel = build_wheel(sdist, staging, install_requirements=install_requirements, python=Path(python))
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / wheel.name
    wheel.replace(final)
    import shutil

    shutil.rmtree(staging, ignore_errors=True)
    return final


def _python_tag(python: str, edges: SyncEdges) -> str:
    # -I -S: asking a venv's Python its version must not run the venv's .pth files.
    result = edges.runner([python, "-I", "-S", "-c", "import sys; print('cp%d%d' % sys.version_info[:2])"])
    return result.stdout.strip() or "unknown"


def _run_subprocess(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """``interpreter.run_subprocess``, imported only when a subprocess runs (not on a no-op sync)."""
    from envlock.env.interpreter import run_subprocess

    return run_subprocess(command)


def _http_client() -> ArtifactClient:
    from envlock.index.http import HttpClient

    return HttpClient()


def _effective_groups(options: SyncOptions, lock: Pylock | None, lock_bytes: bytes) -> list[str]:
    """The dependency groups a sync installs: ``--group`` values, else the lock's ``default-groups``."""
    if options.groups is None and lock is not None:
        return noop.normalized(lock.default_groups or ())
    return noop.effective_groups(options.groups, lock_bytes)


def _write_stamp(venv: Path, options: SyncOptions, lock: Pylock, lock_sha: str, python: str) -> None:
    stamp_writer.write_stamp(
        venv,
        lock_path=options.lock_path.absolute(),
        lock_bytes_sha256=lock_sha,
        extras=noop.normalized(options.extras),
        groups=_effective_groups(options, lock, b""),
        python=python,
        stale=_staleness(options.lock_path.absolute(), lock_sha),
    )
