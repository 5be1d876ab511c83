"""Targets as data: a Python version plus a platform, named the way people type it
(``cp312-windows-amd64``, ``cp311-linux-x86_64``, ``cp313-macos-arm64``), turned into the marker values
and ranked wheel tags a resolution needs, without an interpreter of that target. A team's lock is
compiled for every target the project declares (``[tool.envlock] targets`` / ``compile --target``),
on whatever machine runs compile.

Platform defaults (each can be spelled out instead):

- ``linux``: glibc 2.28 or newer (``manylinux_2_28`` down to the oldest manylinux tag), as uv's
  ``x86_64-unknown-linux-gnu``; ``manylinux_2_X`` names another floor. ``musllinux``: musl 1.2.
- ``macos``: macOS 12.0 or newer (``macos_14_0`` names another), both architectures.
- ``windows``: 64-bit Windows (``amd64``) or Windows on ARM (``arm64``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.tags import compatible_tags, cpython_tags, mac_platforms

from envlock.env.interpreter import TargetEnvironment, parse_python_version
from envlock.errors import InputError

_FORM = re.compile(
    r"cp(?P<major>3)(?P<minor>\d{1,2})-"
    r"(?P<os>linux|manylinux_2_(?P<glibc>\d{1,2})|musllinux(?:_1_(?P<musl>\d))?|windows|macos(?:_(?P<mac>\d{2})_0)?)-"
    r"(?P<arch>[a-z0-9_]+)"
)
_ARCH_ALIASES = {
    "linux": {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"},
    "windows": {"amd64": "amd64", "x86_64": "amd64", "arm64": "arm64", "aarch64": "arm64"},
    "macos": {"arm64": "arm64", "aarch64": "arm64", "x86_64": "x86_64", "amd64": "x86_64"},
}
DEFAULT_GLIBC = 28
DEFAULT_MUSL = 2
DEFAULT_MACOS = 12
SUPPORTED_PYTHONS = tuple(range(8, 15))
"""CPython 3.8 to 3.14: the minors a target may name."""
FORMS = "cpXY-OS-ARCH: OS linux, manylinux_2_X, musllinux, windows or macos; e.g. cp312-windows-amd64"


@dataclass(frozen=True, order=True)
class TargetSpec:
    """One target: CPython X.Y on one platform (``family``: linux, musllinux, windows, macos)."""

    minor: int
    family: str
    arch: str
    floor: int
    """glibc 2.<floor> (linux), musl 1.<floor> (musllinux), macOS <floor>.0 (macos); 0 for windows."""

    @property
    def text(self) -> str:
        """The canonical short form (what the lock records and messages show)."""
        if self.family == "linux":
            system = "linux" if self.floor == DEFAULT_GLIBC else f"manylinux_2_{self.floor}"
        elif self.family == "musllinux":
            system = "musllinux" if self.floor == DEFAULT_MUSL else f"musllinux_1_{self.floor}"
        elif self.family == "macos":
            system = "macos" if self.floor == DEFAULT_MACOS else f"macos_{self.floor}_0"
        else:
            system = "windows"
        return f"cp3{self.minor}-{system}-{self.arch}"


def parse_target(text: str, where: str = "--target") -> TargetSpec:
    """``cp312-windows-amd64`` -> TargetSpec; anything else is an InputError naming ``where``."""
    found = _FORM.fullmatch(text.strip().lower())
    if found is None:
        raise InputError(f"{where}: {text!r} is not a target ({FORMS})")
    minor = int(found["minor"])
    if minor not in SUPPORTED_PYTHONS:
        raise InputError(f"{where}: {text!r}: CPython 3.{minor} is not a supported target (3.8 to 3.14)")
    system = found["os"]
    if system.startswith("manylinux") or system == "linux":
        family, floor = "linux", int(found["glibc"] or DEFAULT_GLIBC)
    elif system.startswith("musllinux"):
        family, floor = "musllinux", int(found["musl"] or DEFAULT_MUSL)
    elif system.startswith("macos"):
        family, floor = "macos", int(found["mac"] or DEFAULT_MACOS)
    else:
        family, floor = "windows", 0
    arch = _ARCH_ALIASES["linux" if family == "musllinux" else family].get(found["arch"])
    if arch is None:
        known = ", ".join(sorted(set(_ARCH_ALIASES["linux" if family == "musllinux" else family].values())))
        raise InputError(f"{where}: {text!r}: architecture {found['arch']!r} ({family} has {known})")
    if (family == "linux" and not 5 <= floor <= 40) or (family == "macos" and not 10 <= floor <= 26):
        raise InputError(f"{where}: {text!r}: no such platform version")
    return TargetSpec(minor, family, arch, floor)


def parse_targets(texts: tuple[str, ...], where: str) -> tuple[TargetSpec, ...]:
    """Each target once (compile sorts them: a lock never depends on the order they were listed in)."""
    seen: dict[TargetSpec, None] = {}
    alike: dict[tuple[int, str, str], TargetSpec] = {}
    for text in texts:
        spec = parse_target(text, where)
        # A lock tells its targets apart by marker values: glibc and musl, or two glibc floors, look alike.
        key = (spec.minor, "linux" if spec.family == "musllinux" else spec.family, spec.arch)
        other = alike.setdefault(key, spec)
        if other != spec:
            raise InputError(
                f"{where}: {other.text} and {spec.text} have the same marker values; a lock cannot tell "
                "them apart: keep one"
            )
        seen.setdefault(spec, None)
    return tuple(seen)


def target_environment(spec: TargetSpec) -> TargetEnvironment:
    """The marker environment and ranked wheel tags of ``spec`` (no interpreter needed)."""
    version = (3, spec.minor)
    full = f"3.{spec.minor}.0"
    markers = {
        "implementation_name": "cpython",
        "implementation_version": full,
        "platform_python_implementation": "CPython",
        "python_version": f"3.{spec.minor}",
        "python_full_version": full,
        "platform_release": "",
        "platform_version": "",
        **_platform_markers(spec),
    }
    platforms = _platform_tags(spec)
    interpreter = f"cp3{spec.minor}"
    tags = [
        *cpython_tags(version, [interpreter], platforms),
        *compatible_tags(version, interpreter, platforms),
    ]
    return TargetEnvironment(
        markers=markers,
        tags=tuple(dict.fromkeys(str(tag) for tag in tags)),
        description=f"target {spec.text}",
    )


def _platform_markers(spec: TargetSpec) -> dict[str, str]:
    if spec.family == "windows":
        machine = spec.arch.upper()
        return {
            "os_name": "nt",
            "sys_platform": "win32",
            "platform_system": "Windows",
            "platform_machine": machine,
        }
    if spec.family == "macos":
        return {
            "os_name": "posix",
            "sys_platform": "darwin",
            "platform_system": "Darwin",
            "platform_machine": spec.arch,
        }
    return {
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": spec.arch,
    }


def _platform_tags(spec: TargetSpec) -> list[str]:
    """Platform tags, most specific first, as packaging lists them on such a machine."""
    if spec.family == "windows":
        return [f"win_{spec.arch}"]
    if spec.family == "macos":
        return list(mac_platforms((spec.floor, 0), spec.arch))
    arch = spec.arch
    if spec.family == "musllinux":
        return [*(f"musllinux_1_{minor}_{arch}" for minor in range(spec.floor, -1, -1)), f"linux_{arch}"]
    oldest = 5 if arch in ("x86_64", "i686") else 17
    aliases = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    found = []
    for minor in range(spec.floor, oldest - 1, -1):
        found.append(f"manylinux_2_{minor}_{arch}")
        if minor in aliases:
            found.append(f"{aliases[minor]}_{arch}")
    return [*found, f"linux_{arch}"]


def spec_for(target: TargetEnvironment) -> str | None:
    """The short form naming a machine like ``target`` (default platform floors), for the hint that adds
    it to a lock; None when it is not a CPython on a platform targets can name."""
    markers = target.markers
    if markers.get("implementation_name") != "cpython":
        return None
    major, _, minor = markers.get("python_version", "").partition(".")
    family = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(markers.get("sys_platform", ""))
    if major != "3" or not minor.isdigit() or family is None:
        return None
    machine = markers.get("platform_machine", "").lower()
    arch = _ARCH_ALIASES[family].get(machine)
    if arch is None:
        return None
    musl = any("musllinux" in t for t in target.tags[:50]) and not any(
        "manylinux" in t for t in target.tags[:50]
    )
    if family == "linux" and musl:
        family = "musllinux"  # the markers of a musl machine look like glibc's: its tags tell
    floor = {"linux": DEFAULT_GLIBC, "musllinux": DEFAULT_MUSL, "macos": DEFAULT_MACOS}.get(family, 0)
    return TargetSpec(int(minor), family, arch, floor).text


UNIVERSAL_PLATFORMS = ("linux-x86_64", "linux-aarch64", "windows-amd64", "macos-arm64", "macos-x86_64")
"""``--universal``: the common server and desktop platforms."""
UNIVERSAL_PYTHONS = tuple(range(10, 15))
"""``--universal``: the CPython minors still supported upstream (3.10 to 3.14), unless a floor is given."""


def universal_targets(requires_python: str | None, floor: str | None = None) -> tuple[str, ...]:
    """``--universal``: every common platform for each CPython from ``floor`` (``--python-version X.Y``:
    X.Y and newer, down to 3.8) or else 3.10, up to 3.14, that the project's ``requires-python`` admits
    (all of them without one); InputError when that leaves none."""
    minors = list(UNIVERSAL_PYTHONS)
    if floor is not None:
        major, minor, _full = parse_python_version(floor)
        if major != 3 or minor not in SUPPORTED_PYTHONS:
            raise InputError(
                f"--universal --python-version {floor}: CPython {major}.{minor} is not a supported target "
                "(3.8 to 3.14)"
            )
        minors = [m for m in SUPPORTED_PYTHONS if m >= minor]
    considered = f"CPython 3.{minors[0]} to 3.{minors[-1]}"
    if requires_python:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet  # lazy: only --universal

        try:
            allowed = SpecifierSet(requires_python)
        except InvalidSpecifier:
            raise InputError(f"pyproject.toml: requires-python {requires_python!r} is not valid") from None
        minors = [m for m in minors if allowed.contains(f"3.{m}", prereleases=True)]
    if not minors:
        raise InputError(
            f"--universal: requires-python {requires_python!r} admits none of {considered}",
            hint="name the targets with --target instead",
        )
    return tuple(f"cp3{m}-{platform}" for m in minors for platform in UNIVERSAL_PLATFORMS)
