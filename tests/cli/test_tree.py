"""``envlock tree`` through the CLI on locks compiled by envlock: the tree, --depth, --invert, --target,
JSON, and the refusals."""

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
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock


def _diamond(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    publish_diamond(kit_index)
    compile_lock(run_envlock, kit_index, isolated, "app\nbase>=1\n")


def test_tree_shows_each_subtree_once(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    _diamond(kit_index, run_envlock, isolated)
    assert run_envlock("tree", check=True).stdout.splitlines() == [
        "app 1.0 [-r requirements.in: app]",
        "├── left 1.0 [left>=1]",
        "│   └── base 2.0 [base<3,>=1]",
        "│       └── speed 1.0 [speed]",
        "└── right 1.0 [right]",
        "    └── base 2.0 [base[fast]>=2] (*)",
        "base 2.0 [-r requirements.in: base>=1] (*)",
    ]
    assert run_envlock("tree", "--depth", "1", check=True).stdout.splitlines() == [
        "app 1.0 [-r requirements.in: app]",
        "├── left 1.0 [left>=1]",
        "└── right 1.0 [right]",
        "base 2.0 [-r requirements.in: base>=1]",
        "└── speed 1.0 [speed]",
    ]


def test_tree_invert_walks_up_to_the_inputs(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    _diamond(kit_index, run_envlock, isolated)
    assert run_envlock("tree", "--invert", "speed", check=True).stdout.splitlines() == [
        "speed 1.0",
        "└── base 2.0 [speed]",
        "    ├── -r requirements.in: base>=1",
        "    ├── left 1.0 [base<3,>=1]",
        "    │   └── app 1.0 [left>=1]",
        "    │       └── -r requirements.in: app",
        "    └── right 1.0 [base[fast]>=2]",
        "        └── app 1.0 [right] (*)",
    ]
    assert run_envlock("tree", "--invert", "speed", "--depth", "1", check=True).stdout.splitlines() == [
        "speed 1.0",
        "└── base 2.0 [speed]",
    ]
    document = json.loads(run_envlock("tree", "--invert", "left", "--json", check=True).stdout)
    (answer,) = document["targets"]
    (start,) = answer["tree"]
    assert (start["name"], start["version"]) == ("left", "1.0")
    (app,) = start["dependencies"]
    assert (app["name"], app["requirement"], app["kind"]) == ("app", "left>=1", "package")
    assert app["dependencies"][0]["from"] == "-r requirements.in"


def test_tree_per_target_and_one_target(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    publish_two_targets(kit_index)
    compile_lock(run_envlock, kit_index, isolated, "app\n", *TARGET_ARGS)
    assert run_envlock("tree", check=True).stdout.splitlines() == [
        f"on {LINUX}:",
        "app 1.0 [-r requirements.in: app]",
        "└── native 1.0 [native]",
        f"on {WINDOWS}:",
        "app 1.0 [-r requirements.in: app]",
        "├── colorama 0.4 [colorama]",
        "└── native 2.0 [native]",
    ]
    assert run_envlock("tree", "--target", "cp312-windows-amd64", check=True).stdout.splitlines()[0] == (
        "app 1.0 [-r requirements.in: app]"
    )
    document = json.loads(run_envlock("tree", "--json", "--target", "cp311-linux-x86_64", check=True).stdout)
    assert [a["targets"] for a in document["targets"]] == [[LINUX]]
    other = run_envlock("tree", "--target", "cp313-macos-arm64")
    assert other.returncode == 2
    assert (
        f"pylock.toml has no target cpython 3.13 on darwin/arm64 (its targets: {LINUX}; {WINDOWS})"
        in other.stderr
    )
    assert run_envlock("tree", "--invert", "colorama", check=True).stdout.splitlines() == [
        f"on {LINUX}:",
        "colorama is not installed",
        f"on {WINDOWS}:",
        "colorama 0.4",
        "└── app 1.0 [colorama]",
        "    └── -r requirements.in: app",
    ]
    unknown = run_envlock("tree", "--invert", "nothere")
    assert unknown.returncode == 2 and "pylock.toml has no package 'nothere'" in unknown.stderr
