"""``envlock diff`` through the CLI on locks compiled by envlock and committed to a real git repository:
version changes, removals, per-target changes, a re-uploaded file, the formats and the exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.lock_scenarios import (
    LINUX,
    TARGET_ARGS,
    WINDOWS,
    commit_all,
    compile_lock,
    git,
    publish_two_targets,
)
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock


def test_diff_of_an_upgrade_and_a_removal_against_head(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(
        DistSpec("app", "1.0", requires=("old-helper",)),
        DistSpec("app", "2.0", requires=("new-helper>=1",)),
        DistSpec("old-helper", "0.9"),
        DistSpec("new-helper", "1.0"),
        DistSpec("tool", "1.0"),
    )
    compile_lock(run_envlock, kit_index, isolated, "app<2\ntool\n")
    commit_all(isolated)
    same = run_envlock("diff")
    assert (same.returncode, same.stdout.splitlines()[-1]) == (0, "no changes")

    compile_lock(run_envlock, kit_index, isolated, "app>=2\n")
    result = run_envlock("diff")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "lock diff: pylock.toml at HEAD -> pylock.toml (working tree)",
        "input -r requirements.in: app<2 -> app>=2",
        "input -r requirements.in: tool -> (removed)",
        "~ app 1.0 -> 2.0  (via -r requirements.in: app>=2)",
        "+ new-helper 1.0  (via -r requirements.in: app>=2)",
        "- old-helper 0.9  (was via -r requirements.in: app<2)",
        "- tool 1.0  (was via -r requirements.in: tool)",
    ]
    markdown = run_envlock("diff", "--format", "markdown")
    assert markdown.returncode == 1
    assert "| upgraded | app | 1.0 | 2.0 | all | `-r requirements.in: app>=2` |" in markdown.stdout
    assert "| removed | old-helper | 0.9 |  | all | `-r requirements.in: app<2` |" in markdown.stdout
    document = json.loads(run_envlock("diff", "--format", "json").stdout)
    assert document["changed"] is True
    assert document["packages"][0] == {
        "name": "app",
        "kind": "upgraded",
        "old": "1.0",
        "new": "2.0",
        "targets": [],
        "causes": ["-r requirements.in: app>=2"],
    }
    assert document["inputs"][0] == {
        "source": "-r requirements.in",
        "name": "app",
        "old": "app<2",
        "new": "app>=2",
    }
    assert document["rehashed"] == []

    # --git REF and two files say the same
    git(isolated, "tag", "before")
    commit_all(isolated, "upgrade")
    assert run_envlock("diff").returncode == 0
    assert run_envlock("diff", "--git", "before").stdout == result.stdout.replace("at HEAD", "at before")
    git(isolated, "show", "before:pylock.toml")
    (isolated / "old.toml").write_text(git(isolated, "show", "before:pylock.toml"))
    two = run_envlock("diff", "old.toml", "pylock.toml")
    assert two.returncode == 1
    assert two.stdout.splitlines()[1:] == result.stdout.splitlines()[1:]


def test_diff_flags_a_reuploaded_file_loudly(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("app", "1.0", requires=("beta",)), DistSpec("beta", "2.0"))
    compile_lock(run_envlock, kit_index, isolated, "app\n")
    commit_all(isolated)
    old_hash = kit_index.sha256("beta-2.0-py3-none-any.whl")
    # the same file name and version, other bytes: a re-upload
    kit_index.remove_file("beta-2.0-py3-none-any.whl")
    kit_index.publish(DistSpec("beta", "2.0", files={"beta/__init__.py": b"# re-uploaded\n"}))
    new_hash = kit_index.sha256("beta-2.0-py3-none-any.whl")
    assert new_hash != old_hash
    run_envlock("compile", "--index-url", kit_index.url, "-P", "beta", check=True)
    result = run_envlock("diff")
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:4] == [
        "!!! HASH CHANGED, SAME VERSION: beta 2.0: beta-2.0-py3-none-any.whl",
        f"!!!   sha256 {old_hash} -> {new_hash}",
        "!!!   the index serves other bytes under this name (a re-upload): verify before trusting it",
    ]
    markdown = run_envlock("diff", "--format", "markdown").stdout
    assert "> [!WARNING]" in markdown
    assert (
        f"> - `beta 2.0`: `beta-2.0-py3-none-any.whl` sha256 `{old_hash[:12]}…` → `{new_hash[:12]}…`"
        in markdown
    )
    document = json.loads(run_envlock("diff", "--format", "json").stdout)
    assert document["packages"] == []
    assert document["rehashed"] == [
        {
            "name": "beta",
            "version": "2.0",
            "file": "beta-2.0-py3-none-any.whl",
            "old": old_hash,
            "new": new_hash,
        }
    ]


def test_diff_per_target(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    publish_two_targets(kit_index)
    compile_lock(run_envlock, kit_index, isolated, "app\n", *TARGET_ARGS)
    shutil.copy(isolated / "pylock.toml", isolated / "old.toml")
    kit_index.publish(DistSpec("native", "2.1", requires_python=">=3.12"))
    run_envlock("compile", "--index-url", kit_index.url, *TARGET_ARGS, "-P", "native", check=True)
    result = run_envlock("diff", "old.toml", "pylock.toml")
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:] == [
        f"~ native 2.0 -> 2.1 on {WINDOWS}  (via -r requirements.in: app)"
    ]
    assert LINUX not in result.stdout


def test_diff_refusals(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    kit_index.publish(DistSpec("app", "1.0"))
    compile_lock(run_envlock, kit_index, isolated, "app\n")
    outside = run_envlock("diff")
    assert outside.returncode == 2 and "not in a git repository" in outside.stderr
    commit_all(isolated)
    missing = run_envlock("diff", "--git", "no-such-ref")
    assert missing.returncode == 2
    assert "error: git ref 'no-such-ref' does not exist in the repository of pylock.toml" in missing.stderr
    assert "Traceback" not in missing.stderr
    # a lock the commit does not have yet: everything is added
    (isolated / "sub").mkdir()
    shutil.copy(isolated / "pylock.toml", isolated / "sub" / "pylock.toml")
    added = run_envlock("diff", "sub/pylock.toml")
    assert added.returncode == 1 and "+ app 1.0  (via -r requirements.in: app)" in added.stdout
    # a lock deleted since the commit: everything is removed; a lock neither side has: not found
    (isolated / "pylock.toml").unlink()
    deleted = run_envlock("diff")
    assert deleted.returncode == 1 and "- app 1.0  (was via -r requirements.in: app)" in deleted.stdout
    nowhere = run_envlock("diff", "nothere.toml")
    assert nowhere.returncode == 2 and "nothere.toml: lock file not found" in nowhere.stderr
    both = run_envlock("diff", "--git", "HEAD", "pylock.toml", "sub/pylock.toml")
    assert both.returncode == 2
    (isolated / "bad.toml").write_text("lock-version = 1\n[[")
    bad = run_envlock("diff", "bad.toml", "pylock.toml")
    assert bad.returncode == 2 and "bad.toml: not valid TOML" in bad.stderr
