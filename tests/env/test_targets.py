"""Targets as data (``env.targets``): the short forms people type, their marker values and wheel tags,
and clear errors for anything else."""

from __future__ import annotations

import pytest
from packaging.markers import Marker

from envlock.env.targets import parse_target, parse_targets, spec_for, target_environment
from envlock.errors import InputError


@pytest.mark.parametrize(
    ("text", "canonical", "platform", "machine"),
    [
        ("cp311-linux-x86_64", "cp311-linux-x86_64", "linux", "x86_64"),
        ("CP311-linux-amd64", "cp311-linux-x86_64", "linux", "x86_64"),
        ("cp312-manylinux_2_17-aarch64", "cp312-manylinux_2_17-aarch64", "linux", "aarch64"),
        ("cp310-musllinux-arm64", "cp310-musllinux-aarch64", "linux", "aarch64"),
        ("cp312-windows-amd64", "cp312-windows-amd64", "win32", "AMD64"),
        ("cp313-windows-arm64", "cp313-windows-arm64", "win32", "ARM64"),
        ("cp313-macos-arm64", "cp313-macos-arm64", "darwin", "arm64"),
        ("cp314-macos_14_0-x86_64", "cp314-macos_14_0-x86_64", "darwin", "x86_64"),
    ],
)
def test_short_forms(text: str, canonical: str, platform: str, machine: str) -> None:
    spec = parse_target(text)
    assert spec.text == canonical
    env = target_environment(spec)
    assert env.markers["sys_platform"] == platform
    assert env.markers["platform_machine"] == machine
    assert env.python_version == f"3.{spec.minor}"
    # the form that names such a machine (for "add this machine" hints): the default platform floors
    assert spec_for(env) == canonical.replace("manylinux_2_17", "linux").replace("macos_14_0", "macos")


def test_tags_rank_the_target_platform_first_and_never_another() -> None:
    windows = target_environment(parse_target("cp312-windows-amd64"))
    assert windows.tags[0] == "cp312-cp312-win_amd64"
    assert "cp312-abi3-win_amd64" in windows.tags and "py3-none-any" in windows.tags
    assert not any("linux" in t or "macosx" in t for t in windows.tags)
    linux = target_environment(parse_target("cp311-linux-x86_64"))
    assert linux.tags[0] == "cp311-cp311-manylinux_2_28_x86_64"
    assert "cp311-cp311-manylinux2014_x86_64" in linux.tags and "cp311-cp311-manylinux1_x86_64" in linux.tags
    assert "cp311-cp311-manylinux_2_31_x86_64" not in linux.tags  # newer than the glibc floor
    assert not any("musllinux" in t for t in linux.tags)
    mac = target_environment(parse_target("cp313-macos-arm64"))
    assert mac.tags[0] == "cp313-cp313-macosx_12_0_arm64"
    assert "cp313-cp313-macosx_11_0_universal2" in mac.tags
    assert "cp313-cp313-macosx_14_0_arm64" not in mac.tags


def test_markers_evaluate_like_such_a_machine() -> None:
    windows = dict(target_environment(parse_target("cp312-windows-amd64")).markers)
    assert Marker('sys_platform == "win32" and os_name == "nt"').evaluate(windows)
    assert Marker('platform_system == "Windows" and python_full_version >= "3.12"').evaluate(windows)
    mac = dict(target_environment(parse_target("cp310-macos-x86_64")).markers)
    assert Marker('platform_system == "Darwin" and python_version < "3.11"').evaluate(mac)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("cp27-linux-x86_64", "is not a target"),
        ("py3-linux-x86_64", "is not a target"),
        ("cp37-linux-x86_64", "CPython 3.7 is not a supported target"),
        ("cp311-windows-ppc64le", "architecture 'ppc64le' (windows has amd64, arm64)"),
        ("cp311-solaris-x86_64", "is not a target"),
        ("cp311-linux-x86_64; rm -rf /", "is not a target"),
    ],
)
def test_bad_targets_are_named(text: str, needle: str) -> None:
    with pytest.raises(InputError) as info:
        parse_target(text, "pyproject.toml [tool.envlock] targets")
    assert needle in info.value.message
    assert info.value.message.startswith("pyproject.toml [tool.envlock] targets: ")


def test_each_target_once_in_the_order_given() -> None:
    specs = parse_targets(("cp312-windows-amd64", "cp311-linux-amd64", "cp311-linux-x86_64"), "--target")
    assert [s.text for s in specs] == ["cp312-windows-amd64", "cp311-linux-x86_64"]


def test_targets_a_lock_cannot_tell_apart_are_refused() -> None:
    with pytest.raises(
        InputError, match="cp311-linux-x86_64 and cp311-musllinux-x86_64 have the same marker"
    ):
        parse_targets(("cp311-linux-x86_64", "cp311-musllinux-x86_64"), "--target")
