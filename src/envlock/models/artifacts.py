"""The frozen values every stage shares: an artifact of the lock, the packages selected for a target and an
installed distribution (lock/ selects them, index/ fetches them, env/ reads them, sync/ installs them)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envlock.validate import redact

if TYPE_CHECKING:  # a sync of wheels never loads the sources' model (its regexes, hashlib): ~2 ms
    from envlock.models.source import Source


class ArtifactKind(str, enum.Enum):
    """What a selected artifact is, which decides how it is installed."""

    WHEEL = "wheel"
    SDIST = "sdist"
    SOURCE = "source"
    """A project folder or git commit, built into a wheel by sync (``sync.source_builds``)."""


@dataclass(frozen=True)
class Artifact:
    """One file of the lock chosen for the target: where to get it and what its bytes must hash to."""

    filename: str
    """File name (``name-1.0-py3-none-any.whl``); decides the kind."""
    sha256: str
    """The sha256 the lock promises (lower-case hex)."""
    url: str | None = None
    """Where to download it; may carry credentials, which are never printed (``http.redact``)."""
    path: Path | None = None
    """A local file (the lock's ``path``, made absolute against the lock's folder)."""
    size: int | None = None
    """Byte size the lock promises, checked while streaming when given."""
    origin: Source | None = None
    """A project folder or git commit to build (``sha256`` is then its identity: ``sources.tree``'s
    digest of the folder, or ``Source.key()`` of the commit), not a file to fetch."""

    @property
    def kind(self) -> ArtifactKind:
        if self.origin is not None:
            return ArtifactKind.SOURCE
        return ArtifactKind.WHEEL if self.filename.endswith(".whl") else ArtifactKind.SDIST

    @property
    def source(self) -> str:
        """A printable location (URL without credentials or path)."""
        if self.origin is not None:
            return self.origin.shown()
        return redact(self.url) if self.url else str(self.path)


@dataclass(frozen=True)
class SelectedPackage:
    """A package the lock wants in the target, with the one artifact to install it from."""

    name: str
    """Normalized project name (PEP 503)."""
    version: str
    """The locked version; ``""`` for a project folder (PEP 751: a source tree's version can change)."""
    artifact: Artifact
    direct: bool = False
    """Installed from a URL or path rather than an index: ``direct_url.json`` (PEP 610) is written."""


@dataclass(frozen=True)
class Selection:
    """Everything the lock wants installed in one target environment, sorted by name."""

    packages: tuple[SelectedPackage, ...]

    def by_name(self) -> dict[str, SelectedPackage]:
        return {package.name: package for package in self.packages}


@dataclass(frozen=True)
class InstalledDist:
    """One ``*.dist-info`` folder found in the target's site-packages."""

    name: str
    """Normalized project name (from METADATA, else from the folder name)."""
    version: str
    dist_info: Path
    installer: str | None = None
    """Contents of INSTALLER (``envlock``, ``pip``, ``uv`` ...), or None when absent."""
    artifact_sha256: str | None = None
    """The sha256 of the artifact it was installed from, as recorded by envlock (``envlock.json``)
    or by PEP 610 ``direct_url.json`` ``archive_info.hashes``; None when unknown."""
    direct_url: Mapping[str, Any] | None = None
    """Parsed ``direct_url.json`` (PEP 610), when present."""
    problems: tuple[str, ...] = ()
    """Why it cannot be trusted: no METADATA, no RECORD, files missing or changed, a second dist-info."""

    @property
    def is_broken(self) -> bool:
        return bool(self.problems)
