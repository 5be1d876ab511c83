"""The pure lock builder: resolutions -> Pylock (markers, files, via, merge of several targets)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from packaging.tags import Tag
from packaging.utils import NormalizedName
from packaging.version import Version

from envlock.env.interpreter import TargetEnvironment
from envlock.index.pages import DistFile
from envlock.lock.lockfile import LockMetadata, dumps_lock, lock_from_dict, lock_metadata
from envlock.resolve.compiler import build_lock, environment_marker, previous_pins
from envlock.resolve.models import Pin, Resolution
from tests.resolve.test_resolver import LINUX_311

WINDOWS_312 = TargetEnvironment(
    markers={
        **LINUX_311.markers,
        "python_version": "3.12",
        "python_full_version": "3.12.1",
        "sys_platform": "win32",
        "platform_machine": "AMD64",
        "os_name": "nt",
        "platform_system": "Windows",
    },
    tags=("cp312-cp312-win_amd64", "py3-none-any"),
)


def wheel(
    name: str, version: str, tag: str = "py3-none-any", *, index: str = "https://user:pw@idx/simple/"
) -> DistFile:
    filename = f"{name}-{version}-{tag}.whl"
    return DistFile(
        filename=filename,
        url=f"https://idx/files/{filename}",
        project=NormalizedName(name),
        version=Version(version),
        is_wheel=True,
        tags=frozenset({tag}),
        hashes={"sha256": "ab" * 32},
        size=10,
        upload_time=datetime(2024, 1, 1, tzinfo=timezone.utc),
        index=index,
    )


def pin(
    name: str,
    version: str,
    *,
    groups: frozenset[str] = frozenset({""}),
    deps: tuple[str, ...] = (),
    files: tuple[DistFile, ...] | None = None,
    requires_python: str = ">=3.8",
) -> Pin:
    return Pin(
        name=NormalizedName(name),
        version=Version(version),
        files=files or (wheel(name, version),),
        url=None,
        index="https://user:pw@idx/simple/",
        requires_python=requires_python,
        dependencies=tuple(NormalizedName(d) for d in deps),
        via=("-r requirements.in",),
        groups=groups,
    )


def lock_of(*resolutions: Resolution, extras: tuple[str, ...] = (), groups: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    lock = build_lock(
        resolutions,
        extras=extras,
        groups=groups,
        metadata=LockMetadata(fingerprint="sha256:00"),
        lock_dir=Path("/project"),
        hash_of=lambda f: f.sha256 or "",
    )
    lock.validate()  # build_lock skips the round trip for speed; every shape it makes must pass it
    return lock


def test_single_target_lock() -> None:
    resolution = Resolution(
        pins=(
            pin("a", "1.0", deps=("b",)),
            pin(
                "b",
                "2.0",
                groups=frozenset({"extra:fast"}),
                files=(wheel("b", "2.0"), wheel("b", "2.0", "cp39-cp39-win32")),
            ),
            pin("c", "1.0", groups=frozenset({"group:dev", "extra:fast"})),
        ),
        target=LINUX_311,
    )
    lock = lock_of(resolution, extras=("fast",), groups=("dev",))
    assert [p.name for p in lock.packages] == ["a", "b", "c"]
    markers = {p.name: str(p.marker) if p.marker else None for p in lock.packages}
    assert markers == {
        "a": None,
        "b": '"fast" in extras',
        "c": '"fast" in extras or "dev" in dependency_groups',
    }
    assert [str(m) for m in lock.environments or []] == [environment_marker(LINUX_311).replace("'", '"')]
    assert str(lock.requires_python) == "==3.11.*"
    assert lock.packages[0].index == "https://idx/simple/"
    assert lock.packages[0].dependencies == [{"name": "b"}]
    assert len(lock.packages[1].wheels or []) == 2
    assert lock_metadata(lock).fingerprint == "sha256:00"
    text = dumps_lock(lock)
    assert "pw" not in text
    toml = __import__("tomllib" if sys.version_info >= (3, 11) else "tomli")
    assert dumps_lock(lock_from_dict(toml.loads(text), source="x")) == text


def test_two_targets_merge_with_environment_markers() -> None:
    linux = Resolution(pins=(pin("a", "1.0"), pin("onlylinux", "1.0")), target=LINUX_311)
    windows = Resolution(pins=(pin("a", "1.0"), pin("onlylinux", "0.9")), target=WINDOWS_312)
    lock = lock_of(linux, windows)
    by_version = {(p.name, str(p.version)): p for p in lock.packages}
    assert by_version[("a", "1.0")].marker is None
    assert "win32" in str(by_version[("onlylinux", "0.9")].marker)
    assert "linux" in str(by_version[("onlylinux", "1.0")].marker)
    assert len(lock.environments or []) == 2
    selected = {
        p.name: str(p.version)
        for p, _ in lock.select(environment=dict(WINDOWS_312.markers), tags=[Tag("py3", "none", "any")])
    }  # type: ignore[arg-type]
    assert selected == {"a": "1.0", "onlylinux": "0.9"}


def test_previous_pins() -> None:
    lock = lock_of(Resolution(pins=(pin("a", "1.0"), pin("b", "2.0")), target=LINUX_311))
    assert previous_pins(lock) == {"a": Version("1.0"), "b": Version("2.0")}
    assert previous_pins(None) == {}


def test_previous_pins_per_target_keep_each_targets_version() -> None:
    lock = lock_of(
        Resolution(pins=(pin("a", "1.0"), pin("onlylinux", "1.0")), target=LINUX_311),
        Resolution(pins=(pin("a", "1.0"), pin("onlylinux", "0.9")), target=WINDOWS_312),
    )
    assert previous_pins(lock) == {"a": Version("1.0")}  # two versions: no preference for all targets
    assert previous_pins(lock, LINUX_311) == {"a": Version("1.0"), "onlylinux": Version("1.0")}
    assert previous_pins(lock, WINDOWS_312) == {"a": Version("1.0"), "onlylinux": Version("0.9")}


def _at(target: TargetEnvironment, full: str) -> TargetEnvironment:
    major, minor, _ = full.split(".")
    markers = {**target.markers, "python_version": f"{major}.{minor}", "python_full_version": full}
    return TargetEnvironment(markers=markers, tags=target.tags)


def test_requires_python_is_what_the_pins_need() -> None:
    # Resolved on a 3.11.4 interpreter: a pin that needs a later patch than 3.11.0 raises the floor, so
    # the lock never claims a Python (3.11.0) its pins refuse; without one it claims the whole minor.
    needs = Resolution(pins=(pin("a", "1.0"), pin("b", "2.0", requires_python=">=3.11.3")), target=LINUX_311)
    assert str(lock_of(needs).requires_python) == "==3.11.*,>=3.11.3"
    plain = Resolution(pins=(pin("a", "1.0"), pin("c", "1.0", requires_python="!=3.11.1")), target=LINUX_311)
    assert str(lock_of(plain).requires_python) == "==3.11.*,>=3.11.2"
    assert str(lock_of(Resolution(pins=(pin("a", "1.0"),), target=LINUX_311)).requires_python) == "==3.11.*"
    # Several minors: from the oldest, and the patches a newer target's pins refuse are excluded.
    newer = Resolution(pins=(pin("b", "2.0", requires_python=">=3.12.2"),), target=_at(WINDOWS_312, "3.12.3"))
    oldest = Resolution(pins=(pin("a", "1.0"),), target=_at(LINUX_311, "3.11.0"))
    spec = lock_of(oldest, newer).requires_python
    assert spec is not None and str(spec) == "!=3.12.0,!=3.12.1,>=3.11"
    assert not spec.contains("3.12.1") and spec.contains("3.12.2") and spec.contains("3.11.0")
