"""Fixtures of the sync tests: a real venv and its layout, synced to exactly the given kit distributions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from envlock.env.site_packages import scan
from envlock.models.artifacts import Artifact, InstalledDist, SelectedPackage, Selection
from envlock.sync.executor import ExecuteOptions, apply
from envlock.sync.layout import InstallLayout
from envlock.sync.planner import plan
from tests.kit.dists import DistSpec, build_wheel
from tests.kit.plugin import VenvFactory
from tests.kit.sync_locks import probe_venv
from tests.kit.venvs import venv_python


def selected(spec: DistSpec, wheel: Path) -> SelectedPackage:
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return SelectedPackage(spec.name, spec.version, Artifact(wheel.name, sha, path=wheel))


class Target:
    """A real venv with its layout; ``sync(*specs)`` applies the plan for exactly those specs."""

    def __init__(self, venv: Path, wheels: Path) -> None:
        self.venv = venv
        self.wheels = wheels
        self.info = probe_venv(venv_python(venv))
        self.layout = InstallLayout.for_interpreter(self.info, root=venv)

    def installed(self) -> tuple[InstalledDist, ...]:
        return scan(self.layout.site_dirs)

    def sync(
        self, *specs: DistSpec, broken: Path | None = None, options: ExecuteOptions | None = None
    ) -> None:
        packages = []
        artifacts = {}
        for spec in specs:
            wheel = build_wheel(spec, self.wheels)
            package = selected(spec, wheel)
            if broken is not None and spec.name == "broken":
                wheel = broken
            packages.append(package)
            artifacts[package.artifact.sha256] = wheel
        the_plan = plan(Selection(tuple(sorted(packages, key=lambda p: p.name))), self.installed())
        apply(the_plan, artifacts, self.layout, options or ExecuteOptions())

    @property
    def site(self) -> Path:
        return Path(self.layout.scheme["purelib"])


@pytest.fixture
def target(venv_factory: VenvFactory, tmp_path: Path) -> Target:
    return Target(venv_factory(), tmp_path / "wheels")


def versions(target: Target) -> dict[str, str]:
    return {d.name: d.version for d in target.installed()}
