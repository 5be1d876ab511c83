# ruff: noqa: PTH100, PTH110, PTH113, PTH118, PTH119, PTH120, PTH121
# (os.path on purpose: pathlib costs milliseconds to import on the launch path)
"""The drift check of a venv against its stamp and lock: the launch runtime (standard library only). What a
drift found consists of is looked at in ``detail``, the launchers' entry points are ``launch``, and
``guard/stamp_writer.py`` writes the stamp.

This package must run inside any venv without envlock installed (launchers and the entry-point guard
carry one file assembled from ``runtime/``: ``guard.launchers.checker_source``), so it imports only the
standard library and its own ``runtime`` modules, and keeps Python 3.8 syntax at run time. Format:
docs/stamp.md.
"""

from __future__ import annotations

import os

from envlock.runtime import (
    STAMP_FORMAT,
    SYNC_LEFTOVERS,
    base_interpreter,
    dist_name_version,
    json_loads,
    marker_path,
    metadata_dir_names,
    read_installer,
    read_pyvenv_cfg,
    sha256_file,
    stamp_path,
    stat_identity,
    state_dir,
    swap_journal_path,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # the launch path avoids importing typing, pathlib and dataclasses (import time)
    from collections.abc import Sequence
    from typing import Any

    from envlock.runtime import StrPath


# ---------------------------------------------------------------------------------------------------
# the check (standard library only; the launch path)

NO_VENV = "no-venv"
NO_STAMP = "no-stamp"
STAMP_INVALID = "stamp-invalid"
SYNC_INTERRUPTED = "sync-interrupted"
NO_LOCK = "no-lock"
OTHER_LOCK = "other-lock"
LOCK_CHANGED = "lock-changed"
LOCK_STALE = "lock-stale"
INTERPRETER_GONE = "interpreter-gone"
INTERPRETER_CHANGED = "interpreter-changed"
DIST_ADDED = "dist-added"
DIST_REMOVED = "dist-removed"
DIST_CHANGED = "dist-changed"
FILE_MODIFIED = "file-modified"
FILE_MISSING = "file-missing"

DRIFT_KINDS = (
    NO_VENV,
    NO_STAMP,
    STAMP_INVALID,
    SYNC_INTERRUPTED,
    NO_LOCK,
    OTHER_LOCK,
    LOCK_CHANGED,
    LOCK_STALE,
    INTERPRETER_GONE,
    INTERPRETER_CHANGED,
    DIST_ADDED,
    DIST_REMOVED,
    DIST_CHANGED,
    FILE_MODIFIED,
    FILE_MISSING,
)
"""Every drift kind, in the order a report lists them (docs/check.md)."""


class Drift:
    """One way a venv differs from its lock or stamp, with the command that fixes it (immutable).

    A hand-written frozen class rather than a dataclass: importing ``dataclasses`` costs more than the
    whole fast check on the launch path.
    """

    __slots__ = ("fix", "kind", "message", "subject")

    kind: str
    """One of ``DRIFT_KINDS``."""
    subject: str
    """What drifted: a distribution name, a file, the lock's or the venv's path."""
    message: str
    """What happened, in words (without the fix)."""
    fix: str
    """The command that fixes it, e.g. ``envlock sync``."""

    def __init__(self, kind: str, subject: str, message: str, fix: str) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "subject", subject)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "fix", fix)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Drift is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Drift is immutable: cannot delete {name!r}")

    def _key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.subject, self.message, self.fix)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Drift):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "Drift(kind=%r, subject=%r, message=%r, fix=%r)" % self._key()  # noqa: UP031

    def __str__(self) -> str:
        return f"{self.message} — run: {self.fix}" if self.fix else self.message

    def as_dict(self) -> dict[str, str]:
        """The JSON form (docs/check.md): kind, subject, message, fix, text."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "fix": self.fix,
            "text": str(self),
        }


def sort_drifts(drifts: Sequence[Drift]) -> list[Drift]:
    """Report order: by kind (``DRIFT_KINDS`` order), then subject."""
    rank = {kind: index for index, kind in enumerate(DRIFT_KINDS)}
    return sorted(set(drifts), key=lambda d: (rank.get(d.kind, len(rank)), d.subject, d.message))


class CheckOptions:
    """What to check and how to word the fixes (immutable; defaults match the envlock CLI's)."""

    __slots__ = ("compile_command", "deep", "lock", "sync_command", "venv_label")

    venv_label: str | None
    """How messages name the venv (default: the path as given, e.g. ``.venv``)."""
    lock: str | None
    """The lock the venv must match; ``None``: the one the stamp names."""
    deep: bool
    """Also verify every installed file against its RECORD hash."""
    sync_command: str
    """The fix for venv drift."""
    compile_command: str
    """The fix for a lock older than its inputs (followed by ``&& sync_command``)."""

    def __init__(
        self,
        *,
        lock: StrPath | None = None,
        deep: bool = False,
        venv_label: str | None = None,
        sync_command: str = "envlock sync",
        compile_command: str = "envlock compile",
    ) -> None:
        object.__setattr__(self, "lock", None if lock is None else os.fspath(lock))
        object.__setattr__(self, "deep", deep)
        object.__setattr__(self, "venv_label", venv_label)
        object.__setattr__(self, "sync_command", sync_command)
        object.__setattr__(self, "compile_command", compile_command)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"CheckOptions is immutable: cannot set {name!r}")


def sync_fix(venv: str, lock: str | None) -> str:
    """``envlock sync`` with the lock and ``--venv`` spelled out when they are not the defaults."""
    command = "envlock sync"
    if lock is not None and os.path.normpath(lock) != "pylock.toml":
        command += f" {sh_quote(lock)}"
    if os.path.normpath(venv) != ".venv":
        command += f" --venv {sh_quote(venv)}"
    return command


def compile_fix(lock: str | None) -> str:
    """``envlock compile`` with ``-o LOCK`` when the lock is not the default: a compile into an existing
    lock takes its recorded sources and settings, so this is the whole fix for any lock."""
    if lock is None or os.path.normpath(lock) == "pylock.toml":
        return "envlock compile"
    return f"envlock compile -o {sh_quote(lock)}"


_SH_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")


def sh_quote(word: str) -> str:
    """``word`` as one POSIX sh word (``shlex.quote``'s rule; shlex imports ``re``, which the launch
    check does without): a path a fix command names is pasted into a shell."""
    if word and _SH_PLAIN.issuperset(word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


class CheckResult:
    """The outcome of one check (immutable): the venv, the lock compared, the drifts found."""

    __slots__ = ("drifts", "lock", "stamp", "venv")

    venv: str
    """The venv checked."""
    lock: str | None
    """The lock compared with (given, or named by the stamp); ``None`` when unknown."""
    drifts: tuple[Drift, ...]
    """Every drift found, in report order; empty when the venv is in sync."""
    stamp: dict[str, Any] | None
    """The stamp read (``None`` when missing or unreadable)."""

    def __init__(
        self, venv: str, lock: str | None, drifts: Sequence[Drift], stamp: dict[str, Any] | None
    ) -> None:
        object.__setattr__(self, "venv", venv)
        object.__setattr__(self, "lock", lock)
        object.__setattr__(self, "drifts", tuple(sort_drifts(drifts)))
        object.__setattr__(self, "stamp", stamp)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"CheckResult is immutable: cannot set {name!r}")

    @property
    def ok(self) -> bool:
        return not self.drifts

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` document (docs/check.md)."""
        return {
            "ok": self.ok,
            "venv": self.venv,
            "lock": self.lock,
            "drifts": [d.as_dict() for d in self.drifts],
        }


class _Context:
    """What the individual checks share while one check runs (never leaves this module)."""

    def __init__(self, venv: str, options: CheckOptions) -> None:
        self.venv = venv
        self.options = options
        self.label = options.venv_label or venv
        self.sync = options.sync_command
        self.drifts: list[Drift] = []

    def add(self, kind: str, subject: str, message: str, fix: str | None = None) -> None:
        self.drifts.append(Drift(kind, subject, message, self.sync if fix is None else fix))


def read_stamp(venv: StrPath) -> dict[str, Any] | None:
    """The stamp of ``venv`` (``None`` when there is none); ValueError when it is not a valid stamp."""
    try:
        with open(stamp_path(venv), "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    try:
        stamp = json_loads(data)
    except ValueError as error:
        raise ValueError(f"unreadable stamp: {error}") from None
    if not isinstance(stamp, dict) or stamp.get("format") != STAMP_FORMAT:
        found = stamp.get("format") if isinstance(stamp, dict) else None
        raise ValueError(f"stamp format {found!r}, this check reads format {STAMP_FORMAT}")
    return stamp


def check(venv: StrPath, options: CheckOptions | None = None) -> CheckResult:
    """Compare ``venv`` with its stamp and lock; every drift found, each with the command that fixes it.

    The fast path reads the stamp, hashes the lock, lists site-packages and stats a few files per
    installed distribution; ``options.deep`` also hashes every installed file against its RECORD.
    """
    options = options or CheckOptions()
    venv = os.fspath(venv)
    ctx = _Context(venv, options)
    if not os.path.isfile(os.path.join(venv, "pyvenv.cfg")):
        if os.path.exists(swap_journal_path(venv)):
            ctx.add(SYNC_INTERRUPTED, venv, f"a rebuild of {ctx.label} was interrupted while swapping it in")
        else:
            ctx.add(NO_VENV, venv, f"no virtual environment at {ctx.label}")
        return CheckResult(venv, options.lock, ctx.drifts, None)
    if os.path.exists(marker_path(venv)) or _sync_leftovers(venv):
        from envlock.runtime.detail import marker_note  # the drift path only (above, in a launcher's file)

        ctx.add(SYNC_INTERRUPTED, venv, f"a sync of {ctx.label} was interrupted{marker_note(venv)}")
        return CheckResult(venv, options.lock, ctx.drifts, None)
    try:
        stamp = read_stamp(venv)
    except (OSError, ValueError) as error:
        ctx.add(STAMP_INVALID, stamp_path(venv), f"the stamp of {ctx.label} is not usable ({error})")
        return CheckResult(venv, options.lock, ctx.drifts, None)
    if stamp is None:
        ctx.add(NO_STAMP, venv, f"{ctx.label} has no stamp: it was not made by envlock sync")
        return CheckResult(venv, options.lock, ctx.drifts, None)
    try:
        lock = _check_lock(ctx, stamp)
        _check_interpreter(ctx, stamp)
        _check_distributions(ctx, stamp)
    except (KeyError, TypeError, AttributeError, IndexError) as error:  # a hand-edited stamp
        ctx.add(STAMP_INVALID, stamp_path(venv), f"the stamp of {ctx.label} is not usable (bad {error})")
        return CheckResult(venv, options.lock, ctx.drifts, stamp)
    return CheckResult(venv, lock, ctx.drifts, stamp)


def _sync_leftovers(venv: str) -> bool:
    """A sync's journal, stash or staging folder exists: it was killed (even if its marker is gone)."""
    state = state_dir(venv)
    return any(os.path.exists(os.path.join(state, name)) for name in SYNC_LEFTOVERS)


def stamped_lock_path(venv: str, stamp: dict[str, Any]) -> str:
    """The lock a stamp names, as a path (the stamp stores it relative to the venv)."""
    return os.path.normpath(os.path.join(venv, stamp["lock"]["path"]))


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return os.path.normcase(os.path.abspath(first)) == os.path.normcase(os.path.abspath(second))


def _check_lock(ctx: _Context, stamp: dict[str, Any]) -> str:
    stamped = stamped_lock_path(ctx.venv, stamp)
    lock = ctx.options.lock or stamped
    name = os.path.basename(lock)
    if not os.path.isfile(lock):
        ctx.add(NO_LOCK, lock, f"{name} not found", ctx.options.compile_command)
        return lock
    if not _same_file(lock, stamped):
        ctx.add(
            OTHER_LOCK,
            lock,
            f"{ctx.label} was synced from {stamp['lock']['path']}, not from {lock}",
            f"{ctx.sync} {lock}" if ctx.sync == "envlock sync" else ctx.sync,
        )
        return lock
    if sha256_file(lock) != stamp["lock"]["sha256"]:
        from envlock.runtime.detail import lock_changes  # the drift path only (above, in a launcher's file)

        changes = lock_changes(lock, stamp)
        note = f" ({changes})" if changes else ""
        ctx.add(LOCK_CHANGED, lock, f"{name} changed since {ctx.label} was synced{note}")
        return lock  # a changed lock may well come from changed inputs: only sync can tell
    stale = stamp.get("lock_stale")
    if isinstance(stale, str) and stale:
        inputs = ", ".join(r["path"] for r in stamp.get("inputs", [])) or "its inputs"
        ctx.add(
            LOCK_STALE,
            lock,
            f"{name} was older than {inputs} when {ctx.label} was synced ({stale})",
            f"{ctx.options.compile_command} && {ctx.sync}",
        )
        return lock
    _check_inputs(ctx, stamp, lock)
    return lock


def _check_inputs(ctx: _Context, stamp: dict[str, Any], lock: str) -> None:
    """A lock input edited since the sync (content hash, looked at only when size or mtime moved)."""
    lock_dir = os.path.dirname(os.path.abspath(lock))
    for record in stamp.get("inputs", []):
        path = os.path.join(lock_dir, record["path"])
        identity = stat_identity(path)
        if identity is not None and identity == {k: record.get(k) for k in identity}:
            continue
        if identity is not None and sha256_file(path) == record.get("sha256"):
            continue
        if identity is None and "sha256" not in record:
            continue  # absent at sync time too
        what = "was removed" if identity is None else "changed"
        from envlock.runtime.detail import required_but_not_installed  # the drift path only

        missing = [] if identity is None else required_but_not_installed(path, stamp)
        note = f" ({', '.join(missing)} not installed)" if missing else ""
        ctx.add(
            LOCK_STALE,
            record["path"],
            f"{record['path']} {what} since {os.path.basename(lock)} was compiled{note}",
            f"{ctx.options.compile_command} && {ctx.sync}",
        )


def _check_interpreter(ctx: _Context, stamp: dict[str, Any]) -> None:
    recorded = stamp["interpreter"]
    python = os.path.join(ctx.venv, recorded["executable"])
    base = recorded["resolved"]
    version = "Python %s" % recorded["version"]  # noqa: UP031
    if not os.path.exists(python):
        subject = python if not os.path.lexists(python) else base
        ctx.add(INTERPRETER_GONE, subject, f"the interpreter of {ctx.label} is gone ({version} at {base})")
        return
    current = base_interpreter(ctx.venv, python)
    home = read_pyvenv_cfg(ctx.venv).get("home")
    if current != base:
        ctx.add(
            INTERPRETER_CHANGED,
            current,
            f"the interpreter of {ctx.label} changed: {current} instead of {version} at {base}",
        )
    elif stat_identity(current) != recorded["stat"]:
        ctx.add(
            INTERPRETER_CHANGED,
            current,
            f"the interpreter of {ctx.label} changed: {base} was replaced since the sync ({version} then)",
        )
    elif home != recorded.get("home"):
        ctx.add(
            INTERPRETER_CHANGED,
            ctx.venv,
            f"the interpreter of {ctx.label} changed: pyvenv.cfg home is {home}, was {recorded.get('home')}",
        )


def _installer_phrase(installer: str | None) -> str:
    return f"installed by {installer}" if installer else "installed outside envlock sync"


def _check_distributions(ctx: _Context, stamp: dict[str, Any]) -> None:
    sites = [os.path.join(ctx.venv, rel) for rel in stamp["site_packages"]]
    recorded: dict[tuple[int, str], dict[str, Any]] = {
        (d["site"], d["dir"]): d for d in stamp["distributions"]
    }
    present: set[tuple[int, str]] = set()
    for index, site in enumerate(sites):
        present.update((index, name) for name in metadata_dir_names(site))
    added: dict[str, list[tuple[str, str | None]]] = {}  # name -> [(version, installer)]
    for index, dirname in sorted(present - set(recorded)):
        folder = os.path.join(sites[index], dirname)
        name, version = dist_name_version(sites[index], dirname)
        added.setdefault(name, []).append((version, read_installer(folder)))
    removed: dict[str, list[str]] = {}
    for key in sorted(set(recorded) - present):
        removed.setdefault(recorded[key]["name"], []).append(recorded[key]["version"])
    for name in sorted(set(added) | set(removed)):
        new, old = added.get(name, []), removed.get(name, [])
        if new and old:
            version, installer = new[0]
            ctx.add(
                DIST_CHANGED,
                name,
                f"{name} {version} {_installer_phrase(installer)}, the lock has {old[0]}",
            )
        elif new:
            for version, installer in new:
                ctx.add(DIST_ADDED, name, f"{name} {version} {_installer_phrase(installer)}, not in the lock")
        else:
            for version in old:
                ctx.add(DIST_REMOVED, name, f"{name} {version} is locked but missing")
    for key in sorted(present & set(recorded)):
        dist = recorded[key]
        folder = os.path.join(sites[key[0]], key[1])
        if stat_identity(os.path.join(folder, "RECORD")) != dist["record"]:
            installer = read_installer(folder)
            by = f" by {installer}" if installer and installer != dist.get("installer") else ""
            ctx.add(
                DIST_CHANGED,
                dist["name"],
                f"{dist['name']} {dist['version']} was reinstalled or modified{by} since the sync",
            )
        elif ctx.options.deep:
            from envlock.runtime.detail import verify_record  # --deep only (above, in a launcher's file)

            verify_record(ctx, sites[key[0]], dist)


def report_lines(result: CheckResult, *, label: str | None = None) -> list[str]:
    """The human report of a check: a heading, one line per drift (with its fix), the fixes to run."""
    if result.ok:
        return [f"{label or result.venv} matches {os.path.basename(result.lock or 'its lock')}"]
    count = len(result.drifts)
    lines = [f"{label or result.venv} does not match its lock ({count} problem{'s' if count > 1 else ''}):"]
    lines.extend(f"  {drift}" for drift in result.drifts)
    return lines


def fixes(result: CheckResult) -> list[str]:
    """The distinct fix commands of a result, the most complete first (compile && sync before sync)."""
    commands = sorted({d.fix for d in result.drifts if d.fix}, key=lambda c: (-len(c), c))
    kept: list[str] = []
    for command in commands:
        if not any(command in other for other in kept):
            kept.append(command)
    return kept
