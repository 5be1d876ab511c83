"""planner.plan: pure rules of exact sync (install, replace, remove, keep)."""

from __future__ import annotations

import itertools
from pathlib import Path

from packaging.version import InvalidVersion, Version

from envlock.models.artifacts import Artifact, InstalledDist, SelectedPackage, Selection
from envlock.sync.plan import Action
from envlock.sync.planner import plan, same_version

SHA_A = "a" * 64
SHA_B = "b" * 64


def want(name: str, version: str, sha: str = SHA_A) -> SelectedPackage:
    return SelectedPackage(
        name, version, Artifact(f"{name}-{version}-py3-none-any.whl", sha, url="http://x/")
    )


def have(
    name: str, version: str, *, installer: str | None = "envlock", sha: str | None = SHA_A, **kw: object
) -> InstalledDist:
    folder = Path("/site") / f"{name}-{version}.dist-info"
    return InstalledDist(name, version, folder, installer=installer, artifact_sha256=sha, **kw)  # type: ignore[arg-type]


def actions(
    selection: list[SelectedPackage], installed: list[InstalledDist]
) -> dict[str, tuple[Action, str]]:
    result = plan(Selection(tuple(selection)), installed)
    return {item.name: (item.action, item.reason) for item in result.items}


def test_empty_venv_installs_everything() -> None:
    assert actions([want("a", "1"), want("b", "2")], []) == {
        "a": (Action.INSTALL, "missing"),
        "b": (Action.INSTALL, "missing"),
    }


def test_same_artifact_by_envlock_is_kept() -> None:
    assert actions([want("a", "1")], [have("a", "1")]) == {"a": (Action.KEEP, "up to date")}


def test_equal_versions_in_other_spelling_are_kept() -> None:
    assert actions([want("a", "1.0")], [have("a", "1.0.0")])["a"][0] is Action.KEEP


def test_upgrade_and_downgrade_replace() -> None:
    result = actions([want("a", "2"), want("b", "1")], [have("a", "1"), have("b", "3")])
    assert result == {"a": (Action.REPLACE, "1 -> 2"), "b": (Action.REPLACE, "3 -> 1")}


def test_installed_by_another_tool_is_replaced() -> None:
    assert actions([want("a", "1")], [have("a", "1", installer="pip", sha=None)]) == {
        "a": (Action.REPLACE, "installed by pip")
    }
    assert actions([want("a", "1")], [have("a", "1", installer=None, sha=None)])["a"] == (
        Action.REPLACE,
        "installed by an unknown installer",
    )


def test_other_artifact_is_replaced() -> None:
    assert actions([want("a", "1", SHA_B)], [have("a", "1")]) == {
        "a": (Action.REPLACE, "installed from another artifact")
    }


def test_extraneous_is_removed_including_pip() -> None:
    result = actions([want("a", "1")], [have("a", "1"), have("pip", "24.0", installer="pip"), have("x", "1")])
    assert result["pip"] == (Action.REMOVE, "not in the lock")
    assert result["x"] == (Action.REMOVE, "not in the lock")


def test_locked_pip_is_kept() -> None:
    assert actions([want("pip", "24.0")], [have("pip", "24.0")])["pip"][0] is Action.KEEP


def test_broken_dist_is_replaced() -> None:
    broken = have("a", "1", problems=("no RECORD",))
    assert actions([want("a", "1")], [broken]) == {"a": (Action.REPLACE, "broken: no RECORD")}


def test_two_dist_infos_are_replaced_both() -> None:
    one, two = have("a", "1"), have("a", "2")
    result = plan(Selection((want("a", "1"),)), [two, one])
    (item,) = result.items
    assert item.action is Action.REPLACE
    assert item.reason == "2 dist-info folders"
    assert [d.version for d in item.installed] == ["1", "2"]
    assert result.to_uninstall() == (one, two)


def test_plan_is_sorted_and_partitioned() -> None:
    result = plan(
        Selection((want("c", "1"), want("a", "1"), want("b", "2"))),
        [have("b", "1"), have("z", "1"), have("a", "1")],
    )
    assert [i.name for i in result.items] == ["a", "b", "c", "z"]
    assert [i.name for i in result.install] == ["c"]
    assert [i.name for i in result.replace] == ["b"]
    assert [i.name for i in result.remove] == ["z"]
    assert [i.name for i in result.keep] == ["a"]
    assert [p.name for p in result.to_install()] == ["b", "c"]
    assert not result.is_empty


def test_nothing_to_do_is_empty() -> None:
    assert plan(Selection(()), []).is_empty
    assert plan(Selection((want("a", "1"),)), [have("a", "1")]).is_empty


def test_same_version_is_packaging_equality() -> None:
    """Release-only versions are compared without packaging; the answer is packaging's for every pair."""
    versions = ["1", "1.0", "1.0.0", "01.0", "1.00", "0", "0.0", "1.1", "1.01", "10", "1.0.1", "0.23.1"]
    versions += ["1.0a1", "1.0.post1", "1.0-post1", "v1.0", "1.0+local", "1..0", "1.0.", "not a version"]
    for installed, wanted in itertools.product(versions, versions):
        try:
            expected = Version(installed) == Version(wanted)
        except InvalidVersion:
            expected = installed == wanted
        assert same_version(installed, wanted) is expected, (installed, wanted)
