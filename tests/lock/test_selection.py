"""selection.select: PEP 751 selection for a target, and the errors that name what failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envlock.env.interpreter import TargetEnvironment, current_environment
from envlock.errors import InputError, LockFileError, TargetEnvironmentError
from envlock.inputs.config import ALL
from envlock.lock.lockfile import lock_from_dict
from envlock.lock.selection import SelectionOptions, parse_only_binary, select
from envlock.models.artifacts import ArtifactKind

LOCK = Path("/proj/pylock.toml")


def wheel(name: str, version: str, tag: str = "py3-none-any", sha: str = "a") -> dict[str, Any]:
    filename = f"{name}-{version}-{tag}.whl"
    return {"name": filename, "url": f"https://files.example/{filename}", "hashes": {"sha256": sha * 64}}


def sdist(name: str, version: str) -> dict[str, Any]:
    filename = f"{name}-{version}.tar.gz"
    return {"name": filename, "url": f"https://files.example/{filename}", "hashes": {"sha256": "e" * 64}}


def lock(*packages: dict[str, Any], **top: Any) -> Any:
    return lock_from_dict(
        {"lock-version": "1.0", "created-by": "t", "packages": list(packages), **top}, source="t"
    )


def env() -> TargetEnvironment:
    return current_environment()


def run(
    the_lock: Any, options: SelectionOptions | None = None, target: TargetEnvironment | None = None
) -> Any:
    return select(the_lock, target or env(), options or SelectionOptions(), lock_path=LOCK)


def test_selects_wheels_sorted_with_hash_and_url() -> None:
    result = run(
        lock(
            {"name": "b", "version": "2", "wheels": [wheel("b", "2")]},
            {"name": "a", "version": "1", "wheels": [wheel("a", "1")]},
        )
    )
    assert [(p.name, p.version) for p in result.packages] == [("a", "1"), ("b", "2")]
    artifact = result.packages[0].artifact
    assert artifact.kind is ArtifactKind.WHEEL
    assert artifact.sha256 == "a" * 64
    assert artifact.url == "https://files.example/a-1-py3-none-any.whl"
    assert not result.packages[0].direct


def test_best_wheel_for_the_target_tags() -> None:
    target = env()
    best = target.tags[0]
    result = run(
        lock(
            {
                "name": "a",
                "version": "1",
                "wheels": [wheel("a", "1", "py3-none-any", "a"), wheel("a", "1", best, "b")],
            }
        )
    )
    assert result.packages[0].artifact.filename == f"a-1-{best}.whl"


def test_markers_extras_and_groups() -> None:
    the_lock = lock(
        {"name": "base", "version": "1", "wheels": [wheel("base", "1")]},
        {"name": "never", "version": "1", "marker": "python_version < '2'", "wheels": [wheel("never", "1")]},
        {"name": "ex", "version": "1", "marker": "'fast' in extras", "wheels": [wheel("ex", "1")]},
        {
            "name": "dev",
            "version": "1",
            "marker": "'dev' in dependency_groups",
            "wheels": [wheel("dev", "1")],
        },
        extras=["fast"],
        **{"dependency-groups": ["dev"], "default-groups": []},
    )
    assert [p.name for p in run(the_lock).packages] == ["base"]
    chosen = run(the_lock, SelectionOptions(extras=("fast",), groups=("dev",))).packages
    assert [p.name for p in chosen] == ["base", "dev", "ex"]


def test_undeclared_extra_is_input_error() -> None:
    with pytest.raises(InputError, match="Undeclared extras: nope"):
        run(
            lock({"name": "a", "version": "1", "wheels": [wheel("a", "1")]}),
            SelectionOptions(extras=("nope",)),
        )


def test_requires_python_excluding_target_names_it() -> None:
    with pytest.raises(TargetEnvironmentError, match=r"requires-python '<3' excludes the target's Python"):
        run(lock({"name": "a", "version": "1", "wheels": [wheel("a", "1")]}, **{"requires-python": "<3"}))


def test_environments_excluding_target_names_them() -> None:
    with pytest.raises(
        TargetEnvironmentError, match='is not one of the lock\'s targets: sys_platform == "nowhere"'
    ):
        run(
            lock(
                {"name": "a", "version": "1", "wheels": [wheel("a", "1")]},
                environments=['sys_platform == "nowhere"'],
            )
        )


def test_no_fitting_wheel_and_no_sdist_names_package_and_tags() -> None:
    the_lock = lock({"name": "native", "version": "1", "wheels": [wheel("native", "1", "cp27-cp27m-win32")]})
    with pytest.raises(TargetEnvironmentError) as info:
        run(the_lock)
    assert "native" in info.value.message
    assert env().tags[0] in info.value.message


def test_sdist_fallback_and_only_binary() -> None:
    the_lock = lock(
        {
            "name": "src",
            "version": "1",
            "wheels": [wheel("src", "1", "cp27-cp27m-win32")],
            "sdist": sdist("src", "1"),
        }
    )
    assert run(the_lock).packages[0].artifact.kind is ArtifactKind.SDIST
    for names in ({"src"}, {ALL}):
        with pytest.raises(TargetEnvironmentError, match="src: binaries are required"):
            run(the_lock, SelectionOptions(only_binary=frozenset(names)))


def test_two_applicable_entries_is_lock_error() -> None:
    the_lock = lock(
        {"name": "a", "version": "1", "wheels": [wheel("a", "1")]},
        {"name": "a", "version": "2", "wheels": [wheel("a", "2")]},
    )
    with pytest.raises(LockFileError, match=r"Multiple packages with the name 'a'.*packages\[1\]"):
        run(the_lock)


def test_archive_and_path_sources_are_direct_and_resolved() -> None:
    the_lock = lock(
        {
            "name": "arch",
            "version": "1",
            "archive": {"url": "https://x/arch-1-py3-none-any.whl", "hashes": {"sha256": "c" * 64}},
        },
        {
            "name": "local",
            "version": "1",
            "wheels": [{"path": "dist/local-1-py3-none-any.whl", "hashes": {"sha256": "d" * 64}}],
        },
    )
    arch, local = run(the_lock).packages
    assert arch.direct and arch.artifact.filename == "arch-1-py3-none-any.whl"
    assert local.direct and local.artifact.path == Path("/proj/dist/local-1-py3-none-any.whl")


def test_version_from_file_name_when_missing() -> None:
    result = run(lock({"name": "a", "wheels": [wheel("a", "3.1")]}))
    assert result.packages[0].version == "3.1"


def test_no_sha256_is_lock_error() -> None:
    entry = wheel("a", "1")
    entry["hashes"] = {"sha512": "f" * 128}
    with pytest.raises(LockFileError, match="'a': 'hashes' has no sha256"):
        run(lock({"name": "a", "version": "1", "wheels": [entry]}))


def test_directory_source_must_be_a_project_folder() -> None:
    with pytest.raises(LockFileError, match=r"package 'a': .*src/a does not exist"):
        run(lock({"name": "a", "version": "1", "directory": {"path": "src/a"}}))


def test_parse_only_binary() -> None:
    assert parse_only_binary(["Foo_Bar,baz", ":all:"]) == frozenset({"foo-bar", "baz", ALL})
