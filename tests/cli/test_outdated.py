"""``envlock outdated`` through the CLI: newer releases on the kit index that the lock's requirements
allow or block (naming the requirement), per target, JSON; the lock is never changed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.lock_scenarios import (
    LINUX,
    TARGET_ARGS,
    WINDOWS,
    compile_lock,
    publish_diamond,
    publish_two_targets,
)
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock


def test_outdated_names_what_blocks_a_release_and_what_allows_one(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    publish_diamond(kit_index)
    compile_lock(run_envlock, kit_index, isolated, "app\nbase>=1\n")
    lock_bytes = (isolated / "pylock.toml").read_bytes()
    assert (
        run_envlock("outdated", check=True).stdout == "pylock.toml: every package is at its newest release\n"
    )
    kit_index.publish(
        DistSpec("speed", "1.1"),
        DistSpec("base", "2.5", extras=("fast",)),
        DistSpec("base", "3.0", extras=("fast",)),
        DistSpec("left", "2.0b1"),  # a prerelease: not offered to a lock without --pre
    )
    result = run_envlock("outdated", check=True)
    assert result.stdout.splitlines() == [
        "base 2.0 -> 3.0: blocked by left: base<3,>=1 (envlock compile -P base takes 2.5)",
        "speed 1.0 -> 1.1: allowed (envlock compile -P speed)",
    ]
    document = json.loads(run_envlock("outdated", "--json", check=True).stdout)
    assert document == {
        "lock": "pylock.toml",
        "outdated": [
            {
                "name": "base",
                "locked": "2.0",
                "latest": "3.0",
                "allowed": "2.5",
                "blocked_by": ["left: base<3,>=1"],
                "python_holds_back": None,
                "recorded": True,
                "targets": [],
            },
            {
                "name": "speed",
                "locked": "1.0",
                "latest": "1.1",
                "allowed": "1.1",
                "blocked_by": [],
                "python_holds_back": None,
                "recorded": True,
                "targets": [],
            },
        ],
    }
    assert (isolated / "pylock.toml").read_bytes() == lock_bytes
    # what it says is allowed is what compile -P moves to
    run_envlock("compile", "--index-url", kit_index.url, "-P", "base", check=True)
    assert "base 2.5" in run_envlock("why", "base", check=True).stdout


def test_outdated_per_target_blocked_by_requires_python(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    publish_two_targets(kit_index)
    compile_lock(run_envlock, kit_index, isolated, "app\nnative<3\n", *TARGET_ARGS)
    kit_index.publish(DistSpec("native", "2.1", requires_python=">=3.12"), DistSpec("native", "3.0"))
    assert run_envlock("outdated", check=True).stdout.splitlines() == [
        f"native 1.0 -> 3.0 on {LINUX}: blocked by -r requirements.in: native<3; "
        "2.1 needs Python >=3.12 (the target has 3.11.0)",
        f"native 2.0 -> 3.0 on {WINDOWS}: blocked by -r requirements.in: native<3 "
        "(envlock compile -P native takes 2.1)",
    ]


def test_outdated_skips_a_release_with_no_file_for_the_target(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    """A newer release with wheels for other platforms only is not offered to a target it cannot install
    on (compile would not take it there either): it is named as what holds the target back."""
    publish_two_targets(kit_index)
    compile_lock(run_envlock, kit_index, isolated, "app\n", *TARGET_ARGS)
    kit_index.publish(
        DistSpec("native", "2.1", tags=("cp312-cp312-win_amd64",)),
        DistSpec("native", "2.2", tags=("cp312-cp312-macosx_11_0_arm64",)),
    )
    assert run_envlock("outdated", check=True).stdout.splitlines() == [
        f"native 1.0 -> 2.2 on {LINUX}: blocked by 2.2 has no wheel for the target and no sdist "
        "(its wheels: cp312-cp312-macosx_11_0_arm64)",
        f"native 2.0 -> 2.2 on {WINDOWS}: blocked by 2.2 has no wheel for the target and no sdist "
        "(its wheels: cp312-cp312-macosx_11_0_arm64) (envlock compile -P native takes 2.1)",
    ]
    # an sdist builds anywhere: the release is allowed on both targets
    kit_index.publish(DistSpec("native", "2.3", tags=("cp312-cp312-macosx_11_0_arm64",), sdist=True))
    assert run_envlock("outdated", check=True).stdout.splitlines() == [
        f"native 1.0 -> 2.3 on {LINUX}: allowed (envlock compile -P native)",
        f"native 2.0 -> 2.3 on {WINDOWS}: allowed (envlock compile -P native)",
    ]


def test_outdated_refuses_a_missing_lock(run_envlock: RunEnvlock) -> None:
    result = run_envlock("outdated", "--lock", "nothere.toml")
    assert result.returncode == 2 and "nothere.toml: lock file not found" in result.stderr
