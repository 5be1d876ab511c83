"""Distribution factory: real, deterministic wheels and sdists from a small ``DistSpec``."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.kit import _builder

__all__ = [
    "DistSpec",
    "build_all",
    "build_sdist",
    "build_wheel",
    "normalize",
    "sdist_filename",
    "wheel_filename",
]

normalize = _builder.normalize

DATA_SCHEMES = frozenset({"scripts", "headers", "data", "purelib", "platlib"})


@dataclass(frozen=True)
class DistSpec:
    """What a distribution contains; the same spec always builds the same bytes."""

    name: str
    version: str
    requires: tuple[str, ...] = ()
    """Requires-Dist values (PEP 508, may carry ``; extra == 'x'`` markers)."""
    extras: tuple[str, ...] = ()
    """Provides-Extra values."""
    requires_python: str | None = None
    tags: tuple[str, ...] = ("py3-none-any",)
    """One wheel per tag string; compressed tag sets such as ``py2.py3-none-any`` are allowed."""
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Files relative to site-packages; empty means ``<import_name>/__init__.py`` with ``__version__``
    and a ``main()`` printing ``"<name> <version>"``."""
    console_scripts: Mapping[str, str] = field(default_factory=dict)
    """Script name -> ``"module:func"``."""
    data: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)
    """``.data/<scheme>/<path>`` contents; scheme in scripts, headers, data, purelib, platlib."""
    wheel: bool = True
    sdist: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.data) - DATA_SCHEMES
        if unknown:
            raise ValueError(f"unknown .data schemes {sorted(unknown)}; use {sorted(DATA_SCHEMES)}")
        if isinstance(self.requires, str) or isinstance(self.extras, str) or isinstance(self.tags, str):
            raise TypeError("requires, extras and tags are tuples of strings, not a string")

    @property
    def import_name(self) -> str:
        return _builder.import_name(self.name)

    def to_kit_spec(self) -> dict[str, Any]:
        """The JSON-able form the stdlib builder (and the in-tree backend of the sdist) works on."""

        def encode(files: Mapping[str, bytes]) -> dict[str, str]:
            return {path: base64.b64encode(files[path]).decode("ascii") for path in sorted(files)}

        return {
            "name": self.name,
            "version": self.version,
            "requires": list(self.requires),
            "extras": list(self.extras),
            "requires_python": self.requires_python,
            "tags": list(self.tags),
            "files": encode(self.files),
            "console_scripts": dict(sorted(self.console_scripts.items())),
            "data": {scheme: encode(self.data[scheme]) for scheme in sorted(self.data)},
        }


# Built archives by (spec JSON, kind, tag): builds are deterministic, so a process-wide memo is safe.
_MEMO: dict[tuple[str, str, str], tuple[str, bytes]] = {}


def _key(spec: DistSpec) -> str:
    return json.dumps(spec.to_kit_spec(), sort_keys=True)


def _backend_source() -> bytes:
    return Path(_builder.__file__).read_bytes()


def wheel_filename(spec: DistSpec, tag: str | None = None) -> str:
    return _builder.wheel_filename(spec.to_kit_spec(), tag or spec.tags[0])


def sdist_filename(spec: DistSpec) -> str:
    return _builder.sdist_filename(spec.to_kit_spec())


def _write(out_dir: Path, filename: str, content: bytes) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / filename
    if not target.exists() or target.read_bytes() != content:
        partial = out_dir / f".{filename}.part"
        partial.write_bytes(content)
        partial.replace(target)
    return target


def build_wheel(spec: DistSpec, out_dir: Path, tag: str | None = None) -> Path:
    """Write the wheel for ``tag`` (default: the spec's first tag) into ``out_dir``; returns its path."""
    tag = tag or spec.tags[0]
    key = (_key(spec), "wheel", tag)
    if key not in _MEMO:
        kit_spec = spec.to_kit_spec()
        _MEMO[key] = (_builder.wheel_filename(kit_spec, tag), _builder.wheel_bytes(kit_spec, tag))
    filename, content = _MEMO[key]
    return _write(out_dir, filename, content)


def build_sdist(spec: DistSpec, out_dir: Path) -> Path:
    """Write ``{name}-{version}.tar.gz`` with an in-tree, stdlib-only PEP 517 backend into ``out_dir``."""
    key = (_key(spec), "sdist", "")
    if key not in _MEMO:
        kit_spec = spec.to_kit_spec()
        _MEMO[key] = (_builder.sdist_filename(kit_spec), _builder.sdist_bytes(kit_spec, _backend_source()))
    filename, content = _MEMO[key]
    return _write(out_dir, filename, content)


def build_all(spec: DistSpec, out_dir: Path) -> list[Path]:
    """Wheels for every tag (if ``spec.wheel``) and the sdist (if ``spec.sdist``)."""
    paths = [build_wheel(spec, out_dir, tag) for tag in spec.tags] if spec.wheel else []
    if spec.sdist:
        paths.append(build_sdist(spec, out_dir))
    return paths
