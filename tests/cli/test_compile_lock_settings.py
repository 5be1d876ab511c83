"""The settings a lock was compiled with are the defaults of a later ``compile`` and ``compile --check`` of
it (issue 22, item 2): extras, groups, ``--exclude-newer``, ``--python-version`` and the index are kept
without their flags, a check asking for other ones names them (never "pyproject.toml changed"), a new
lock holds the project's ``dev`` group, and the result line says which extras and groups a lock holds."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from envlock.cli.compile import command
from envlock.inputs.freshness import FRESH, verdict
from envlock.inputs.settings import CompileSettings, describe, flag
from envlock.lock.lockfile import read_lock
from envlock.tomlshim import tomllib
from tests.cli.test_compile_cli import basic
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import KitIndexFactory, RunEnvlock

PYPROJECT = """\
[project]
name = "app"
version = "1"
dependencies = ["beta"]

[project.optional-dependencies]
fast = ["alpha"]
docs = ["gamma"]

[dependency-groups]
dev = ["delta"]
test = ["gamma"]
"""

CUTOFF = "2030-01-01T00:00:00Z"


def publish(index: KitIndex) -> None:
    basic(index)
    index.publish(DistSpec("gamma", "1.0"), DistSpec("delta", "1.0"))


@pytest.fixture
def project(kit_index: KitIndex, isolated: Path) -> KitIndex:
    """A pyproject project with extras and groups (its requirements.in asks for something else)."""
    publish(kit_index)
    (isolated / "pyproject.toml").write_text(PYPROJECT)
    (isolated / "requirements.in").write_text("delta\n")
    return kit_index


def settings_args(index: KitIndex) -> tuple[str, ...]:
    """A compile with every kind of setting the issue met: extras, groups, a cutoff, a Python version,
    the index URL without its trailing ``/``, and a source other than the default one."""
    return (
        "pyproject.toml",
        "--index-url",
        index.url.rstrip("/"),
        "--extra",
        "fast",
        "--group",
        "test",
        "--exclude-newer",
        CUTOFF,
        "--python-version",
        "3.12",
    )


def packages(lock: Path = Path("pylock.toml")) -> list[str]:
    return sorted(p.name for p in read_lock(lock).packages)


def test_a_check_or_compile_without_flags_uses_the_lock_s_settings(
    project: KitIndex, run_envlock: RunEnvlock
) -> None:
    said = run_envlock("compile", *settings_args(project), check=True).stdout
    assert "extras fast; groups test" in said, said
    assert packages() == ["alpha", "beta", "gamma"]
    check = run_envlock("compile", "--check", check=True)
    assert check.stdout == "pylock.toml is up to date with pyproject.toml (extras fast; groups test)\n"
    # the index URL as written elsewhere (a trailing "/"), the other settings as the lock has them
    for args in (("--index-url", project.url), ("--extra", "fast", "--python-version", "3.12")):
        run_envlock("compile", "--check", *args, check=True)
    kept = run_envlock("compile", check=True).stdout
    assert "inputs unchanged" in kept and "extras fast; groups test" in kept, kept
    run_envlock("compile", "-U", check=True)  # an upgrade keeps them too
    assert packages() == ["alpha", "beta", "gamma"]
    recorded = tomllib.loads(Path("pylock.toml").read_text())["tool"]["envlock"]["settings"]
    assert recorded["python-version"] == "3.12" and recorded["extras"] == ["fast"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--extra", "docs"), "compiled with --extra fast, this check asks for --extra docs"),
        (("--group", "dev"), "compiled with --group test, this check asks for --group dev"),
        (
            ("--exclude-newer", "2029-01-01"),
            f"--exclude-newer {CUTOFF}, this check asks for --exclude-newer 2029",
        ),
        (("--python-version", "3.11"), "--python-version 3.12, this check asks for --python-version 3.11"),
        (("--pre",), "compiled with no --pre, this check asks for --pre"),
        (("requirements.in",), "sources pyproject.toml, this check asks for sources requirements.in"),
        (("--index-url", "OTHER"), "this check asks for --index-url http://127.0.0.1"),
    ],
)
def test_a_check_asking_for_other_settings_names_them(
    args: tuple[str, ...],
    named: str,
    project: KitIndex,
    kit_index_factory: KitIndexFactory,
    run_envlock: RunEnvlock,
) -> None:
    run_envlock("compile", *settings_args(project), check=True)
    if "OTHER" in args:
        other = kit_index_factory()
        publish(other)
        args = ("--index-url", other.url)
    stale = run_envlock("compile", "--check", *args)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert stale.stderr.startswith("error: pylock.toml was compiled with ") and named in stale.stderr
    assert "changed since" not in stale.stderr and "Traceback" not in stale.stderr
    assert "hint: check without those options" in stale.stderr


def test_a_new_lock_holds_the_dev_group_unless_told_otherwise(
    project: KitIndex, run_envlock: RunEnvlock
) -> None:
    index = ("pyproject.toml", "--index-url", project.url)
    said = run_envlock("compile", *index, check=True).stdout
    assert "no extras; groups dev" in said, said
    assert packages() == ["beta", "delta"]
    assert read_lock(Path("pylock.toml")).dependency_groups == ["dev"]
    run_envlock("compile", *index, "--no-default-groups", check=True)
    assert packages() == ["beta"]
    said = run_envlock("compile", check=True).stdout  # the lock's choice: still no group
    assert "no extras; no groups" in said and packages() == ["beta"], said
    run_envlock("compile", *index, "--reset-settings", "--extra", "fast", check=True)
    assert packages() == ["alpha", "beta", "delta"]  # as a new lock: the dev group again


def test_settings_are_dropped_only_when_asked(project: KitIndex, run_envlock: RunEnvlock) -> None:
    run_envlock("compile", *settings_args(project), check=True)
    run_envlock("compile", "--group", "dev", check=True)  # a flag given replaces that setting alone
    assert packages() == ["alpha", "beta", "delta"]
    run_envlock("compile", "pyproject.toml", "--reset-settings", "--index-url", project.url, check=True)
    assert packages() == ["beta", "delta"]  # as a new lock: no extra, the dev group
    recorded = tomllib.loads(Path("pylock.toml").read_text())["tool"]["envlock"]["settings"]
    assert "exclude-newer" not in recorded and "python-version" not in recorded


def test_a_lock_without_recorded_settings_is_judged_by_the_command_line_alone(
    project: KitIndex, run_envlock: RunEnvlock
) -> None:
    """A lock of envlock 0.1 or another tool has no ``[tool.envlock.settings]``: nothing is taken from
    it, and no dev group is added to it (as before)."""
    run_envlock("compile", "pyproject.toml", "--index-url", project.url, "--extra", "fast", check=True)
    lock = Path("pylock.toml")
    text = lock.read_text()
    start = text.index("[tool.envlock.settings]")
    end = text.index("[tool.envlock.settings.target]")
    lock.write_text(text[:start] + text[end:].replace("[tool.envlock.settings.target]", "[tool.other]"))
    stale = run_envlock("compile", "--check", "pyproject.toml", "--index-url", project.url)
    assert stale.returncode == 1 and "pyproject.toml changed since" in stale.stderr, stale.stderr
    run_envlock("compile", "pyproject.toml", "--index-url", project.url, check=True)
    assert packages() == ["beta"]


def test_sync_leaves_the_default_groups_out_when_told(project: KitIndex, run_envlock: RunEnvlock) -> None:
    """The dev group a new lock holds is one of its default-groups: a production sync leaves it out."""
    run_envlock("compile", "pyproject.toml", "--index-url", project.url, check=True)
    run_envlock("sync", check=True)
    said = run_envlock("sync", "--no-default-groups", check=True).stdout
    assert "-1 removed" in said, said
    assert "-1 removed" not in run_envlock("sync", "--no-default-groups", check=True).stdout


def test_every_setting_is_named_by_the_flag_that_gives_it() -> None:
    """A check naming a setting names the option a user types (``settings.flag``)."""
    options = {option for param in command.params for option in param.opts}
    for field in dataclasses.fields(CompileSettings):
        if field.name not in ("sources", "target"):
            assert flag(field.name) in options, field.name
    settings = CompileSettings(sources=("a.in", "b.in"), extras=("x", "y"), pre=True)
    assert describe(settings, "extras") == "--extra x --extra y"
    assert describe(settings, "pre") == "--pre"
    assert describe(settings, "groups") == "no --group"
    assert describe(settings, "sources") == "sources a.in, b.in"
    assert describe(settings, "exclude_newer") == "no --exclude-newer"


def test_a_settings_table_of_the_wrong_shape_is_named(project: KitIndex, run_envlock: RunEnvlock) -> None:
    run_envlock("compile", "pyproject.toml", "--index-url", project.url, "--extra", "fast", check=True)
    lock = Path("pylock.toml")
    head, table = lock.read_text().split("[tool.envlock.settings]")
    lock.write_text(head + "[tool.envlock.settings]" + table.replace('extras = ["fast"]', 'extras = "fast"'))
    for args in (("compile",), ("compile", "--check"), ("compile", "-U")):
        broken = run_envlock(*args)
        assert broken.returncode == 2, broken.stderr
        assert "pylock.toml [tool.envlock.settings]: extras must be a list of strings" in broken.stderr
        assert "--reset-settings" in broken.stderr and "Traceback" not in broken.stderr
    run_envlock("compile", "pyproject.toml", "--reset-settings", "--index-url", project.url, check=True)


def test_the_lock_s_settings_come_before_tool_envlock(project: KitIndex, run_envlock: RunEnvlock) -> None:
    """A setting the lock records was a command line: it wins over ``[tool.envlock]``, which still
    decides what the lock leaves unset (as ``envlock check`` judges it)."""
    table = f'\n[tool.envlock]\nindex-url = "{project.url}"\nextras = ["docs"]\n'
    Path("pyproject.toml").write_text(PYPROJECT + table)
    run_envlock("compile", "pyproject.toml", check=True)
    assert packages() == ["beta", "delta", "gamma"]  # [tool.envlock] extras: docs
    Path("pyproject.toml").write_text(PYPROJECT + table.replace('"docs"', '"fast"'))
    stale = run_envlock("compile", "--check")
    assert stale.returncode == 1 and "pyproject.toml changed since" in stale.stderr, stale.stderr
    run_envlock("compile", check=True)
    assert packages() == ["alpha", "beta", "delta"]  # the lock recorded no extra: the table's
    run_envlock("compile", "--extra", "docs", check=True)
    said = run_envlock("compile", check=True).stdout
    assert "extras docs; groups dev" in said and packages() == ["beta", "delta", "gamma"], said
    assert verdict(Path("pylock.toml"), os.environ).state == FRESH  # envlock check's judge agrees


TARGET = "cp312-linux-x86_64"


def lock_table(key: str) -> dict[str, object]:
    table: dict[str, object] = tomllib.loads(Path("pylock.toml").read_text())["tool"]["envlock"][key]
    return table


def test_each_setting_is_recorded_once(project: KitIndex, run_envlock: RunEnvlock) -> None:
    """``--target`` and ``--exclude-newer`` are in ``[tool.envlock.settings]`` alone: not also as the
    target's identity, nor among the options written for humans (issue 27)."""
    args = ("pyproject.toml", "--index-url", project.url, "--target", TARGET, "--exclude-newer", CUTOFF)
    run_envlock("compile", *args, check=True)
    settings, options = lock_table("settings"), lock_table("options")
    assert settings["targets"] == [TARGET] and settings["exclude-newer"] == CUTOFF
    assert "target" not in settings and "exclude-newer" not in options, (settings, options)
    assert set(options) == {"indexes", "targets"}
    assert run_envlock("compile", "--check", check=True).stdout.startswith("pylock.toml is up to date")
    assert "inputs unchanged" in run_envlock("compile", check=True).stdout
    assert verdict(Path("pylock.toml"), os.environ).state == FRESH


def earlier_form(extra_options: str, extra_settings: str = "") -> bytes:
    """The lock as the envlock before issue 27 wrote it: the same settings, some of them twice."""
    lock = Path("pylock.toml")
    text = lock.read_text()
    text = text.replace("[tool.envlock.options]\n", "[tool.envlock.options]\n" + extra_options, 1)
    lock.write_text(text + extra_settings)
    return lock.read_bytes()


def test_a_lock_of_the_earlier_form_still_syncs_checks_and_is_kept(
    project: KitIndex, run_envlock: RunEnvlock
) -> None:
    """A lock written by the previous envlock (``--exclude-newer`` also among the options, ``--target``
    also as the target's identity) is read as the same settings: ``compile --check`` says up to date, a
    plain compile keeps it byte for byte, sync and check take it."""
    args = ("pyproject.toml", "--index-url", project.url, "--extra", "fast", "--exclude-newer", CUTOFF)
    run_envlock("compile", *args, check=True)
    old = earlier_form(f'exclude-newer = "{CUTOFF}"\n')
    check = run_envlock("compile", "--check", check=True)
    assert check.stdout == "pylock.toml is up to date with pyproject.toml (extras fast; groups dev)\n"
    assert "inputs unchanged" in run_envlock("compile", check=True).stdout
    assert Path("pylock.toml").read_bytes() == old
    run_envlock("sync", check=True)
    assert run_envlock("check", check=True).returncode == 0
    assert verdict(Path("pylock.toml"), os.environ).state == FRESH

    run_envlock(
        "compile", "pyproject.toml", "--reset-settings", "--index-url", project.url, "--target", TARGET
    )
    old = earlier_form("", f'\n[tool.envlock.settings.target]\ntargets = "{TARGET}"\n')
    assert run_envlock("compile", "--check", check=True).stdout.startswith("pylock.toml is up to date")
    assert "inputs unchanged" in run_envlock("compile", check=True).stdout
    assert Path("pylock.toml").read_bytes() == old
    assert verdict(Path("pylock.toml"), os.environ).state == FRESH
    stale = run_envlock("compile", "--check", "--target", "cp311-linux-x86_64")
    assert stale.returncode == 1 and "compiled with --target cp312-linux-x86_64" in stale.stderr, stale.stderr
