"""envlock sync end to end: the real CLI, real venvs, the kit index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.kit.dists import DistSpec, build_wheel
from tests.kit.index import KitIndex
from tests.kit.plugin import PythonMap, RunEnvlock, VenvFactory
from tests.kit.sync_locks import lock_for, snapshot, write_lock_dict
from tests.kit.venvs import site_packages, venv_python

VENV = Path(".venv")


def write(index: KitIndex, *specs: DistSpec, path: Path = Path("pylock.toml"), **top: Any) -> Path:
    return write_lock_dict(path, lock_for(index, list(specs), top=top))


def installed(venv: Path = VENV) -> dict[str, str]:
    site = site_packages(venv)
    found = {}
    for dist_info in site.glob("*.dist-info"):
        name, _, version = dist_info.name[: -len(".dist-info")].partition("-")
        found[name.lower()] = version
    return found


def sync_json(run_envlock: RunEnvlock, *args: str) -> dict[str, Any]:
    result = run_envlock("sync", "--json", *args)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_fresh_venv_then_noop(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(
        kit_index, DistSpec("alpha", "1.0", console_scripts={"alpha": "alpha:main"}), DistSpec("beta", "2.0")
    )
    result = run_envlock("-v", "sync")
    assert result.returncode == 0, result.stderr
    assert " + alpha==1.0" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("+2 installed, ~0 replaced, -0 removed in ")
    assert (VENV / "pyvenv.cfg").is_file()
    assert installed() == {"alpha": "1.0", "beta": "2.0"}
    script = venv_python(VENV).parent / "alpha"
    assert subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout == "alpha 1.0\n"
    assert json.loads((VENV / ".envlock" / "stamp.json").read_text())["lock"]["sha256"]
    assert not (VENV / ".envlock" / "sync-in-progress").exists()
    assert sorted(p.name for p in (VENV / ".envlock").iterdir()) == ["lock", "stamp.json"]
    requests = len(kit_index.requests)
    data = sync_json(run_envlock)
    assert data["up_to_date"] is True
    assert data["counts"] == {"installed": 0, "replaced": 0, "removed": 0, "kept": 0}
    assert len(kit_index.requests) == requests  # no network on a no-op


def test_patch_add_remove_upgrade_downgrade(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(
        kit_index,
        DistSpec("up", "1.0"),
        DistSpec("down", "2.0"),
        DistSpec("gone", "1.0"),
        DistSpec("same", "1.0"),
    )
    sync_json(run_envlock)
    write(
        kit_index,
        DistSpec("up", "2.0"),
        DistSpec("down", "1.0"),
        DistSpec("new", "1.0"),
        DistSpec("same", "1.0"),
    )
    result = run_envlock("-v", "sync")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert " ~ up 1.0 -> 2.0 (1.0 -> 2.0)" in lines
    assert " ~ down 2.0 -> 1.0 (2.0 -> 1.0)" in lines
    assert " - gone==1.0" in lines
    assert " + new==1.0" in lines
    assert lines[-1].startswith("+1 installed, ~2 replaced, -1 removed in ")
    assert installed() == {"up": "2.0", "down": "1.0", "new": "1.0", "same": "1.0"}
    assert not (site_packages(VENV) / "gone").exists()


def test_json_plan_of_a_dry_run_changes_nothing(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(kit_index, DistSpec("a", "1.0"))
    sync_json(run_envlock)
    write(kit_index, DistSpec("a", "2.0"), DistSpec("b", "1.0"))
    before = snapshot(VENV)
    data = sync_json(run_envlock, "--dry-run")
    assert snapshot(VENV) == before
    assert data["format"] == 1 and data["dry_run"] is True
    assert [(p["name"], p["action"], p["old_version"], p["new_version"]) for p in data["packages"]] == [
        ("a", "replace", "1.0", "2.0"),
        ("b", "install", None, "1.0"),
    ]
    assert data["packages"][1]["artifact"]["filename"] == "b-1.0-py3-none-any.whl"


def test_hand_installed_package_and_pip_are_removed(
    kit_index: KitIndex, run_envlock: RunEnvlock, venv_factory: VenvFactory, tmp_path: Path
) -> None:
    venv = venv_factory(with_pip=True)
    extra = build_wheel(DistSpec("handmade", "0.1"), tmp_path / "hand")
    subprocess.run(
        [str(venv_python(venv)), "-m", "pip", "install", "--no-deps", "--no-index", str(extra)],
        check=True,
        capture_output=True,
    )
    write(kit_index, DistSpec("a", "1.0"))
    data = sync_json(run_envlock, "--venv", str(venv))
    removed = {p["name"] for p in data["packages"] if p["action"] == "remove"}
    assert {"handmade", "pip"} <= removed
    assert set(installed(venv)) == {"a"}
    assert not (site_packages(venv) / "handmade").exists()


def test_package_installed_by_pip_at_the_locked_version_is_replaced(
    kit_index: KitIndex, run_envlock: RunEnvlock, venv_factory: VenvFactory, tmp_path: Path
) -> None:
    spec = DistSpec("a", "1.0")
    write(kit_index, spec)
    venv = venv_factory(with_pip=True)
    wheel = build_wheel(spec, tmp_path / "w")
    subprocess.run(
        [str(venv_python(venv)), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], check=True
    )
    data = sync_json(run_envlock, "--venv", str(venv))
    (item,) = [p for p in data["packages"] if p["name"] == "a"]
    assert (item["action"], item["reason"]) == ("replace", "installed by pip")
    installer = next(site_packages(venv).glob("a-1.0.dist-info")) / "INSTALLER"
    assert installer.read_text().strip() == "envlock"


def test_scripts_headers_and_data_land_where_pip_puts_them(
    kit_index: KitIndex, run_envlock: RunEnvlock, venv_factory: VenvFactory, tmp_path: Path
) -> None:
    spec = DistSpec(
        "Fancy_Pkg",
        "1.0",
        console_scripts={"fancy": "fancy_pkg:main"},
        data={
            "scripts": {"fancy-sh": b"#!python\nprint('hi')\n"},
            "headers": {"fancy.h": b"/* h */\n"},
            "data": {"share/fancy/readme.txt": b"data\n"},
            "purelib": {"fancy_extra.py": b"x = 1\n"},
        },
    )
    write(kit_index, spec)
    ours = venv_factory()
    before_ours = set(snapshot(ours))
    sync_json(run_envlock, "--venv", str(ours))
    twin = venv_factory(with_pip=True)
    before_twin = set(snapshot(twin))
    wheel = build_wheel(spec, tmp_path / "w")
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    subprocess.run(
        [
            str(venv_python(twin)),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--no-compile",
            str(wheel),
        ],
        check=True,
        env=env,
        capture_output=True,
    )

    def added(venv: Path, before: set[str]) -> set[str]:
        skip = ("REQUESTED", "direct_url.json", "envlock.json")
        return {
            p
            for p in set(snapshot(venv)) - before
            if not p.startswith(".envlock") and "__pycache__" not in p and not p.endswith(skip)
        }

    assert added(ours, before_ours) == added(twin, before_twin)
    out = subprocess.run(
        [str(venv_python(ours).parent / "fancy-sh")], capture_output=True, text=True, check=True
    )
    assert out.stdout == "hi\n"


def test_rebuild_on_interpreter_change(
    kit_index: KitIndex, run_envlock: RunEnvlock, available_pythons: PythonMap
) -> None:
    current = f"{sys.version_info[0]}.{sys.version_info[1]}"
    others = [v for v in available_pythons if v != current and tuple(map(int, v.split("."))) >= (3, 8)]
    if not others:
        pytest.skip("no other Python on this machine (pyenv or pythonX.Y on PATH)")
    other = others[-1]
    write(kit_index, DistSpec("a", "1.0", console_scripts={"a": "a:main"}))
    sync_json(run_envlock)
    old_cfg = (VENV / "pyvenv.cfg").read_text()
    data = sync_json(run_envlock, "--python", other)
    assert data["rebuilt"] is True
    assert f"version = {other}." in (VENV / "pyvenv.cfg").read_text()
    assert f"version = {other}." not in old_cfg
    assert installed() == {"a": "1.0"}
    assert str(VENV.absolute()) in (venv_python(VENV).parent / "activate").read_text()
    out = subprocess.run([str(venv_python(VENV).parent / "a")], capture_output=True, text=True, check=True)
    assert out.stdout == "a 1.0\n"
    assert not list(Path().glob(".*.envlock-*"))  # no staging or old venv left beside it
    assert sync_json(run_envlock, "--python", other)["rebuilt"] is False


def test_rebuild_flag_and_failed_rebuild_keeps_the_old_venv(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    spec = DistSpec("a", "1.0")
    write(kit_index, spec)
    sync_json(run_envlock)
    assert sync_json(run_envlock, "--rebuild")["rebuilt"] is True
    before = snapshot(VENV, ignore=(".envlock",))
    write(kit_index, DistSpec("a", "2.0"))
    kit_index.fault("/files/a-2.0-*", "500")
    result = run_envlock("sync", "--rebuild")
    assert result.returncode == 1
    assert snapshot(VENV, ignore=(".envlock",)) == before
    assert not list(Path().glob(".*.envlock-*"))


def test_refuses_a_target_that_is_not_a_venv(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(kit_index, DistSpec("a", "1.0"))
    folder = Path("project-files")
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    result = run_envlock("sync", "--venv", str(folder))
    assert result.returncode == 1
    assert "is not a virtual environment" in result.stderr and "--system" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
    Path("afile").write_text("x")
    result = run_envlock("sync", "--venv", "afile")
    assert result.returncode == 1 and "is a file" in result.stderr
    assert "Traceback" not in result.stderr


def test_system_plans_against_the_interpreter_itself(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    write(kit_index, DistSpec("a", "1.0"))
    base = Path(sys.base_prefix) / "bin" / "python3"
    result = run_envlock("sync", "--system", "--python", str(base), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["dry_run"] is True


@pytest.mark.parametrize("failure", ["hash", "network"])
def test_failures_leave_the_venv_byte_for_byte_unchanged(
    kit_index: KitIndex, run_envlock: RunEnvlock, failure: str
) -> None:
    write(kit_index, DistSpec("a", "1.0"), DistSpec("b", "1.0"))
    sync_json(run_envlock)
    before = snapshot(VENV)
    data = lock_for(kit_index, [DistSpec("a", "2.0"), DistSpec("b", "1.0"), DistSpec("c", "1.0")])
    if failure == "hash":
        data["packages"][2]["wheels"][0]["hashes"]["sha256"] = "0" * 64
    else:
        kit_index.fault("/files/c-1.0-*", "500")
    write_lock_dict(Path("pylock.toml"), data)
    result = run_envlock("sync")
    assert result.returncode == 1
    if failure == "hash":
        assert "error: hash mismatch for c-1.0-py3-none-any.whl: expected sha256 " + "0" * 64 in result.stderr
    else:
        assert kit_index.file_url("c-1.0-py3-none-any.whl") in result.stderr
    assert snapshot(VENV) == before
    kit_index.clear_faults()
    if failure == "network":
        assert run_envlock("sync").returncode == 0  # a later sync succeeds
        assert installed()["c"] == "1.0"


def test_hand_broken_lock_names_the_field(run_envlock: RunEnvlock) -> None:
    Path("pylock.toml").write_text('created-by = "x"\npackages = []\n')
    result = run_envlock("sync")
    assert result.returncode == 2
    assert "lock-version" in result.stderr and "Traceback" not in result.stderr
    Path("pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "a"\nversion = 3\n'
    )
    result = run_envlock("sync")
    assert result.returncode == 2
    assert "version" in result.stderr and "packages" in result.stderr
    assert not VENV.exists()


def test_two_applicable_entries_is_exit_2(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    data = lock_for(kit_index, [DistSpec("a", "1.0"), DistSpec("a", "2.0")])
    write_lock_dict(Path("pylock.toml"), data)
    result = run_envlock("sync")
    assert result.returncode == 2
    assert "Multiple packages with the name 'a'" in result.stderr


def test_pyproject_defaults_and_offline(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    Path("pyproject.toml").write_text('[tool.envlock]\nlock = "locks/dev.toml"\nvenv = "env-dev"\n')
    Path("locks").mkdir()
    write(kit_index, DistSpec("a", "1.0"), path=Path("locks/dev.toml"))
    assert sync_json(run_envlock)["venv"].endswith("env-dev")
    assert installed(Path("env-dev")) == {"a": "1.0"}
    result = run_envlock("sync", "--offline", "--venv", "warm")  # warm cache: works offline
    assert result.returncode == 0, result.stderr
    env = {"ENVLOCK_CACHE_DIR": str(Path("cold-cache").absolute())}
    result = run_envlock("sync", "--offline", "--venv", "cold", env=env)
    assert result.returncode == 1 and "offline" in result.stderr


def test_extras_and_groups(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    data = lock_for(kit_index, [DistSpec("base", "1.0"), DistSpec("fast", "1.0"), DistSpec("dev", "1.0")])
    data["packages"][1]["marker"] = "'speed' in extras"
    data["packages"][2]["marker"] = "'test' in dependency_groups"
    data.update({"extras": ["speed"], "dependency-groups": ["test"], "default-groups": []})
    write_lock_dict(Path("pylock.toml"), data)
    sync_json(run_envlock)
    assert installed() == {"base": "1.0"}
    sync_json(run_envlock, "--extra", "speed", "--group", "test")
    assert installed() == {"base": "1.0", "fast": "1.0", "dev": "1.0"}
    stamp = json.loads((VENV / ".envlock" / "stamp.json").read_text())
    assert (stamp["extras"], stamp["groups"]) == (["speed"], ["test"])
    assert sync_json(run_envlock)["counts"]["removed"] == 2
    result = run_envlock("sync", "--extra", "nope")
    assert result.returncode == 2 and "nope" in result.stderr


def test_sync_names_the_extras_it_did_not_install(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    """A lock compiled with ``--extra`` offers the extra; a plain sync installs without it (as uv's) and
    says how to install it, so a missing module is not the first sign."""
    data = lock_for(kit_index, [DistSpec("base", "1.0"), DistSpec("fast", "1.0"), DistSpec("cli", "1.0")])
    data["packages"][1]["marker"] = "'speed' in extras"
    data["packages"][2]["marker"] = "'Command_Line' in extras"
    data.update({"extras": ["speed", "command-line"]})
    write_lock_dict(Path("pylock.toml"), data)
    plain = run_envlock("sync", check=True)
    note = "pylock.toml offers extras this sync did not install: command-line, speed"
    assert f"{note} (to install them: envlock sync --extra command-line --extra speed)" in plain.stdout
    assert installed() == {"base": "1.0"}
    one = run_envlock("sync", "--extra", "Speed", check=True)
    assert (
        "did not install: command-line (to install them: envlock sync --extra speed --extra command-line)"
        in (one.stdout)
    )
    every = run_envlock("sync", "--extra", "speed", "--extra", "command_line", "--venv", "other", check=True)
    assert "did not install" not in every.stdout
    assert run_envlock("-q", "sync", "--venv", "third", check=True).stdout == ""


def test_interrupted_sync_is_repaired(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(kit_index, DistSpec("a", "1.0", files={"a/__init__.py": b"", "a/core.py": b"core = 1\n"}))
    sync_json(run_envlock)
    site = site_packages(VENV)
    # A killed sync: marker present, a file of a locked dist gone, an orphan from a half-installed wheel.
    (VENV / ".envlock" / "sync-in-progress").write_text("{}")
    (site / "a" / "core.py").unlink()
    orphan = site / "half" / "x.py"
    orphan.parent.mkdir()
    orphan.write_text("")
    (VENV / ".envlock" / "journal").write_text(f"dist {site / 'half-1.0.dist-info'}\nfile {orphan}\n")
    data = sync_json(run_envlock)
    assert [(p["name"], p["action"]) for p in data["packages"]] == [("a", "replace")]
    assert "missing core.py" in data["packages"][0]["reason"]
    assert (site / "a" / "core.py").read_text() == "core = 1\n"
    assert not orphan.exists()
    assert sorted(p.name for p in (VENV / ".envlock").iterdir()) == ["lock", "stamp.json"]


def test_drift_after_hand_install_defeats_the_fast_path(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    write(kit_index, DistSpec("a", "1.0"))
    sync_json(run_envlock)
    dist_info = site_packages(VENV) / "stray-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Name: stray\nVersion: 1.0\n")
    (dist_info / "RECORD").write_text("")
    data = sync_json(run_envlock)
    assert data["up_to_date"] is False
    assert [(p["name"], p["action"]) for p in data["packages"] if p["action"] != "keep"] == [
        ("stray", "remove")
    ]


def test_hashed_requirements_file_as_lock(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    specs = [DistSpec("a", "1.0"), DistSpec("b_c", "2.0")]
    lines = [f"--index-url {kit_index.url}"]
    for spec in specs:
        (path,) = kit_index.publish(spec)
        lines.append(
            f"{spec.name}=={spec.version} \\\n    --hash=sha256:{kit_index.sha256(path.name)}  # via x"
        )
    Path("requirements.txt").write_text("\n".join(lines) + "\n")
    data = sync_json(run_envlock, "requirements.txt")
    assert data["counts"]["installed"] == 2
    assert installed() == {"a": "1.0", "b_c": "2.0"}
    assert sync_json(run_envlock, "requirements.txt")["up_to_date"] is True
    Path("requirements.txt").write_text(f"--index-url {kit_index.url}\na==1.0 --hash=sha256:{'0' * 64}\n")
    result = run_envlock("sync", "requirements.txt")
    assert result.returncode == 2
    assert "requirements.txt:2: no file of a==1.0" in result.stderr
    Path("requirements.txt").write_text("a>=1.0 --hash=sha256:" + "0" * 64 + "\n")
    result = run_envlock("sync", "requirements.txt")
    assert (
        result.returncode == 2
        and "requirements.txt:1: not pinned with == and --hash (a has no single" in result.stderr
    )


def test_sdist_is_built_when_no_wheel_fits(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    spec = DistSpec("srconly", "1.0", wheel=False, sdist=True, console_scripts={"srconly": "srconly:main"})
    write(kit_index, spec)
    assert run_envlock("sync", "--only-binary", ":all:").returncode == 1
    assert not VENV.exists() or not (VENV / "pyvenv.cfg").exists()
    data = sync_json(run_envlock)
    assert data["counts"]["installed"] == 1
    out = subprocess.run(
        [str(venv_python(VENV).parent / "srconly")], capture_output=True, text=True, check=True
    )
    assert out.stdout == "srconly 1.0\n"
    assert sync_json(run_envlock, "--rebuild")["rebuilt"] is True  # the built wheel is reused from the cache
    assert sync_json(run_envlock)["up_to_date"] is True


def test_concurrent_syncs_serialize(kit_index: KitIndex) -> None:
    write(kit_index, *(DistSpec(f"p{i}", "1.0") for i in range(5)))
    command = [sys.executable, "-m", "envlock", "sync", "--json"]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    results = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    assert [code for code, _out, _err in results] == [0, 0, 0], [err for _c, _o, err in results]
    assert installed() == {f"p{i}": "1.0" for i in range(5)}
    assert sum(json.loads(out)["created"] for _code, out, _err in results) == 1
    assert not list(Path().glob(".*.envlock-*"))
    assert sorted(p.name for p in (VENV / ".envlock").iterdir()) == ["lock", "stamp.json"]


def test_leftovers_of_a_killed_rebuild_are_cleaned(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(kit_index, DistSpec("a", "1.0"))
    sync_json(run_envlock)
    for name in ("..venv.envlock-new-dead0001", "..venv.envlock-old-dead0002"):
        (Path(name) / "lib").mkdir(parents=True)
    write(kit_index, DistSpec("a", "2.0"))
    data = sync_json(run_envlock)
    assert "interrupted rebuild" in " ".join(data["notes"])
    assert not list(Path().glob("..venv.envlock-*"))


def test_verify_reinstalls_a_hand_edited_or_missing_file(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    files = {"a/__init__.py": b"", "a/core.py": b"core = 1\n"}
    write(kit_index, DistSpec("a", "1.0", files=files), DistSpec("b", "1.0"))
    sync_json(run_envlock)
    site = site_packages(VENV)
    (site / "a" / "core.py").write_text("core = 2  # edited by hand, same dist-info\n")
    (site / "b" / "__init__.py").unlink()
    assert sync_json(run_envlock)["up_to_date"] is True  # a plain sync trusts the stamp
    assert run_envlock("check", "--deep").returncode != 0
    requests = len(kit_index.requests)
    data = sync_json(run_envlock, "--verify")
    changed = {p["name"]: p["reason"] for p in data["packages"] if p["action"] != "keep"}
    assert set(changed) == {"a", "b"}
    assert "changed core.py" in changed["a"] and "missing __init__.py" in changed["b"]
    assert (site / "a" / "core.py").read_bytes() == b"core = 1\n"
    assert (site / "b" / "__init__.py").is_file()
    assert len(kit_index.requests) == requests  # reinstalled from the cache
    assert run_envlock("check", "--deep").returncode == 0
    again = sync_json(run_envlock, "--verify")
    # verified, nothing to change: the no-op's answer, as a sync the stamp answers gives it
    assert again["up_to_date"] is True and again["packages"] == []


@pytest.mark.parametrize("mode", ["copy", "hardlink"])
def test_link_modes_end_to_end(kit_index: KitIndex, run_envlock: RunEnvlock, mode: str) -> None:
    write(kit_index, DistSpec("a", "1.0", console_scripts={"a": "a:main"}))
    result = run_envlock("sync", "--link-mode", mode)
    assert result.returncode == 0, result.stderr
    assert run_envlock("check", "--deep").returncode == 0
    assert subprocess.run([str(venv_python(VENV).parent / "a")], capture_output=True, text=True).stdout == (
        "a 1.0\n"
    )
    bad = run_envlock("sync", "--rebuild", env={"ENVLOCK_LINK_MODE": "symlink"})
    assert bad.returncode == 2 and "unknown link mode 'symlink'" in bad.stderr


NOOP_PROBE = """
import sys
from envlock.cli import cli
framework = set(sys.modules)  # what click itself pulls in (on 3.10 its uuid import brings subprocess)
try:
    cli(["sync"], prog_name="envlock")
except SystemExit as exit_:
    assert not exit_.code, exit_.code
heavy = ("subprocess", "shutil", "packaging", "installer", "urllib3", "filelock", "envlock.sync.executor",
         "envlock.inputs.config", "envlock.env.interpreter", "envlock.sync.unpacked", "envlock.sync.syncer",
         "envlock.models.artifacts", "envlock.sync.plan",
         "dataclasses")
print(sorted(name for name in heavy if name in sys.modules and name not in framework))
"""


def test_noop_sync_imports_nothing_it_does_not_need(kit_index: KitIndex) -> None:
    write(kit_index, DistSpec("a", "1.0"))
    assert subprocess.run([sys.executable, "-m", "envlock", "sync"], capture_output=True).returncode == 0
    probe = subprocess.run([sys.executable, "-c", NOOP_PROBE], capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    assert "(already in sync)" in probe.stdout
    assert probe.stdout.strip().splitlines()[-1] == "[]"
