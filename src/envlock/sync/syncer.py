"""Orchestrates ``envlock sync`` as one pipeline: lock -> target -> selection -> plan -> fetch (before the
venv is touched) -> apply -> stamp. A patch, a create, a rebuild and ``--system`` differ only in their
``Target``; side effects come in through ``SyncEdges``."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from envlock import runtime
from envlock.env import probe_cache, site_packages, venvs
from envlock.env.interpreter import InterpreterInfo, Runner, probe, run_subprocess
from envlock.errors import LockBusyError, TargetEnvironmentError
from envlock.guard import stamp_writer
from envlock.index.cache import Cache, default_cache_dir
from envlock.memo import Memo
from envlock.models.artifacts import InstalledDist, Selection
from envlock.sync import executor, noop, planner, selection_cache, stamp_facts
from envlock.sync.layout import InstallLayout
from envlock.sync.link import link_mode_from_env
from envlock.sync.lock_input import is_requirements_file, parse_lock, read_lock_bytes, recorded_indexes
from envlock.sync.overwrites import refuse_overwrites
from envlock.sync.plan import SyncEvent, SyncPlan, SyncResult
from envlock.sync.prepare import Preparer
from envlock.sync.recovery import needs_recovery, recover
from envlock.sync.selection_cache import LockRead, SelectionAsked
from envlock.sync.summary import extras_note, stale_note
from envlock.sync.target import Kind, Prober, Target, system_target, venv_target
from envlock.sync.venv_lock import venv_lock
from envlock.sync.wheel_store import UnpackedWheel

if TYPE_CHECKING:  # the HTTP code is loaded only when something must be downloaded
    from packaging.pylock import Pylock

    from envlock.index.fetch import ArtifactClient, ProgressCallback

_T = TypeVar("_T")

MAX_DECISIONS = 8
"""How often a sync decides its target again after other whole syncs changed the venv; then an error."""


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
    find_links: tuple[Path, ...] = ()
    """``--find-links``: folders of artifacts (``envlock bundle``'s) looked in before any download."""
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
    runner: Runner = run_subprocess
    """Runs the probe and other subprocesses."""
    client_factory: Callable[[], ArtifactClient] | None = None
    """Makes the HTTP client, only when something must be downloaded (default: ``HttpClient``)."""
    progress: ProgressCallback | None = None
    default_python: str = field(default_factory=lambda: sys.executable)
    """The base interpreter of a new venv when ``--python`` is not given."""
    checkpoint: Callable[[str], None] = field(default=lambda _point: None)
    """Crash-test hook: called at named points of the sync (docs/safety.md lists them)."""
    notice: Callable[[str], None] | None = None
    """Told what the sync is waiting for (another sync's venv lock); the CLI prints it on stderr."""
    report: Callable[[SyncEvent], None] | None = None
    """Told of the sync's phases (downloads with their totals, each build and its time, the install);
    the CLI prints them on stderr."""
    backend_output: bool = False
    """Show the warnings build backends raise (``-v``); a failed build's output is in its error."""


def sync(options: SyncOptions, edges: SyncEdges = SyncEdges()) -> SyncResult:
    """Make the target exactly the lock (see docs/sync.md). Raises EnvlockError subclasses."""
    lock_bytes = read_lock_bytes(options.lock_path)
    lock_sha = hashlib.sha256(lock_bytes).hexdigest()
    return _sync(options, edges, lock_bytes, lock_sha)


@dataclass(frozen=True)
class _Raced:
    """Another sync changed the venv while this one waited for its lock: decide again."""

    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Sync:
    """One sync: what was asked, its edges and the lock it read."""

    options: SyncOptions
    edges: SyncEdges
    lock_bytes: bytes
    lock_sha: str
    http: Callable[[], ArtifactClient]
    """The HTTP client, made on first use; the same for the whole sync (index lookups and downloads
    share credentials and pool)."""
    lock: Callable[[], Pylock]
    """The lock parsed and validated, on first use: a lock read in full before (``selection_cache``)
    may never need it."""

    @cached_property
    def cache(self) -> Cache:
        return Cache(self.options.cache_dir or default_cache_dir())

    @cached_property
    def remembered(self) -> tuple[Memo, str] | None:
        """Where reads of this lock are remembered (area, lock key); None for ``--verify`` (which trusts
        nothing remembered) and a hashed requirements file (read from its index)."""
        if self.options.verify or is_requirements_file(self.options.lock_path, self.lock_bytes):
            return None
        return self.cache.memo(selection_cache.AREA), selection_cache.lock_key(self.lock_sha)

    def prober(self) -> Prober:
        """Probes interpreters through the probe cache; ``--verify`` trusts nothing remembered."""
        memo = None if self.options.verify else self.cache.memo(probe_cache.AREA)
        return functools.partial(probe_cache.cached_probe, runner=self.edges.runner, memo=memo)


def _sync(options: SyncOptions, edges: SyncEdges, lock_bytes: bytes, lock_sha: str) -> SyncResult:
    """Decide the target and run the pipeline; when another sync changed the venv meanwhile, again."""
    started = edges.clock()
    http = _once(edges.client_factory or functools.partial(http_client, options.lock_path))
    cache = Cache(options.cache_dir or default_cache_dir())
    lock = _once(lambda: parse_lock(options.lock_path, lock_bytes, cache, http))
    run = _Sync(options, edges, lock_bytes, lock_sha, http, lock)
    lost: list[str] = []
    for _ in range(MAX_DECISIONS):
        decided = _decide(run)
        if decided is None:
            venv = options.venv.absolute()
            python = runtime.venv_python(venv)
            return SyncResult(
                SyncPlan(()),
                venv,
                python,
                elapsed=edges.clock() - started,
                up_to_date=True,
                notes=tuple(lost),
            )
        target = decided
        outcome = _run(run, target)
        if isinstance(outcome, _Raced):
            lost += outcome.notes
            continue
        plan, notes = outcome
        already_the_lock = not (plan.changes or options.dry_run or target.kind in (Kind.CREATE, Kind.REBUILD))
        return SyncResult(
            SyncPlan(()) if already_the_lock else plan,
            target.root,
            target.python,
            created=target.kind is Kind.CREATE,
            rebuilt=target.kind is Kind.REBUILD,
            dry_run=options.dry_run,
            elapsed=edges.clock() - started,
            up_to_date=already_the_lock,  # the stamp's no-op answer, whichever path found it
            notes=(*lost, *notes),
        )
    raise LockBusyError(
        f"{options.venv} kept changing while this sync waited for it ({MAX_DECISIONS} other syncs "
        "changed it first)",
        hint="let the other syncs finish, then run it again",
    )


def http_client(lock_path: Path) -> ArtifactClient:
    """The HTTP client of a sync of ``lock_path``: logins for the lock's URLs looked up through the
    project's named indexes, netrc and keyring (``index.credentials``), since the lock carries none."""
    # lazy: a patch whose wheels are all in the cache loads no HTTP code (urllib3 and ssl)
    from envlock.index.http import HttpClient, HttpSettings
    from envlock.inputs.envlock_table import project_index_table

    client = HttpClient(HttpSettings(lookup=project_index_table(lock_path).credential_lookup()))
    named = os.environ.get("ENVLOCK_INDEX_URL")
    if named:  # its userinfo is the URL's own login for its host (the lock has the URL without it)
        client.add_credentials_from(named)
    return client


def _once(factory: Callable[[], _T]) -> Callable[[], _T]:
    """``factory``'s value, made on the first call only."""
    made: list[_T] = []

    def get() -> _T:
        if not made:
            made.append(factory())
        return made[0]

    return get


def _decide(run: _Sync) -> Target | None:
    """The target of this sync; None when the venv's stamp proves it already is the lock. A lock not read
    in full before is read first, so its errors come before the target's."""
    options, edges = run.options, run.edges
    if options.system:
        target = system_target(options.python, edges.default_python, run.prober())
        run.lock()
        return target
    venv = options.venv.absolute()
    venvs.check_target(venv, system=False)
    if not (options.dry_run or options.rebuild or options.python or options.verify) and noop.up_to_date(
        venv,
        run.lock_sha,
        run.lock_bytes,
        extras=options.extras,
        groups=options.groups,
        lock_path=options.lock_path,
    ):
        return None
    if run.remembered is None or not selection_cache.validated(run.remembered):
        run.lock()
    return venv_target(
        venv,
        options.python,
        rebuild=options.rebuild,
        default_python=edges.default_python,
        prober=run.prober(),
    )


# ---------------------------------------------------------------------------------------------------
# The pipeline


def _run(run: _Sync, target: Target) -> tuple[SyncPlan, list[str]] | _Raced:
    """Select, plan, fetch, then change the target under its venv lock and stamp it: the plan and the
    notes for the user, or _Raced when another sync changed the venv before this one got the lock."""
    read = _read(run, target)
    selection = read.selection
    note = target.note(dry_run=run.options.dry_run)
    notes = [note] if note else []
    if run.options.dry_run:
        return _dry_run_plan(target, selection, run.options), notes
    # A new venv's plan depends on nothing installed: it is fetched before waiting for the venv lock.
    early = None if target.in_place else _prepare(run, target, planner.plan(selection, ()))
    with venv_lock(target.root, on_wait=run.edges.notice):
        changed, repaired = target.changed_since_decided()
        if changed:
            return _Raced(tuple(repaired))
        if early is None:
            interrupted, recovered = _recover(target)
            repaired += recovered
            vouched = _vouched(target, interrupted, run.options)
            installed = _installed(target, interrupted, run.options, vouched)
            plan, artifacts = _prepare(run, target, planner.plan(selection, installed))
            stale = _change_in_place(run, read, target, plan, artifacts, vouched)
        else:
            plan, artifacts = early
            stale = _build_and_swap(run, read, target, plan, artifacts)
    if stale:
        notes.append(stale_note(run.options.lock_path, run.options.venv, stale))
    return plan, [*repaired, *notes, *extras_note(run.options, read.extras, changed=not plan.is_empty)]


def _read(run: _Sync, target: Target) -> LockRead:
    """What this sync uses of its lock for ``target`` (remembered, else read in full and remembered)."""
    options = run.options
    groups = tuple(noop.normalized(options.groups)) if options.groups is not None else None
    asked = SelectionAsked(tuple(noop.normalized(options.extras)), groups, options.only_binary)
    return selection_cache.read(run.remembered, run.lock, options.lock_path, target.info, asked)


def _layout(target: Target, root: Path | None = None, info: InterpreterInfo | None = None) -> InstallLayout:
    """Where wheels land: in the target, or (a new venv) in ``root`` made by ``info``, with the scripts
    naming the path the venv will have."""
    return InstallLayout.for_interpreter(
        info or target.info, root=root or target.root, interpreter=target.python
    )


def _vouched(target: Target, interrupted: bool, options: SyncOptions) -> dict[str, Mapping[str, Any]]:
    """The distributions taken as the venv's stamp recorded them (their RECORD, METADATA and INSTALLER
    unchanged): none after an interruption or with ``--verify`` (every file is hashed then), nor for
    ``--system``."""
    if not target.owned or _verify(interrupted, options) is True:
        return {}
    return site_packages.still_stamped(noop.vouched(target.root))


def _installed(
    target: Target, interrupted: bool, options: SyncOptions, vouched: Mapping[str, Mapping[str, Any]]
) -> tuple[InstalledDist, ...]:
    """What the target holds. A patch costs the changed packages: distributions the stamp vouches for
    are taken as it recorded them (as on the no-op path); the others have their metadata read and their
    files' sizes checked, or hashed after an interruption or with ``--verify``."""
    verify = _verify(interrupted, options)
    return site_packages.scan(_layout(target).site_dirs, verify=verify, trusted=vouched)


def _verify(interrupted: bool, options: SyncOptions) -> site_packages.Verify:
    """Every installed file hashed against RECORD after an interruption or with ``--verify``; else its
    size (one ``stat`` per file)."""
    return True if interrupted or options.verify else "sizes"


def _dry_run_plan(target: Target, selection: Selection, options: SyncOptions) -> SyncPlan:
    """The plan, with nothing changed: no lock taken, nothing recovered, nothing fetched."""
    if not target.in_place:
        return planner.plan(selection, ())
    site_dirs = _layout(target).site_dirs
    if not target.owned:  # --system lists the interpreter's distributions as they are
        return planner.plan(selection, site_packages.scan(site_dirs))
    interrupted = needs_recovery(target.root) or Path(runtime.marker_path(target.root)).exists()
    return planner.plan(selection, site_packages.scan(site_dirs, verify=_verify(interrupted, options)))


def _recover(target: Target) -> tuple[bool, list[str]]:
    """Under the venv lock, in place: undo what a killed sync left (in a venv, the in-progress marker
    goes first: recovery changes it). Whether a sync was interrupted, and the repairs to report."""
    interrupted = target.owned and Path(runtime.marker_path(target.root)).exists()
    if not needs_recovery(target.root):
        return interrupted, []
    if target.owned and not interrupted:
        stamp_writer.begin_sync(target.root)
    notes = recover(target.root)
    return True, notes if target.owned else []


def _prepare(run: _Sync, target: Target, plan: SyncPlan) -> tuple[SyncPlan, dict[str, UnpackedWheel]]:
    """Everything the plan installs downloaded, verified (and built, with build requirements from the
    lock's indexes) and unpacked, before the venv is touched; a distribution that cannot be removed
    exactly is refused first, two that write one path with different bytes after."""
    _refuse_unknown_files(plan, run.options)
    link_mode_from_env(run.options.link_mode)  # a bad ENVLOCK_LINK_MODE fails before anything is fetched
    report = run.edges.report or _unreported
    preparer = Preparer(
        run.cache,
        run.http,
        run.edges.runner,
        run.options.offline,
        run.options.find_links,
        run.edges.progress,
        checkpoint=run.edges.checkpoint,
        build_indexes=lambda: recorded_indexes(run.lock()),
        remember_claims=not run.options.verify,
        report=report,
        clock=run.edges.clock,
        backend_output=run.edges.backend_output,
    )
    artifacts = preparer.prepare(plan, target.build_python, dict(target.info.markers))
    refuse_overwrites(plan, artifacts, _layout(target))
    if plan.changes:
        report(SyncEvent("install", count=len(plan.to_install()), removed=len(plan.remove)))
    run.edges.checkpoint("fetched")
    return plan, artifacts


def _unreported(_event: SyncEvent) -> None:
    """No one listens to the sync's phases (the library's default)."""


def _refuse_unknown_files(plan: SyncPlan, options: SyncOptions) -> None:
    """A distribution to remove or replace whose files are unknown (no RECORD) cannot be taken out
    exactly: refuse before anything is touched, naming it, rather than leave its files behind."""
    unknown = [dist for dist in plan.to_uninstall() if site_packages.files_unknown(dist)]
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


def _change_in_place(
    run: _Sync,
    read: LockRead,
    target: Target,
    plan: SyncPlan,
    artifacts: dict[str, UnpackedWheel],
    vouched: Mapping[str, Mapping[str, Any]],
) -> str | None:
    """Mark the venv, apply the plan, stamp it (a ``--system`` Python is neither marked nor stamped).
    Why the lock is stale, if it is (recorded in the stamp). ``vouched``: the old stamp's records of the
    distributions it vouched for; the new stamp keeps those whose RECORD is still that file."""
    if target.owned:
        stamp_writer.begin_sync(target.root)
        run.edges.checkpoint("marker")
    executor.apply(plan, artifacts, _layout(target).confined(), _execute_options(run))
    if not target.owned:
        return None
    run.edges.checkpoint("applied")
    stale = _write_stamp(run, read, target, vouched, stamp_facts.probed_facts(target.info))
    run.edges.checkpoint("stamped")
    return stale


def _build_and_swap(
    run: _Sync, read: LockRead, target: Target, plan: SyncPlan, artifacts: dict[str, UnpackedWheel]
) -> str | None:
    """Build and fill a venv beside the target, swap it in, delete the old one, stamp the new one: a
    failure before the swap leaves the old venv untouched. Why the lock is stale, if it is."""
    assert target.base is not None
    edges = run.edges
    staging = venvs.build_sibling(target.base, target.root, edges.runner)
    try:
        edges.checkpoint("staging-created")
        # The base's probe answer moved to the new venv: the same interpreter, another prefix.
        info = venvs.new_venv_info(target.info, staging) or probe(
            Path(runtime.venv_python(staging)), edges.runner
        )
        if not info.is_venv:  # pragma: no cover - python -m venv always makes one
            raise TargetEnvironmentError(f"{staging} did not become a virtual environment")
        stamp_writer.begin_sync(staging)
        executor.apply(plan, artifacts, _layout(target, staging, info).confined(), _execute_options(run))
        # Hold the new venv's lock too, so a sync waiting on this path blocks until the stamp exists.
        with venv_lock(staging, on_wait=edges.notice):
            aside = venvs.swap_in(staging, target.root, edges.checkpoint)
            edges.checkpoint("swapped")
            # The old venv goes before the stamp: a stamped venv never has leftovers beside it.
            venvs.discard(aside)
            stale = _write_stamp(run, read, target, {}, stamp_facts.moved_facts(info, staging, target.root))
            edges.checkpoint("stamped")
    except BaseException:
        venvs.discard(staging if staging.exists() else None)
        raise
    return stale


def _execute_options(run: _Sync) -> executor.ExecuteOptions:
    return executor.ExecuteOptions(
        compile_bytecode=run.options.compile_bytecode,
        checkpoint=run.edges.checkpoint,
        store=run.cache.unchecked_area("unpacked"),
        link_mode=link_mode_from_env(run.options.link_mode),
    )


def _write_stamp(
    run: _Sync,
    read: LockRead,
    target: Target,
    vouched: Mapping[str, Mapping[str, Any]],
    facts: Mapping[str, object] | None,
) -> str | None:
    """Stamp the target; why the lock is stale, if it is (the stamp records it). ``facts``: the
    interpreter's, as the stamp records them (None: the stamp writer asks the interpreter)."""
    options = run.options
    lock_path = options.lock_path.absolute()
    # The groups installed: --group values, else the lock's default-groups (as the no-op check reads them).
    groups = read.default_groups if options.groups is None else options.groups
    inputs = list(read.inputs)
    stale = stamp_facts.staleness(lock_path, run.lock_sha, inputs, options.cache_dir, run.lock_bytes)
    source = stamp_writer.SyncedFrom(
        lock_path=lock_path,
        lock_bytes_sha256=run.lock_sha,
        extras=noop.normalized(options.extras),
        groups=noop.normalized(groups),
        python=target.python,
        inputs=inputs,
        facts=facts,
        stale=stale,
        known=vouched,
    )
    stamp_writer.write_stamp(target.root, source)
    return stale
