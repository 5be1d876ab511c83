"""Hostile input end to end: malicious wheels, index pages and locks through the real CLI.

Each attack must end in a non-zero exit with a one-line reason (never a traceback), the venv as it
was, and every file outside the venv and the cache untouched (docs/safety.md, "Threat model")."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.kit.dists import DistSpec, build_wheel
from tests.kit.hostile import raw_wheel
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sync_locks import file_entry, snapshot, write_lock_dict

VENV = Path(".venv")


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file outside the venv and the cache that no attack may change."""
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    return path


def lock_of(index: KitIndex, *wheels: tuple[str, str, Path], path: Path = Path("pylock.toml")) -> Path:
    """Serve each wheel on ``index`` and lock it as package ``name`` ``version``."""
    packages = []
    for name, version, wheel in wheels:
        index.add_file(wheel)
        packages.append({"name": name, "version": version, "wheels": [file_entry(index, wheel)]})
    return write_lock_dict(path, {"lock-version": "1.0", "created-by": "tests", "packages": packages})


def write_raw_lock(entry: dict[str, Any], path: Path = Path("pylock.toml")) -> Path:
    """A lock as a stranger may write it: no validation on the way (``write_lock_dict`` validates)."""
    wheels = ", ".join(
        "{"
        + ", ".join(
            f"{k} = {json.dumps(v)}"
            if not isinstance(v, dict)
            else f"{k} = {{sha256 = {json.dumps(v['sha256'])}}}"
            for k, v in w.items()
        )
        + "}"
        for w in entry["wheels"]
    )
    text = (
        'lock-version = "1.0"\ncreated-by = "stranger"\n\n[[packages]]\n'
        f"name = {json.dumps(entry['name'])}\nversion = {json.dumps(entry['version'])}\nwheels = [{wheels}]\n"
    )
    path.write_text(text)
    return path


def refused(result: Any, *needles: str, code: int | None = None) -> None:
    assert result.returncode != 0, result.stdout
    if code is not None:
        assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def synced_venv(index: KitIndex, run_envlock: RunEnvlock) -> dict[str, str]:
    """A venv synced from a good lock; returns its snapshot (what a refused sync must leave)."""
    good = build_wheel(DistSpec("good", "1.0"), index.root / "good")
    lock_of(index, ("good", "1.0", good), path=Path("good.toml"))
    result = run_envlock("sync", "good.toml", "--venv", VENV)
    assert result.returncode == 0, result.stderr
    return snapshot(VENV, ignore=(".envlock/lock",))


def sync_refused(run_envlock: RunEnvlock, before: dict[str, str], *needles: str) -> None:
    result = run_envlock("sync", "pylock.toml", "--venv", VENV)
    refused(result, *needles)
    assert snapshot(VENV, ignore=(".envlock/lock",)) == before


def wheel_refused(
    index: KitIndex, run_envlock: RunEnvlock, wheel: tuple[str, str, Path], *needles: str
) -> None:
    """Sync a good venv, then a lock of ``wheel``: refused, naming ``needles``, the venv unchanged."""
    before = synced_venv(index, run_envlock)
    lock_of(index, wheel)
    sync_refused(run_envlock, before, *needles)


# --- 1. a console-script name is a path ---------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "name"),
    [("console_scripts", "../../../victim.txt"), ("gui_scripts", "ABSOLUTE"), ("console_scripts", "a\\b")],
)
def test_entry_point_name_that_is_a_path_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, victim: Path, tmp_path: Path, section: str, name: str
) -> None:
    name = str(victim) if name == "ABSOLUTE" else name
    wheel = raw_wheel(tmp_path / "w", "evil", "1.0", entry_points=f"[{section}]\n{name} = evil:main\n")
    wheel_refused(kit_index, run_envlock, ("evil", "1.0", wheel), "evil", "entry-point script name")
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "work" / "victim.txt").exists()


@pytest.mark.parametrize("value", ["not a module path", "evil:main:extra", "evil.:main", ":main"])
def test_entry_point_value_that_is_not_module_attr_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path, value: str
) -> None:
    wheel = raw_wheel(tmp_path / "w", "evil", "1.0", entry_points=f"[console_scripts]\nevil = {value}\n")
    wheel_refused(kit_index, run_envlock, ("evil", "1.0", wheel), "evil-1.0-py3-none-any.whl")


def test_malformed_entry_points_file_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    wheel = raw_wheel(tmp_path / "w", "evil", "1.0", entry_points="[console_scripts]\nno delimiter here\n")
    wheel_refused(
        kit_index, run_envlock, ("evil", "1.0", wheel), "evil-1.0-py3-none-any.whl", "invalid wheel"
    )


# --- wheel members that escape, collide or claim the venv's own files ----------------------------


@pytest.mark.parametrize(
    ("member", "needle"),
    [
        ("../../../victim.txt", "climbs out"),
        ("evil/../../../../victim.txt", "climbs out"),
        ("evil-1.0.data/data/.envlock/stamp.json", "belongs to the environment"),
        ("evil-1.0.data/data/pyvenv.cfg", "belongs to the environment"),
        ("evil-1.0.data/scripts/python", "belongs to the environment"),
        ("evil-1.0.data/data/bin/python", "belongs to the environment"),
        ("evil-1.0.data/data/../../victim.txt", "climbs out"),
        ("/abs/victim.txt", "is absolute"),
        ("C:/victim.txt", "is absolute"),
        ("evil\\..\\..\\victim.txt", "backslash"),
        ("evil-1.0.data/nosuch/x.py", "not contained in a valid .data subdirectory"),
        # a line break in a member's name would forge a line of the sync's journal (which a killed
        # sync's recovery deletes): "file <any path of the venv>"
        ("evil/x.py\nfile /tmp/victim.txt", "control characters"),
        ("evil/tab\there.py", "control characters"),
    ],
)
def test_wheel_member_outside_its_place_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, victim: Path, tmp_path: Path, member: str, needle: str
) -> None:
    wheel = raw_wheel(tmp_path / "w", "evil", "1.0", {"evil/__init__.py": b"", member: b"owned\n"})
    wheel_refused(kit_index, run_envlock, ("evil", "1.0", wheel), "evil", needle)
    assert victim.read_text() == "precious\n"


def test_wheel_listing_a_file_twice_gets_a_clear_message(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    with pytest.warns(UserWarning):  # zipfile warns about the duplicate name it is told to write
        wheel = raw_wheel(tmp_path / "w", "evil", "1.0", [("evil/a.py", b"1"), ("evil/a.py", b"2")])
    before = synced_venv(kit_index, run_envlock)
    lock_of(kit_index, ("evil", "1.0", wheel))
    result = run_envlock("sync", "pylock.toml", "--venv", VENV)
    refused(result, "evil-1.0-py3-none-any.whl")
    assert "File exists" not in result.stderr
    assert snapshot(VENV, ignore=(".envlock/lock",)) == before


def test_file_where_a_folder_is_needed_gets_a_clear_message(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    wheel = raw_wheel(tmp_path / "w", "evil", "1.0", [("evil/a", b"1"), ("evil/a/b.py", b"2")])
    wheel_refused(kit_index, run_envlock, ("evil", "1.0", wheel), "evil/a/b.py", "collides")


# --- 6. RECORD and size claims inside a wheel -------------------------------------------------------


def test_wheel_file_that_does_not_match_its_record_hash_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    other = hashlib.sha256(b"something else").digest()
    import base64

    row = "sha256=" + base64.urlsafe_b64encode(other).decode().rstrip("=") + ",9"
    wheel = raw_wheel(
        tmp_path / "w", "evil", "1.0", {"evil/__init__.py": b"x = 1\nyy\n"}, record={"evil/__init__.py": row}
    )
    wheel_refused(kit_index, run_envlock, ("evil", "1.0", wheel), "evil/__init__.py", "RECORD")


def test_wheel_file_with_a_wrong_record_size_or_no_hash_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    wheel = raw_wheel(
        tmp_path / "w", "evil", "1.0", {"evil/__init__.py": b"x = 1\n"}, record={"evil/__init__.py": ","}
    )
    wheel_refused(kit_index, run_envlock, ("evil", "1.0", wheel), "evil/__init__.py", "RECORD")


def test_zip_bomb_is_refused_before_it_is_unpacked(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    zeros = bytes(80 << 20)  # 80 MiB of zeros: about 80 KiB compressed (ratio ~1000)
    wheel = raw_wheel(tmp_path / "w", "evil", "1.0", {"evil/__init__.py": b"", "evil/blob.bin": zeros})
    del zeros
    wheel_refused(kit_index, run_envlock, ("evil", "1.0", wheel), "zip bomb", "ENVLOCK_MAX_COMPRESSION_RATIO")
    unpacked = Path(str(tmp_path / "envlock-cache")) / "v1" / "unpacked"
    leftovers = list(unpacked.rglob("blob.bin")) if unpacked.exists() else []
    assert leftovers == []


def test_unpacked_size_cap_is_configurable(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    wheel = raw_wheel(tmp_path / "w", "big", "1.0", {"big/__init__.py": b"", "big/data.bin": bytes(3 << 20)})
    lock_of(kit_index, ("big", "1.0", wheel))
    result = run_envlock("sync", "--venv", VENV, env={"ENVLOCK_MAX_UNPACKED_BYTES": str(1 << 20)})
    refused(result, "big", "ENVLOCK_MAX_UNPACKED_BYTES")
    result = run_envlock("sync", "--venv", VENV)
    assert result.returncode == 0, result.stderr


# --- 6. the index's metadata must agree with the wheel ------------------------------------------------


def test_metadata_file_that_hides_a_dependency_is_caught_by_sync(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    kit_index.publish(DistSpec("app", "1.0", requires=("helper>=1",)), DistSpec("helper", "1.0"))
    wheel = "app-1.0-py3-none-any.whl"
    kit_index.replace_metadata(wheel, b"Metadata-Version: 2.1\nName: app\nVersion: 1.0\n")
    Path("requirements.in").write_text("app\n")
    compiled = run_envlock("compile", "--index-url", kit_index.url)
    assert compiled.returncode == 0, compiled.stderr
    assert 'name = "helper"' not in Path("pylock.toml").read_text()  # the lie steered the resolution
    result = run_envlock("sync", "--venv", VENV)
    refused(result, wheel, "helper>=1", "not in the lock")
    assert not VENV.exists()


def test_metadata_file_naming_another_version_is_caught(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    kit_index.publish(DistSpec("app", "1.0", requires_python=">=3.99"))
    kit_index.replace_metadata(
        "app-1.0-py3-none-any.whl", b"Metadata-Version: 2.1\nName: app\nVersion: 1.0\n"
    )
    Path("requirements.in").write_text("app\n")
    assert run_envlock("compile", "--index-url", kit_index.url).returncode == 0
    refused(run_envlock("sync", "--venv", VENV), "requires Python >=3.99")


# --- 7. a lock entry standing for another project -----------------------------------------------------


def test_lock_entry_whose_file_is_another_project_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    baz = build_wheel(DistSpec("baz", "1.0"), tmp_path / "w")
    kit_index.add_file(baz)
    entry = {"name": "qux", "version": "1.0", "wheels": [file_entry(kit_index, baz)]}
    write_raw_lock(entry)
    refused(run_envlock("sync", "--venv", VENV), "pylock.toml", "'qux'", code=2)
    assert not VENV.exists()


def test_lock_entry_whose_renamed_wheel_is_another_project_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    # The file is named like qux but is a build of baz (its METADATA says so).
    wheel = raw_wheel(tmp_path / "w", "qux", "1.0", {"baz/__init__.py": b""}, metadata_name="baz")
    wheel_refused(kit_index, run_envlock, ("qux", "1.0", wheel), "build of 'baz'", "not of 'qux'")


def test_lock_entry_whose_file_is_another_version_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    wheel = build_wheel(DistSpec("baz", "2.0"), tmp_path / "w")
    kit_index.add_file(wheel)
    write_raw_lock({"name": "baz", "version": "1.0", "wheels": [file_entry(kit_index, wheel)]})
    refused(run_envlock("sync", "--venv", VENV), "pylock.toml", "'1.0'", code=2)


# --- 3. a lock's sha256 becomes a path ------------------------------------------------------------------


def test_lock_sha256_made_of_path_segments_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    precious = tmp_path / "precious-folder"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep\n")
    sha = "../../../precious-folder"
    sha = "./" * ((64 - len(sha)) // 2) + sha
    assert len(sha) == 64
    wheel = build_wheel(DistSpec("baz", "1.0"), tmp_path / "w")
    kit_index.add_file(wheel)
    entry = {
        "name": "baz",
        "version": "1.0",
        "wheels": [{**file_entry(kit_index, wheel), "hashes": {"sha256": sha}}],
    }
    write_raw_lock(entry)
    refused(run_envlock("sync", "--venv", VENV), "'baz'", "not 64 hex digits", code=2)
    assert (precious / "keep.txt").read_text() == "keep\n"


def test_lock_file_name_that_is_a_path_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    wheel = build_wheel(DistSpec("baz", "1.0"), tmp_path / "w")
    kit_index.add_file(wheel)
    entry = {
        "name": "baz",
        "version": "1.0",
        "wheels": [
            {
                **file_entry(kit_index, wheel),
                "name": None,
                "url": kit_index.base_url + "/files/..%2F..%2Fbaz-1.0-py3-none-any.whl",
            }
        ],
    }
    entry["wheels"][0].pop("name")
    write_raw_lock(entry)
    refused(run_envlock("sync", "--venv", VENV), "../../baz-1.0-py3-none-any.whl", code=2)


def test_lock_url_with_a_local_scheme_is_refused(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    wheel = build_wheel(DistSpec("baz", "1.0"), tmp_path / "w")
    kit_index.add_file(wheel)
    entry = {
        "name": "baz",
        "version": "1.0",
        "wheels": [{**file_entry(kit_index, wheel), "url": wheel.as_uri()}],
    }
    write_raw_lock(entry)
    refused(run_envlock("sync", "--venv", VENV), "'baz'", "file:", code=2)


# --- 2, 4, 5. hostile index pages ---------------------------------------------------------------------


def _html(*links: str) -> bytes:
    return ("<html><body>" + "".join(links) + "</body></html>").encode()


def compile_refused(run_envlock: RunEnvlock, index: KitIndex, *needles: str) -> None:
    Path("requirements.in").write_text("evil\n")
    result = run_envlock("compile", "--index-url", index.url)
    refused(result, *needles)
    assert not Path("pylock.toml").exists()


def test_hash_fragment_that_is_a_path_never_names_a_file(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    wheel = build_wheel(DistSpec("evil", "1.0"), tmp_path / "w")
    kit_index.add_file(wheel)
    target = tmp_path / "planted"
    href = f"{kit_index.file_url(wheel.name)}#sha256={target}"
    link = f'<a href="{href}" data-core-metadata="true">{wheel.name}</a>'
    kit_index.serve_page("evil", "text/html", _html(link))
    compile_refused(run_envlock, kit_index, "/simple/evil/", "not hexadecimal")
    assert not Path(f"{target}.json").exists()
    assert not any(p.name.startswith("planted") for p in tmp_path.iterdir())


def test_remote_page_may_not_link_local_files(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    wheel = build_wheel(DistSpec("evil", "1.0"), tmp_path / "w")
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    kit_index.serve_page(
        "evil", "text/html", _html(f'<a href="{wheel.as_uri()}#sha256={sha}">{wheel.name}</a>')
    )
    compile_refused(run_envlock, kit_index, "/simple/evil/", "'file'")
    document = {
        "meta": {"api-version": "1.0"},
        "name": "evil",
        "files": [{"filename": wheel.name, "url": wheel.as_uri(), "hashes": {"sha256": sha}}],
    }
    kit_index.serve_page("evil", "application/vnd.pypi.simple.v1+json", json.dumps(document).encode())
    compile_refused(run_envlock, kit_index, "/simple/evil/", "'file'")


@pytest.mark.parametrize(
    "document",
    [
        {"files": 5},
        {"files": [5]},
        {"files": None},
        [],
        {"files": [{"filename": "evil-1.0-py3-none-any.whl", "url": "x.whl", "hashes": ["sha256", "x"]}]},
        {"files": [{"filename": "evil-1.0-py3-none-any.whl", "url": "x.whl", "hashes": {"sha256": 5}}]},
        {"files": [{"filename": "evil-1.0-py3-none-any.whl", "url": 7, "hashes": {}}]},
        {"files": [{"filename": "evil-1.0-py3-none-any.whl", "url": "x.whl", "hashes": {"sha256": "zz"}}]},
        {"files": [{"filename": "../evil-1.0-py3-none-any.whl", "url": "x.whl", "hashes": {}}]},
    ],
    ids=lambda d: json.dumps(d)[:40],
)
def test_malformed_json_page_gets_a_clear_error(
    kit_index: KitIndex, run_envlock: RunEnvlock, document: Any
) -> None:
    kit_index.serve_page("evil", "application/vnd.pypi.simple.v1+json", json.dumps(document).encode())
    compile_refused(run_envlock, kit_index, "/simple/evil/")


def test_json_page_with_odd_optional_fields_still_works(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    (path,) = kit_index.publish(DistSpec("evil", "1.0"))
    sha = kit_index.sha256(path.name)
    entry = {
        "filename": path.name,
        "url": kit_index.file_url(path.name),
        "hashes": {"sha256": sha.upper()},
        "size": "big",
        "requires-python": 3,
        "upload-time": 17,
        "core-metadata": {"sha256": "not hex"},
        "yanked": False,
    }
    document = {"meta": {"api-version": "1.1"}, "name": "evil", "files": [entry]}
    kit_index.serve_page("evil", "application/vnd.pypi.simple.v1+json", json.dumps(document).encode())
    Path("requirements.in").write_text("evil\n")
    result = run_envlock("compile", "--index-url", kit_index.url)
    assert result.returncode == 0, result.stderr
    assert sha in Path("pylock.toml").read_text()


def test_wheel_whose_zip_is_broken_gets_a_clear_message(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    broken = tmp_path / "w" / "evil-1.0-py3-none-any.whl"
    broken.parent.mkdir()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("evil/__init__.py", b"")  # no dist-info, no RECORD
    before = synced_venv(kit_index, run_envlock)
    lock_of(kit_index, ("evil", "1.0", broken))
    sync_refused(run_envlock, before, "evil-1.0-py3-none-any.whl")


def test_check_deep_reports_a_record_row_outside_the_venv(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    synced_venv(kit_index, run_envlock)
    (record,) = VENV.glob("lib/python*/site-packages/good-1.0.dist-info/RECORD")
    stat = record.stat()
    text = record.read_text()
    outside = "../../../../vict"  # as long as "good/__init__.py": RECORD keeps its size (and mtime below)
    assert "good/__init__.py," in text
    record.write_text(text.replace("good/__init__.py,", outside + ","))
    os.utime(record, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    planted = Path(os.path.normpath(record.parent.parent / outside))
    planted.write_bytes((record.parent.parent / "good" / "__init__.py").read_bytes())  # its hash matches
    assert run_envlock("check", "--venv", VENV).returncode == 0  # the stamp's cheap identity still holds
    result = run_envlock("check", "--deep", "--venv", VENV)
    assert result.returncode == 1, result.stdout
    assert "outside the environment" in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["sync", "import"])
def test_lock_or_hashed_file_that_is_a_device_is_refused(run_envlock: RunEnvlock, command: str) -> None:
    result = run_envlock(command, "/dev/zero", *(["--venv", VENV] if command == "sync" else ["-o", "x.toml"]))
    refused(result, "/dev/zero", "not a regular file", code=2)


# --- sync --target SPEC --into DIR: the same wheels, installed by installer into a folder ----------------


@pytest.mark.parametrize(
    ("files", "entry_points"),
    [
        ({"evil/__init__.py": b"", "../../../victim.txt": b"owned\n"}, None),
        ({"evil/__init__.py": b"", "evil-1.0.data/data/../../victim.txt": b"owned\n"}, None),
        ({"evil/__init__.py": b"", "/abs/victim.txt": b"owned\n"}, None),
        ({"evil/__init__.py": b""}, "[console_scripts]\n../../../victim.txt = evil:main\n"),
    ],
    ids=["climbs", "data-climbs", "absolute", "script-name"],
)
def test_into_refuses_a_wheel_that_writes_outside_the_folder(
    kit_index: KitIndex,
    run_envlock: RunEnvlock,
    victim: Path,
    tmp_path: Path,
    files: dict[str, bytes],
    entry_points: str | None,
) -> None:
    wheel = raw_wheel(tmp_path / "w", "evil", "1.0", files, entry_points=entry_points)
    lock_of(kit_index, ("evil", "1.0", wheel))
    target = f"cp3{sys.version_info[1]}-linux-x86_64"
    refused(run_envlock("sync", "--target", target, "--into", "out"), "evil-1.0-py3-none-any.whl")
    assert victim.read_text() == "precious\n"
    assert not Path("out").exists()
    assert not [p for p in Path().iterdir() if p.name.startswith(".out.")]
