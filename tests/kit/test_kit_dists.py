"""Tests of the kit's distribution factory: valid, deterministic wheels and sdists that real tools install."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile
from packaging.metadata import Metadata
from packaging.utils import parse_sdist_filename, parse_wheel_filename

from tests.kit import dists
from tests.kit.dists import DistSpec, build_all, build_sdist, build_wheel
from tests.kit.index import KitIndex
from tests.kit.plugin import PythonMap, VenvFactory
from tests.kit.venvs import venv_bin, venv_python

TOOL = DistSpec(
    "Kit.Tool",
    "1.2.3",
    requires=("kit-dep>=1", "extra-only; extra == 'fancy'"),
    extras=("fancy",),
    requires_python=">=3.8",
    files={
        "kit_tool/__init__.py": b"from kit_dep import VALUE\n\ndef main():\n    print('tool says', VALUE)\n",
        "kit_tool/data.txt": b"payload\n",
    },
    console_scripts={"kit-tool": "kit_tool:main"},
    data={
        "scripts": {"kit-raw-script": b"#!/bin/sh\necho raw script ran\n"},
        "headers": {"kit_tool.h": b"#define KIT_TOOL 1\n"},
        "data": {"share/kit-tool/readme.txt": b"shared data\n"},
    },
)
DEP = DistSpec("kit_dep", "1.0", files={"kit_dep.py": b"VALUE = 42\n"}, wheel=False, sdist=True)


def record_rows(archive: zipfile.ZipFile, dist_info: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(archive.read(f"{dist_info}/RECORD").decode())))


def test_wheel_is_valid_per_pep_427(tmp_path: Path) -> None:
    path = build_wheel(TOOL, tmp_path)
    assert path.name == "kit_tool-1.2.3-py3-none-any.whl"
    assert parse_wheel_filename(path.name)[:2] == ("kit-tool", parse_wheel_filename(path.name)[1])
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        info = "kit_tool-1.2.3.dist-info"
        assert names[-1] == f"{info}/RECORD"
        assert {f"{info}/METADATA", f"{info}/WHEEL", f"{info}/entry_points.txt"} <= set(names)
        assert "kit_tool-1.2.3.data/scripts/kit-raw-script" in names
        metadata = Metadata.from_email(archive.read(f"{info}/METADATA"), validate=True)
        assert (metadata.name, str(metadata.version)) == ("Kit.Tool", "1.2.3")
        assert metadata.metadata_version == "2.1"
        assert [str(r) for r in metadata.requires_dist or []] == [
            "kit-dep>=1",
            'extra-only; extra == "fancy"',
        ]
        assert metadata.provides_extra == ["fancy"]
        assert str(metadata.requires_python) == ">=3.8"
        wheel = archive.read(f"{info}/WHEEL").decode()
        assert "Wheel-Version: 1.0\n" in wheel
        assert "Root-Is-Purelib: true\n" in wheel
        assert "Tag: py3-none-any\n" in wheel
        assert "Generator: " in wheel
        assert archive.read(f"{info}/entry_points.txt") == b"[console_scripts]\nkit-tool = kit_tool:main\n"
        rows = record_rows(archive, info)
        assert sorted(r[0] for r in rows) == sorted(names)
        for name, digest, size in rows:
            if name.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            content = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}"
            assert int(size) == len(content)
        mode = archive.getinfo("kit_tool-1.2.3.data/scripts/kit-raw-script").external_attr >> 16
        assert mode & 0o111


def test_default_content_and_name_escaping(tmp_path: Path) -> None:
    spec = DistSpec("Odd-Name.Here", "2.0")
    path = build_wheel(spec, tmp_path)
    assert path.name == "odd_name_here-2.0-py3-none-any.whl"
    with zipfile.ZipFile(path) as archive:
        init = archive.read("odd_name_here/__init__.py").decode()
        assert '__version__ = "2.0"' in init
        assert "odd_name_here-2.0.dist-info/METADATA" in archive.namelist()
    assert spec.import_name == "odd_name_here"


def test_tags_compressed_and_platform(tmp_path: Path) -> None:
    spec = DistSpec("plat", "1.0", tags=("py2.py3-none-any", "cp311-cp311-manylinux_2_17_x86_64"))
    pure, platform = build_all(spec, tmp_path)
    assert pure.name == "plat-1.0-py2.py3-none-any.whl"
    assert {str(t) for t in parse_wheel_filename(pure.name)[3]} == {"py2-none-any", "py3-none-any"}
    with zipfile.ZipFile(pure) as archive:
        wheel = archive.read("plat-1.0.dist-info/WHEEL").decode()
    assert "Tag: py2-none-any\nTag: py3-none-any\n" in wheel
    with zipfile.ZipFile(platform) as archive:
        wheel = archive.read("plat-1.0.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false\n" in wheel
    assert "Tag: cp311-cp311-manylinux_2_17_x86_64\n" in wheel


def test_build_all_respects_wheel_and_sdist_switches(tmp_path: Path) -> None:
    assert [p.name for p in build_all(DistSpec("a", "1", sdist=True), tmp_path)] == [
        "a-1-py3-none-any.whl",
        "a-1.tar.gz",
    ]
    assert [p.name for p in build_all(DistSpec("b", "1", wheel=False, sdist=True), tmp_path)] == [
        "b-1.tar.gz"
    ]
    assert build_all(DistSpec("c", "1", wheel=False), tmp_path) == []


def test_builds_are_deterministic(tmp_path: Path) -> None:
    first = [p.read_bytes() for p in build_all(DistSpec("same", "1.0", sdist=True), tmp_path / "one")]
    dists._MEMO.clear()
    second = [p.read_bytes() for p in build_all(DistSpec("same", "1.0", sdist=True), tmp_path / "two")]
    assert first == second
    other = build_wheel(DistSpec("same", "1.0", requires=("x",)), tmp_path / "three").read_bytes()
    assert other != first[0]


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match=r"unknown \.data schemes"):
        DistSpec("x", "1", data={"bin": {"a": b""}})
    with pytest.raises(TypeError):
        DistSpec("x", "1", requires="dep")  # type: ignore[arg-type]


def test_sdist_layout(tmp_path: Path) -> None:
    path = build_sdist(TOOL, tmp_path)
    assert path.name == "kit_tool-1.2.3.tar.gz"
    assert parse_sdist_filename(path.name)[0] == "kit-tool"
    with tarfile.open(path) as archive:
        names = archive.getnames()
        pyproject = archive.extractfile("kit_tool-1.2.3/pyproject.toml")
        pkg_info = archive.extractfile("kit_tool-1.2.3/PKG-INFO")
        assert pyproject is not None
        assert pkg_info is not None
        pyproject_text = pyproject.read().decode()
        metadata = Metadata.from_email(pkg_info.read(), validate=True)
    assert "kit_tool-1.2.3/_kit_backend/kit_backend.py" in names
    assert 'backend-path = ["_kit_backend"]' in pyproject_text
    assert "requires = []" in pyproject_text
    assert metadata.name == "Kit.Tool"


def test_in_tree_backend_rebuilds_identical_artifacts(tmp_path: Path, available_pythons: PythonMap) -> None:
    """Run the PEP 517 hooks in a subprocess (oldest Python here); compare with the kit's own builds."""
    sdist = build_sdist(TOOL, tmp_path / "sdist")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "src", filter="data")
    source = tmp_path / "src" / "kit_tool-1.2.3"
    out = tmp_path / "out"
    (out / "meta").mkdir(parents=True)
    script = (
        "import json, sys\n"
        "sys.path.insert(0, '_kit_backend')\n"
        "import kit_backend as b\n"
        "out = sys.argv[1]\n"
        "print(json.dumps([b.get_requires_for_build_wheel(), b.get_requires_for_build_sdist(),\n"
        "    b.prepare_metadata_for_build_wheel(out + '/meta'), b.build_wheel(out), b.build_sdist(out)]))\n"
    )
    pythons = [p for v, p in available_pythons.items() if tuple(map(int, v.split("."))) >= (3, 8)]
    python = str(pythons[0]) if pythons else sys.executable
    result = subprocess.run(
        [python, "-I", "-c", script, str(out)], cwd=source, capture_output=True, text=True, check=True
    )
    requires_wheel, requires_sdist, info, wheel_name, sdist_name = json.loads(result.stdout)
    assert (requires_wheel, requires_sdist) == ([], [])
    assert info == "kit_tool-1.2.3.dist-info"
    expected_wheel = build_wheel(TOOL, tmp_path / "expected")
    with zipfile.ZipFile(expected_wheel) as archive:
        assert (out / "meta" / info / "METADATA").read_bytes() == archive.read(f"{info}/METADATA")
    assert wheel_name == expected_wheel.name
    assert (out / wheel_name).read_bytes() == expected_wheel.read_bytes()
    with tarfile.open(out / sdist_name) as rebuilt, tarfile.open(sdist) as original:
        assert rebuilt.getnames() == original.getnames()
        for member in original.getmembers():
            if member.isfile():
                left, right = rebuilt.extractfile(member.name), original.extractfile(member)
                assert left is not None
                assert right is not None
                assert left.read() == right.read()


def test_pip_wheel_builds_the_sdist_offline_with_isolation(tmp_path: Path) -> None:
    sdist = build_sdist(TOOL, tmp_path / "sdist")
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-index",
        "--wheel-dir",
        str(tmp_path / "w"),
    ]
    subprocess.run([*command, str(sdist)], capture_output=True, text=True, check=True, timeout=120)
    built = tmp_path / "w" / "kit_tool-1.2.3-py3-none-any.whl"
    assert built.read_bytes() == build_wheel(TOOL, tmp_path / "expected").read_bytes()


def venv_scheme(venv: Path, project: str) -> dict[str, str]:
    python = venv_python(venv)
    code = "import json, sys, sysconfig; print(json.dumps([sysconfig.get_paths(), sys.version_info[:2]]))"
    paths, (major, minor) = json.loads(
        subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
    )
    headers = venv / "include" / "site" / f"python{major}.{minor}" / project
    return {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "scripts": paths["scripts"],
        "data": paths["data"],
        "headers": str(headers),
    }


def assert_tool_works(venv: Path) -> None:
    python = str(venv_python(venv))
    imported = subprocess.run(
        [python, "-c", "import kit_tool, kit_dep; print(kit_dep.VALUE)"], capture_output=True, text=True
    )
    assert imported.stdout.strip() == "42", imported.stderr
    script = subprocess.run([str(venv_bin(venv) / "kit-tool")], capture_output=True, text=True, check=True)
    assert script.stdout.strip() == "tool says 42"
    raw = subprocess.run([str(venv_bin(venv) / "kit-raw-script")], capture_output=True, text=True, check=True)
    assert raw.stdout.strip() == "raw script ran"
    headers = list(venv.glob("include/site/python*/*/kit_tool.h"))  # pip names the folder as requested
    assert [h.read_bytes() for h in headers] == [b"#define KIT_TOOL 1\n"]
    assert (venv / "share" / "kit-tool" / "readme.txt").read_bytes() == b"shared data\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX script checks")
def test_installer_library_installs_into_a_real_venv(tmp_path: Path, venv_factory: VenvFactory) -> None:
    venv = venv_factory()
    assert not (venv_bin(venv) / "pip").exists()
    wheels = [build_wheel(TOOL, tmp_path / "dist")]
    dep_sdist = build_sdist(DEP, tmp_path / "sdist")  # only an sdist: pip builds it with the in-tree backend
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-index",
            "-w",
            str(tmp_path / "dist"),
            str(dep_sdist),
        ],
        capture_output=True,
        check=True,
    )
    wheels.append(tmp_path / "dist" / "kit_dep-1.0-py3-none-any.whl")
    for wheel in wheels:
        project = wheel.name.split("-")[0]
        scheme = venv_scheme(venv, project)
        destination = SchemeDictionaryDestination(
            scheme, interpreter=str(venv_python(venv)), script_kind="posix", bytecode_optimization_levels=()
        )
        with WheelFile.open(wheel) as source:
            install(source, destination, {"INSTALLER": b"kit-test\n"})
    assert_tool_works(venv)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX script checks")
def test_pip_installs_from_kit_index_and_find_links(
    tmp_path: Path, venv_factory: VenvFactory, kit_index: KitIndex
) -> None:
    kit_index.publish(TOOL, DEP)  # DEP is an sdist only: pip builds it with the in-tree backend, isolated
    build_wheel(DistSpec("loose", "0.1", tags=("py2.py3-none-any",)), tmp_path / "wheelhouse")
    venv = venv_factory(with_pip=True)
    python = str(venv_python(venv))
    command = [python, "-m", "pip", "install", "--index-url", kit_index.url]
    command += ["--find-links", str(tmp_path / "wheelhouse"), "kit.tool", "loose"]
    subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)
    pip = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True, check=True)
    if tuple(int(part) for part in pip.stdout.split()[1].split(".")[:2]) >= (23, 1):  # PEP 714 support
        assert f"/files/{dists.wheel_filename(TOOL)}.metadata" in kit_index.requested_paths()
    assert "/simple/loose/" in kit_index.requested_paths(), "asked the index, found it in find-links"
    assert_tool_works(venv)
    result = subprocess.run([python, "-c", "import loose; loose.main()"], capture_output=True, text=True)
    assert result.stdout.strip() == "loose 0.1"
