"""Is a lock still what its inputs compile to? Its input fingerprint recomputed offline (``envlock check``).

The launch check (``runtime.drift``) compares the input files with their hashes at *sync* time; an input
edited before the last sync without recompiling passes it. This module closes that gap for the envlock
CLI: it reads back the compile settings the lock recorded as data (``[tool.envlock.settings]``,
``inputs.settings.CompileSettings``), re-reads the inputs they name, merges them as compile does and
compares the fingerprint with ``[tool.envlock].fingerprint`` (``judge``, the one staleness judge).

A *fresh* answer is cached under the cache folder (``freshness/<key>``), keyed by the lock's and the
inputs' sha256 as the stamp recorded them, so a clean ``envlock check`` pays one ``stat``, not the parser.
Heavy modules (packaging, the input readers) are imported only when the cache has no answer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from envlock.errors import EnvlockError, NeedsNetworkError
from envlock.inputs.fresh_cache import FRESH as FRESH  # the verdicts are owned there, re-exported here
from envlock.inputs.fresh_cache import STALE as STALE
from envlock.inputs.fresh_cache import UNKNOWN as UNKNOWN
from envlock.runtime.lock_header import LockHeader, LockHeaderError, parse_toml, read_header

# What only an uncached verdict needs (packaging, the TOML parser, the input readers, the index client) is
# imported where it is used: ``envlock check`` imports this module, and its cached fresh verdict must
# cost one ``stat`` (tests/cli/test_check_cli.py pins that it loads none of them).

TYPE_CHECKING = False  # not typing's: importing typing (and dataclasses) costs envlock check ~20 ms
if TYPE_CHECKING:
    from typing import Any

    from envlock.inputs.config import CompileInputs
    from envlock.inputs.settings import CompileSettings, Resolved


class Freshness:
    """The verdict on a lock against its inputs: ``state`` is ``fresh``, ``stale`` or ``unknown`` (not
    compiled by envlock, or settings it cannot rebuild); ``detail`` says what differs (requirements the
    lock does not satisfy, or "fingerprint differs") or why it cannot tell; ``inputs`` are the lock's
    input files, relative to its folder, as ``[tool.envlock].inputs`` lists them.

    An immutable value written out by hand, not a frozen dataclass: ``envlock check`` imports this
    module, and ``dataclasses`` (with inspect, ast, dis, tokenize) would be most of its start-up."""

    __slots__ = ("detail", "inputs", "state")
    state: str
    detail: str
    inputs: tuple[str, ...]

    def __init__(self, state: str, detail: str = "", inputs: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "detail", detail)
        object.__setattr__(self, "inputs", inputs)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Freshness is immutable ({name})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Freshness):
            return NotImplemented
        return (self.state, self.detail, self.inputs) == (other.state, other.detail, other.inputs)

    def __hash__(self) -> int:
        return hash((self.state, self.detail, self.inputs))

    def __repr__(self) -> str:
        return f"Freshness({self.state!r}, {self.detail!r}, {self.inputs!r})"


def judge(
    recorded: str | None,
    resolved: Resolved,
    target: Mapping[str, str],
    lock: LockHeader | None = None,
    *,
    changed: Sequence[tuple[str, str]] = (),
) -> Freshness:
    """The one staleness judge: is ``recorded`` (a lock's input fingerprint) what the inputs and
    settings of ``resolved`` fingerprint to for ``target``? Used by ``compile --check`` (with the
    command line's settings, the lock's for those it leaves unset), by ``check``, ``sync`` and the
    launchers (with the settings the lock recorded). ``lock`` (its header), when given, lets a stale
    verdict name what the lock lacks; ``changed`` (``settings.differences``: the settings asked for
    otherwise than the lock's), when not empty, is what a stale verdict names instead."""
    if recorded is not None and resolved.fingerprint(target) == recorded:
        return Freshness(FRESH)
    if changed:
        return Freshness(STALE, "; ".join(f"compiled with {then}, asked for {now}" for then, now in changed))
    problems = _unsatisfied(resolved.inputs, lock, target) if lock is not None else []
    return Freshness(STALE, "; ".join(problems) if problems else "its input fingerprint differs")


def _unsatisfied(inputs: CompileInputs, lock: LockHeader, target: Mapping[str, str]) -> list[str]:
    """Root requirements and constraints the lock's pins do not meet, in words (sorted)."""
    # lazy: envlock check's cached verdict
    from packaging.markers import default_environment
    from packaging.utils import canonicalize_name

    environment: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    environment.update(target, extra="")
    locked: dict[str, list[str]] = {}
    for package in lock.packages:
        locked.setdefault(canonicalize_name(package.name), []).append(package.version or "")
    problems = set()
    for item, constraint in [(r, False) for r in inputs.requirements] + [
        (c, True) for c in inputs.constraints
    ]:
        requirement = item.requirement
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        versions = locked.get(name)
        if versions is None:
            if not constraint:
                problems.add(f"{name} is not in the lock")
            continue
        if requirement.url or not requirement.specifier or "" in versions:
            continue
        if not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            problems.add(f"{name}{requirement.specifier}: the lock has {' / '.join(sorted(versions))}")
    return sorted(problems)


def verdict(lock_path: Path, env: Mapping[str, str]) -> Freshness:
    """Read back the settings ``lock_path`` recorded, fingerprint its inputs again offline and judge."""
    try:
        data = lock_path.read_bytes()
        lock = read_header(data)
        legacy = None if lock.settings is not None else parse_toml(data.decode("utf-8"))
    except (OSError, LockHeaderError) as error:
        return Freshness(UNKNOWN, f"cannot read {lock_path.name}: {error}")
    recorded, names, table = lock.fingerprint, lock.inputs, lock.settings
    if recorded is None or not names:
        return Freshness(UNKNOWN, "the lock records no input fingerprint")
    from envlock.inputs.settings import CompileSettings, resolve  # lazy: envlock check's cached verdict

    base = lock_path.parent
    try:
        try:
            if legacy is None:
                candidates = [CompileSettings.from_tool(table or {})]
            else:  # a lock of envlock 0.1, before the settings were recorded as data
                candidates = _legacy_settings(legacy["tool"]["envlock"], legacy, names, base, env)
        except ValueError as error:
            return Freshness(UNKNOWN, f"[tool.envlock.settings]: {error}", names)
        found = Freshness(UNKNOWN, "no settings to judge by")
        for settings in candidates:
            resolved = resolve(settings, base, env, None)
            found = judge(recorded, resolved, settings.target, lock)
            if found.state == FRESH:
                break
    except NeedsNetworkError as error:  # a -r/-c URL: `envlock compile --check` can tell, offline we cannot
        return Freshness(UNKNOWN, error.message, names)
    except EnvlockError as error:  # an input that no longer parses cannot be what the lock came from
        return Freshness(STALE, error.message, names)
    if found.state == STALE and legacy is not None and _local_files(legacy) and not resolved.index.find_links:
        return Freshness(UNKNOWN, "compiled with --find-links given on the command line", names)
    return Freshness(found.state, found.detail, names)


# --- locks of envlock 0.1: settings rebuilt once from what they recorded for humans -----------------


def _legacy_settings(
    tool: Mapping[str, Any],
    lock: Mapping[str, Any],
    names: tuple[str, ...],
    base: Path,
    env: Mapping[str, str],
) -> list[CompileSettings]:
    """The settings an envlock 0.1 lock may have been compiled with: its target from the description it
    wrote (``cpython 3.11 on linux/x86_64``), its roots among the inputs, and, when its first index is
    PyPI, both "default" and "given". ValueError when they cannot be rebuilt."""
    # lazy: envlock check's cached verdict
    import dataclasses

    from envlock.index.client import DEFAULT_INDEX
    from envlock.inputs.settings import CompileSettings

    found = tool.get("options")
    options: Mapping[str, Any] = found if isinstance(found, dict) else {}
    targets = options.get("targets") or []
    target = _target_identity(targets[0]) if len(targets) == 1 and isinstance(targets[0], str) else None
    if target is None:
        raise ValueError(f"cannot rebuild the target from {targets!r}")
    indexes = [str(i) for i in options.get("indexes") or ()]
    primary = indexes[0] if indexes else DEFAULT_INDEX
    common = CompileSettings(
        sources=tuple(_roots([base / n for n in names], env, base)),
        extra_index_urls=tuple(indexes[1:]),
        pre=bool(options.get("pre", False)),
        only_binary=tuple(str(v) for v in options.get("only-binary") or ()),
        no_binary=tuple(str(v) for v in options.get("no-binary") or ()),
        extras=tuple(e for e in lock.get("extras") or () if isinstance(e, str)),
        groups=tuple(g for g in lock.get("dependency-groups") or () if isinstance(g, str)),
        target=target,
    )
    primaries: list[str | None] = [None, primary] if primary == DEFAULT_INDEX else [primary]
    return [dataclasses.replace(common, index_url=p) for p in primaries]


def _target_identity(described: str) -> dict[str, str] | None:
    """``cpython 3.11 on linux/x86_64`` (compiler.describe_target) back into the fingerprint's identity."""
    words = described.split(" ")
    if len(words) != 4 or words[2] != "on" or "/" not in words[3]:
        return None
    platform, _, machine = words[3].rpartition("/")
    return {
        "implementation_name": words[0],
        "python_version": words[1],
        "sys_platform": platform,
        "platform_machine": machine,
    }


def _roots(paths: list[Path], env: Mapping[str, str], base: Path) -> list[str]:
    """The inputs compile was given: those no other input includes (``-r``/``-c``), relative to ``base``."""
    # lazy: envlock check's cached verdict
    from envlock.inputs.requirements_file import read_requirements_files

    included: set[Path] = set()
    for path in paths:
        if path.suffix != ".toml":
            read = read_requirements_files([path], env, base=base)
            included.update(p.resolve() for p in read.files if p.resolve() != path.resolve())
    return [os.path.relpath(p, base) for p in paths if p.resolve() not in included]


def _local_files(lock: Mapping[str, Any]) -> bool:
    """The lock has files from a local folder (find-links); an 0.1 lock did not record where from."""
    for package in lock.get("packages") or ():
        if not isinstance(package, dict):
            continue
        files = [*(package.get("wheels") or ()), package.get("sdist"), package.get("archive")]
        for entry in files:
            if isinstance(entry, dict) and ("path" in entry or str(entry.get("url", "")).startswith("file:")):
                return True
    return False
