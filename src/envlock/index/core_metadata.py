"""The parts of a distribution's core metadata the resolver needs, and their JSON form in the metadata
cache. Apart from reading them (``index.metadata``): a warm compile finds every metadata parsed in the
cache and so never imports the reading code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CoreMetadata:
    """The parts of a distribution's core metadata the resolver needs."""

    name: str
    version: str
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> CoreMetadata:
        raw = json.loads(data)
        return cls(
            name=raw["name"],
            version=raw["version"],
            requires_dist=tuple(raw["requires_dist"]),
            requires_python=raw["requires_python"],
            provides_extra=tuple(raw["provides_extra"]),
        )
