"""``envlock why NAME`` through the CLI on locks compiled by envlock: every path, per target, JSON."""

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


def test_why_lists_every_path_with_the_requirement_on_each_edge(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    publish_diamond(kit_index)
    compile_lock(run_envlock, kit_index, isolated, "app\nbase>=1\n")
    result = run_envlock("why", "base", check=True)
    assert result.stdout.splitlines() == [
        "base 2.0: 3 paths",
        "  -r requirements.in -> app 1.0 (app) -> left 1.0 (left>=1) -> base 2.0 (base<3,>=1)",
        "  -r requirements.in -> app 1.0 (app) -> right 1.0 (right) -> base 2.0 (base[fast]>=2)",
        "  -r requirements.in -> base 2.0 (base>=1)",
    ]
    document = json.loads(run_envlock("why", "Speed", "--json", check=True).stdout)
    assert document["package"] == "speed" and document["lock"] == "pylock.toml"
    (answer,) = document["targets"]
    assert answer["version"] == "1.0" and answer["truncated"] is False
    assert [[step["from"] for step in path] for path in answer["paths"]] == [
        ["-r requirements.in", "app", "left", "base"],
        ["-r requirements.in", "app", "right", "base"],
        ["-r requirements.in", "base"],
    ]
    assert answer["paths"][1][2] == {
        "from": "right",
        "to": "base",
        "version": "2.0",
        "requirement": "base[fast]>=2",
    }


def test_why_answers_per_target_where_they_differ(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    publish_two_targets(kit_index)
    compile_lock(run_envlock, kit_index, isolated, "app\n", *TARGET_ARGS)
    native = run_envlock("why", "native", check=True).stdout
    assert f"native 1.0 on {LINUX}: 1 path" in native
    assert f"native 2.0 on {WINDOWS}: 1 path" in native
    colorama = run_envlock("why", "colorama", check=True).stdout.splitlines()
    assert colorama == [
        f"colorama is not installed on {LINUX}",
        f"colorama 0.4 on {WINDOWS}: 1 path",
        "  -r requirements.in -> app 1.0 (app) -> colorama 0.4 (colorama)",
    ]
    # the same answer on every target is shown once, without naming them
    assert run_envlock("why", "app", check=True).stdout.splitlines()[0] == "app 1.0: 1 path"


def test_why_refuses_a_name_the_lock_lacks_and_a_missing_lock(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    missing = run_envlock("why", "app")
    assert missing.returncode == 2
    assert "pylock.toml: lock file not found" in missing.stderr and "Traceback" not in missing.stderr
    publish_diamond(kit_index)
    (isolated / "requirements.in").write_text("app\n")
    run_envlock("compile", "--index-url", kit_index.url, "-o", "locks/app.toml", check=True)
    result = run_envlock("why", "nothere", "--lock", "locks/app.toml")
    assert result.returncode == 2
    assert "error: locks/app.toml has no package 'nothere'" in result.stderr
