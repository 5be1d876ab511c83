"""site_packages.scan: installed distributions and what makes one untrustworthy."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from envlock.env.site_packages import record_entries, scan, verify_record


def record_row(site: Path, rel: str) -> str:
    data = (site / rel).read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{rel},sha256={digest},{len(data)}"


def make_dist(
    site: Path,
    name: str,
    version: str,
    *,
    installer: str | None = "envlock",
    metadata: bool = True,
    record: bool = True,
    files: dict[str, bytes] | None = None,
    extra: dict[str, str] | None = None,
) -> Path:
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    files = files if files is not None else {f"{name.replace('-', '_')}/__init__.py": b"x = 1\n"}
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
    if metadata:
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody\nName: no\n"
        )
    if installer is not None:
        (dist_info / "INSTALLER").write_text(installer + "\n")
    for filename, text in (extra or {}).items():
        (dist_info / filename).write_text(text)
    if record:
        rows = [record_row(site, rel) for rel in files]
        rows += [record_row(site, f"{dist_info.name}/{p.name}") for p in sorted(dist_info.iterdir())]
        rows.append(f"{dist_info.name}/RECORD,,")
        (dist_info / "RECORD").write_text("\n".join(rows) + "\n")
    return dist_info


def test_scan_reads_name_version_installer_and_marker(tmp_path: Path) -> None:
    make_dist(tmp_path, "Foo.Bar", "1.0", extra={"envlock.json": json.dumps({"sha256": "ab" * 32})})
    make_dist(tmp_path, "zed", "2.0", installer="pip")
    dists = scan([tmp_path, tmp_path])
    assert [(d.name, d.version, d.installer) for d in dists] == [
        ("foo-bar", "1.0", "envlock"),
        ("zed", "2.0", "pip"),
    ]
    assert dists[0].artifact_sha256 == "ab" * 32
    assert dists[1].artifact_sha256 is None
    assert not any(d.problems for d in dists)


def test_direct_url_hash_is_read(tmp_path: Path) -> None:
    direct = {"url": "file:///x.whl", "archive_info": {"hashes": {"sha256": "cd" * 32}}}
    make_dist(tmp_path, "foo", "1", installer="pip", extra={"direct_url.json": json.dumps(direct)})
    (dist,) = scan([tmp_path])
    assert dist.artifact_sha256 == "cd" * 32
    assert dist.direct_url == direct


def test_missing_metadata_and_record_are_problems(tmp_path: Path) -> None:
    make_dist(tmp_path, "nometa", "1", metadata=False)
    make_dist(tmp_path, "norecord", "2", record=False)
    dists = {d.name: d for d in scan([tmp_path])}
    assert dists["nometa"].problems == ("no METADATA",)
    assert dists["nometa"].version == "1"  # from the folder name
    assert dists["norecord"].problems == ("no RECORD",)


def test_two_dist_infos_for_one_project(tmp_path: Path) -> None:
    make_dist(tmp_path, "dup", "1")
    make_dist(tmp_path, "dup", "2", files={})
    dists = scan([tmp_path])
    assert [d.version for d in dists] == ["1", "2"]
    assert all("several dist-info folders" in d.problems[0] for d in dists)


def test_verify_finds_missing_and_changed_files(tmp_path: Path) -> None:
    dist_info = make_dist(tmp_path, "pkg", "1", files={"pkg/a.py": b"a", "pkg/b.py": b"bb", "pkg/c.py": b"c"})
    assert scan([tmp_path], verify=True)[0].problems == ()
    (tmp_path / "pkg/a.py").unlink()
    (tmp_path / "pkg/b.py").write_bytes(b"xx")  # same size, other bytes
    (tmp_path / "pkg/c.py").write_bytes(b"longer")
    assert verify_record(dist_info) == ["changed b.py", "changed c.py", "missing a.py"]
    assert scan([tmp_path])[0].problems == ()  # without verify only metadata is read
    assert scan([tmp_path], verify=True)[0].is_broken


def test_record_entries_resolve_against_site(tmp_path: Path) -> None:
    dist_info = make_dist(tmp_path, "pkg", "1")
    paths = [e.path for e in record_entries(dist_info)]
    assert tmp_path / "pkg" / "__init__.py" in paths
    assert dist_info / "RECORD" in paths
    assert record_entries(tmp_path / "missing.dist-info") == []


def test_missing_site_dir_is_empty(tmp_path: Path) -> None:
    assert scan([tmp_path / "nope"]) == ()
