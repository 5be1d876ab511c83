"""PEP 517 builds from sdists in an isolated venv (the kit's sdists use an in-tree, stdlib-only backend)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from envlock.builder import _prepare, build_wheel, prepare_metadata, unpack_sdist
from envlock.errors import BuildError
from envlock.index import parse_core_metadata, wheel_metadata
from tests.kit.dists import DistSpec, build_sdist


def no_requirements(requirements: Sequence[str], python: Path) -> None:
    assert not requirements, requirements


def test_build_wheel_from_sdist(tmp_path: Path) -> None:
    sdist = build_sdist(DistSpec("gamma", "1.0", requires=("beta>=1",), wheel=False, sdist=True), tmp_path)
    wheel = build_wheel(sdist, tmp_path / "out", install_requirements=no_requirements)
    assert wheel.name.startswith("gamma-1.0-") and wheel.suffix == ".whl"
    assert parse_core_metadata(wheel_metadata(wheel, wheel.name), "gamma").requires_dist == ("beta>=1",)


def test_prepare_metadata_runs_the_backend(tmp_path: Path) -> None:
    sdist = build_sdist(DistSpec("gamma", "1.0", requires=("beta",), wheel=False, sdist=True), tmp_path)
    assert parse_core_metadata(
        prepare_metadata(sdist, install_requirements=no_requirements), "gamma"
    ).requires_dist == ("beta",)
    hooks, _ = _prepare(sdist, tmp_path / "b", no_requirements, None, for_metadata=True)
    out = tmp_path / "meta"
    out.mkdir()
    name = hooks.prepare_metadata_for_build_wheel(str(out), _allow_fallback=True)
    assert (out / name / "METADATA").is_file()


def test_unsafe_archive_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil-1.0.tar.gz"
    with tarfile.open(evil, "w:gz") as archive:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(BuildError, match="unsafe path"):
        unpack_sdist(evil, tmp_path / "x")


def test_backend_failure_is_build_error(tmp_path: Path) -> None:
    source = tmp_path / "bad-1.0"
    source.mkdir()
    (source / "pyproject.toml").write_text('[build-system]\nrequires = []\nbuild-backend = "nosuchbackend"\n')
    sdist = tmp_path / "bad-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(source, arcname="bad-1.0")
    with pytest.raises(BuildError, match=r"bad-1\.0\.tar\.gz: the build backend failed"):
        build_wheel(sdist, tmp_path / "out", install_requirements=no_requirements)
