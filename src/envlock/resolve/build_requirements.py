"""The build requirements of a PEP 517 build, resolved from the indexes of an index client for the build
venv's Python (wheels only, no recursive sdist builds), downloaded hash-checked and installed with
``installer``: the ``BuildRequirementsInstaller`` compile and sync hand to ``sources.builder``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from installer import install as install_wheel
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile
from packaging.requirements import InvalidRequirement, Requirement

from envlock.env.interpreter import environment_for, probe
from envlock.errors import BuildError
from envlock.inputs.config import ALL, InputRequirement, ResolverOptions
from envlock.resolve.models import ResolveRequest
from envlock.resolve.resolver import resolve

if TYPE_CHECKING:
    from envlock.index.client import IndexClient
    from envlock.sources.builder import BuildRequirementsInstaller


def index_build_installer(client: IndexClient) -> BuildRequirementsInstaller:
    """Build requirements resolved from ``client``'s indexes for the build venv's Python (wheels only,
    no recursive sdist builds), downloaded hash-checked, installed with ``installer``."""

    def install(requirements: Sequence[str], env_python: Path) -> None:
        info = probe(env_python)
        target = environment_for(info)
        parsed = []
        for text in requirements:
            try:
                parsed.append(InputRequirement(Requirement(text), "build requirement"))
            except InvalidRequirement as error:
                raise BuildError(f"invalid build requirement {text!r}: {error}") from None
        resolution = resolve(
            client,
            ResolveRequest(
                requirements=tuple(parsed),
                target=target,
                options=ResolverOptions(only_binary=frozenset({ALL})),
            ),
        )
        scheme = info.scheme.as_dict()
        destination = SchemeDictionaryDestination(
            scheme, interpreter=str(env_python), script_kind="posix" if os.name != "nt" else "win-amd64"
        )
        rank = target.tag_rank
        for pin in resolution.pins:
            wheels = sorted(
                (f for f in pin.files if f.is_wheel and any(t in rank for t in f.tags)),
                key=lambda f: min(rank.get(t, 1 << 30) for t in f.tags),
            )
            if not wheels:
                raise BuildError(f"build requirement {pin.name} {pin.version} has no wheel for {env_python}")
            path = client.download(wheels[0])
            with WheelFile.open(path) as source:
                install_wheel(source, destination, {"INSTALLER": b"envlock"})

    return install
