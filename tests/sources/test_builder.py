"""PEP 517 builds from sdists in an isolated venv (the kit's sdists use an in-tree, stdlib-only backend)."""

from __future__ import annotations

import io
import tarfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import pytest
from pyproject_hooks import BuildBackendWarning

from envlock.errors import BuildError
from envlock.index.metadata import parse_core_metadata, wheel_metadata
from envlock.sources.builder import (
    _prepare,
    build_wheel,
    prepare_metadata,
    show_backend_warnings,
    unpack_sdist,
)
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


def _tar(path: Path, *members: tarfile.TarInfo) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for info in members:
            archive.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, *, link: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, size
    return info


@pytest.mark.parametrize(
    ("member", "needle"),
    [
        (_member("evil-1.0/link", tarfile.SYMTYPE, link="/etc/passwd"), "unsafe path"),
        (_member("evil-1.0/link", tarfile.SYMTYPE, link="../../outside"), "unsafe path"),
        (_member("evil-1.0/hard", tarfile.LNKTYPE, link="../outside"), "unsafe path"),
        (_member("/abs/evil.txt", size=1), "unsafe path"),
        (_member("evil-1.0/dev", tarfile.CHRTYPE), "device or pipe"),
        (_member("evil-1.0/fifo", tarfile.FIFOTYPE), "device or pipe"),
    ],
    ids=["abs-symlink", "climbing-symlink", "climbing-hardlink", "absolute", "device", "fifo"],
)
def test_hostile_sdist_members_are_refused(tmp_path: Path, member: tarfile.TarInfo, needle: str) -> None:
    sdist = _tar(tmp_path / "evil-1.0.tar.gz", _member("evil-1.0/setup.py", size=1), member)
    with pytest.raises(BuildError, match=needle):
        unpack_sdist(sdist, tmp_path / "x")
    assert not (tmp_path / "outside").exists() and not any((tmp_path / "x").iterdir())


def test_sdist_over_the_size_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVLOCK_MAX_UNPACKED_BYTES", "1000")
    sdist = _tar(tmp_path / "big-1.0.tar.gz", _member("big-1.0/blob", size=4000))
    with pytest.raises(BuildError, match="ENVLOCK_MAX_UNPACKED_BYTES"):
        unpack_sdist(sdist, tmp_path / "x")
    assert not any((tmp_path / "x").iterdir())


def test_backend_failure_is_build_error(tmp_path: Path) -> None:
    source = tmp_path / "bad-1.0"
    source.mkdir()
    (source / "pyproject.toml").write_text('[build-system]\nrequires = []\nbuild-backend = "nosuchbackend"\n')
    sdist = tmp_path / "bad-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(source, arcname="bad-1.0")
    with pytest.raises(BuildError, match=r"bad-1\.0\.tar\.gz: the build backend \(.*\) failed"):
        build_wheel(sdist, tmp_path / "out", install_requirements=no_requirements)


def test_backend_warnings_are_shown_only_when_verbose() -> None:
    # pyproject_hooks re-raises a backend's warnings (setuptools' license notices) in envlock's process.
    with warnings.catch_warnings(record=True) as caught:
        show_backend_warnings(False)
        warnings.warn_explicit("License classifiers are deprecated.", BuildBackendWarning, "dist.py", 765)
        assert caught == []
        show_backend_warnings(True)
        warnings.warn_explicit("License classifiers are deprecated.", BuildBackendWarning, "dist.py", 765)
        assert [str(w.message) for w in caught] == ["License classifiers are deprecated."]
