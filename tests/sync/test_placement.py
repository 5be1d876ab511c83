"""placement: where a plan's wheels put their files, the folders they need, and who writes a shared path."""

from __future__ import annotations

from pathlib import Path

from envlock.sync.placement import claim, place
from envlock.sync.unpacked_model import UnpackedFile
from envlock.sync.wheel_store import UnpackedWheel

ROOT = "/venv"
SCHEME = {
    "purelib": "/venv/lib/python3.11/site-packages",
    "platlib": "/venv/lib/python3.11/site-packages",
    "scripts": "/venv/bin",
    "data": "/venv",
    "headers": "/venv/include/site/python3.11",
}


def wheel(name: str, *paths: tuple[str, str]) -> UnpackedWheel:
    files = tuple(UnpackedFile(scheme, path, "sha256=x", 1, False, False, 0) for scheme, path in paths)
    dist_info = f"{name}-1.0.dist-info"
    files += (UnpackedFile("purelib", f"{dist_info}/METADATA", "sha256=x", 1, False, False, 0),)
    return UnpackedWheel(
        Path("/store") / name, "0" * 64, f"{name}-1.0-py3-none-any.whl", dist_info, "purelib", files, ()
    )


def test_files_go_to_their_scheme_and_the_dist_info_to_staging() -> None:
    where = place(
        wheel("pkg", ("purelib", "pkg/a/b.py"), ("headers", "pkg.h")), SCHEME, ROOT, "/venv/.envlock/tmp/x-d"
    )
    assert [target for _f, target in where.files] == [
        "/venv/lib/python3.11/site-packages/pkg/a/b.py",
        "/venv/include/site/python3.11/pkg/pkg.h",
    ]
    assert [target for _f, target in where.staged] == ["/venv/.envlock/tmp/x-d/METADATA"]
    assert where.staged_folders == ("/venv/.envlock/tmp/x-d",)
    assert where.dist_info == "/venv/lib/python3.11/site-packages/pkg-1.0.dist-info"


def test_every_folder_below_the_root_is_listed_parents_first() -> None:
    where = place(wheel("pkg", ("purelib", "pkg/a/b.py"), ("purelib", "pkg-extra/c.py")), SCHEME, ROOT, "/t")
    assert list(where.folders) == [
        "/venv/lib",
        "/venv/lib/python3.11",
        "/venv/lib/python3.11/site-packages",
        "/venv/lib/python3.11/site-packages/pkg",
        "/venv/lib/python3.11/site-packages/pkg-extra",
        "/venv/lib/python3.11/site-packages/pkg/a",
    ]
    for index, folder in enumerate(where.folders):  # a folder's parent is the root or listed before it
        parent = folder.rpartition("/")[0]
        assert parent == ROOT or parent in where.folders[:index]


def test_a_path_two_wheels_ship_is_left_to_the_last() -> None:
    first = place(wheel("a", ("purelib", "a.py"), ("purelib", "shared/x.py")), SCHEME, ROOT, "/t/1")
    second = place(wheel("b", ("purelib", "b.py"), ("purelib", "shared/x.py")), SCHEME, ROOT, "/t/2")
    a, b = claim([first, second])
    shared = "/venv/lib/python3.11/site-packages/shared/x.py"
    assert a.skipped == {shared} and shared not in a.announced
    assert not b.skipped and shared in b.announced
    assert claim([first, place(wheel("c", ("purelib", "c.py")), SCHEME, ROOT, "/t/3")]) == [
        first,
        place(wheel("c", ("purelib", "c.py")), SCHEME, ROOT, "/t/3"),
    ]
