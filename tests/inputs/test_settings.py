"""Compile settings as data: each setting is recorded in the lock, read back as fresh (by ``check``, and
by ``compile --check`` with the same command line or none: the lock's settings are its defaults), and a
change of it is stale (for ``compile --check`` without the lock's settings, and for ``check`` when the
recorded value is edited)."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest

from envlock.inputs.freshness import FRESH, STALE, verdict
from envlock.inputs.settings import CompileSettings
from envlock.tomlshim import tomllib
from tests.kit.dists import DistSpec, build_wheel
from tests.kit.index import KitIndex
from tests.kit.plugin import KitIndexFactory, RunEnvlock

ANOTHER_PYTHON = "3.11" if sys.version_info[:2] == (3, 12) else "3.12"
"""A --python-version other than the running Python's (that one is the default, so no change)."""

# One case per field of CompileSettings: the command-line arguments that give it a non-default value.
CASES: dict[str, list[str]] = {
    "sources": ["pyproject.toml"],
    "index_url": ["--index-url", "{second}"],
    "extra_index_urls": ["--extra-index-url", "{second}"],
    "find_links": ["--find-links", "wheels"],
    "pre": ["--pre"],
    "only_binary": ["--only-binary", "alpha"],
    "no_binary": ["--no-binary", "gamma"],
    "extras": ["pyproject.toml", "--extra", "x"],
    "groups": ["pyproject.toml", "--group", "dev"],
    "exclude_newer": ["--exclude-newer", "2030-01-01T00:00:00Z"],
    "target": ["--python-version", ANOTHER_PYTHON],
    "python_version": ["--python-version", ANOTHER_PYTHON],
    "targets": ["--target", "cp312-windows-amd64", "--target", "cp313-macos-arm64"],
    "universal": ["--universal"],
}


def test_every_setting_has_a_case() -> None:
    assert sorted(CASES) == sorted(f.name for f in dataclasses.fields(CompileSettings))


@pytest.fixture
def project(kit_index_factory: KitIndexFactory) -> tuple[KitIndex, KitIndex]:
    first, second = kit_index_factory(), kit_index_factory()
    specs = (DistSpec("alpha", "1.0"), DistSpec("alpha", "2.0b1"), DistSpec("beta", "1.0"))
    for index in (first, second):
        index.publish(*specs)
    Path("requirements.in").write_text("alpha\nbeta\n")  # not what pyproject.toml asks for
    Path("pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\ndependencies = ["alpha"]\n'
        '[project.optional-dependencies]\nx = ["beta"]\n'
        '[dependency-groups]\ndev = ["beta"]\n'
        f'[tool.envlock]\nindex-url = "{first.url}"\n'
    )
    build_wheel(DistSpec("beta", "1.0"), Path("wheels"))
    return first, second


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_setting_reads_back_fresh_and_its_change_is_stale(
    project: tuple[KitIndex, KitIndex], run_envlock: RunEnvlock, name: str
) -> None:
    args = [a.format(second=project[1].url) for a in CASES[name]]
    compiled = run_envlock("compile", *args)
    assert compiled.returncode == 0, compiled.stderr
    lock = Path("pylock.toml")
    recorded = tomllib.loads(lock.read_text())["tool"]["envlock"]["settings"]
    assert name.replace("_", "-") in recorded, recorded  # recorded as data, not as words
    assert verdict(lock, os.environ).state == FRESH
    assert run_envlock("compile", "--check", *args).returncode == 0
    assert run_envlock("compile", "--check").returncode == 0  # the lock's settings, sources included
    # The same inputs without the setting compile to another fingerprint: --check says stale.
    without = ["pyproject.toml"] if "pyproject.toml" in args and name != "sources" else []
    stale = run_envlock("compile", "--check", "--reset-settings", "--no-default-groups", *without)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "Traceback" not in stale.stderr


def test_an_edited_recorded_setting_is_stale(
    project: tuple[KitIndex, KitIndex], run_envlock: RunEnvlock
) -> None:
    assert run_envlock("compile", "--pre").returncode == 0
    lock = Path("pylock.toml")
    assert verdict(lock, os.environ).state == FRESH
    text = lock.read_text()
    assert "pre = true" in text
    lock.write_text(text.replace("pre = true", "pre = false"))
    assert verdict(lock, os.environ).state == STALE


def test_settings_round_trip_through_the_lock_table() -> None:
    settings = CompileSettings(
        sources=("requirements.in",),
        index_url="https://example.org/simple/",
        extra_index_urls=("https://other.example/simple/",),
        find_links=("wheels",),
        pre=True,
        only_binary=(":all:",),
        no_binary=("gamma",),
        extras=("x",),
        groups=("dev",),
        target={"implementation_name": "cpython", "python_version": "3.12"},
    )
    assert CompileSettings.from_tool(settings.to_tool()) == settings
    assert CompileSettings().to_tool() == {}
    with pytest.raises(ValueError, match="pre must be true or false"):
        CompileSettings.from_tool({"pre": "yes"})
    with pytest.raises(ValueError, match="unknown settings"):
        CompileSettings.from_tool({"surprise": 1})


def test_credentials_never_reach_the_recorded_settings(tmp_path: Path) -> None:
    settings = CompileSettings(
        index_url="https://user:secret@example.org/simple/", extra_index_urls=("https://t@x.example/s/",)
    )
    recorded = settings.for_lock(tmp_path, tmp_path).to_tool()
    assert "secret" not in str(recorded) and "t@" not in str(recorded)


def test_a_command_line_takes_the_lock_s_settings_for_what_it_leaves_unset(tmp_path: Path) -> None:
    recorded = CompileSettings(
        sources=("pyproject.toml",),
        index_url="https://example.org/simple/",
        find_links=("wheels",),
        extras=("x",),
        groups=("dev",),
        exclude_newer="2024-01-01",
        python_version="3.12",
    )
    lock_dir, here = tmp_path / "locks", tmp_path
    lock_dir.mkdir()
    bare = CompileSettings().with_lock(recorded, lock_dir, here, target_named=False)
    assert bare.sources == ("locks/pyproject.toml",) and bare.find_links == (str(lock_dir / "wheels"),)
    assert (bare.extras, bare.groups, bare.python_version) == (("x",), ("dev",), "3.12")
    assert bare.for_lock(lock_dir, here).to_tool() == recorded.to_tool()  # the same request again
    given = CompileSettings(index_url="https://user:token@example.org/simple", extras=("y",), targets=("t",))
    mixed = given.with_lock(recorded, lock_dir, here, target_named=False)
    assert mixed.index_url == "https://user:token@example.org/simple/"  # its credentials, the lock's "/"
    assert (mixed.extras, mixed.groups, mixed.python_version) == (("y",), ("dev",), None)
    assert CompileSettings().with_lock(recorded, lock_dir, here, target_named=True).python_version is None
    requirements = CompileSettings(sources=("requirements.in",)).with_lock(
        recorded, lock_dir, here, target_named=False
    )
    assert (requirements.extras, requirements.groups) == ((), ())  # nothing of pyproject.toml to select
