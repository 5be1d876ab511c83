"""The stamp: writing it, and every drift the standard-library check reports, produced for real."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envlock import runtime
from envlock.guard import stamp_writer
from envlock.runtime import drift
from tests.kit.dists import DistSpec
from tests.kit.imports import LAUNCH_PATH_MODULES, launch_checker, modules_loaded, non_stdlib_imports
from tests.kit.index import KitIndex
from tests.kit.synced import Project, make_project, pip_install, restamp

SPECS = (
    DistSpec("prometheus-client", "0.23.1"),
    DistSpec(
        "tinyweb", "1.0", files={"tinyweb/__init__.py": b"VERSION = '1.0'\n", "tinyweb/app.py": b"x = 1\n"}
    ),
)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj", SPECS)


def kinds(result: drift.CheckResult) -> list[str]:
    return [d.kind for d in result.drifts]


def texts(result: drift.CheckResult) -> list[str]:
    return [str(d) for d in result.drifts]


def run_check(project: Project, **options: object) -> drift.CheckResult:
    return drift.check(project.venv, drift.CheckOptions(venv_label=".venv", **options))  # type: ignore[arg-type]


# --- writing ---


def test_stamp_records_lock_interpreter_and_installed_set(project: Project) -> None:
    data = json.loads((project.venv / ".envlock" / "stamp.json").read_text())
    assert data["format"] == runtime.STAMP_FORMAT
    assert data["lock"] == {
        "name": "pylock.toml",
        "path": "../pylock.toml",
        "sha256": runtime.sha256_file(project.lock),
    }
    assert [i["path"] for i in data["inputs"]] == ["requirements.in"]
    assert data["interpreter"]["executable"] in ("bin/python", "Scripts/python.exe")
    assert data["interpreter"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert Path(data["interpreter"]["resolved"]) == Path(os.path.realpath(project.python))
    dists = {(d["name"], d["version"], d["installer"]) for d in data["distributions"]}
    assert dists == {("prometheus-client", "0.23.1", "envlock"), ("tinyweb", "1.0", "envlock")}
    assert not (project.venv / ".envlock" / "sync-in-progress").exists()


def test_begin_sync_marks_and_drops_the_stamp(project: Project) -> None:
    stamp_writer.begin_sync(project.venv)
    assert (project.venv / ".envlock" / "sync-in-progress").is_file()
    assert not (project.venv / ".envlock" / "stamp.json").exists()
    restamp(project)
    assert not (project.venv / ".envlock" / "sync-in-progress").exists()
    assert run_check(project).ok


def test_write_stamp_leaves_no_temporary_files(project: Project) -> None:
    restamp(project)
    assert sorted(p.name for p in (project.venv / ".envlock").iterdir()) == ["stamp.json"]


# --- clean and structural drifts ---


def test_freshly_synced_venv_is_clean(project: Project) -> None:
    result = run_check(project)
    assert result.ok, texts(result)
    assert Path(result.lock or "") == project.lock
    assert run_check(project, deep=True).ok


def test_no_venv(tmp_path: Path) -> None:
    result = drift.check(tmp_path / "missing", drift.CheckOptions(venv_label=".venv"))
    assert kinds(result) == [drift.NO_VENV]
    assert texts(result) == ["no virtual environment at .venv — run: envlock sync"]


def test_venv_not_made_by_sync(project: Project) -> None:
    (project.venv / ".envlock" / "stamp.json").unlink()
    result = run_check(project)
    assert texts(result) == [".venv has no stamp: it was not made by envlock sync — run: envlock sync"]


def test_unreadable_stamp(project: Project) -> None:
    (project.venv / ".envlock" / "stamp.json").write_text("{not json")
    assert kinds(run_check(project)) == [drift.STAMP_INVALID]
    (project.venv / ".envlock" / "stamp.json").write_text('{"format": 99}')
    result = run_check(project)
    assert kinds(result) == [drift.STAMP_INVALID]
    assert "format 99" in result.drifts[0].message
    (project.venv / ".envlock" / "stamp.json").write_text('{"format": 1}')
    assert kinds(run_check(project)) == [drift.STAMP_INVALID]


def test_killed_sync_leaves_an_interrupted_marker(project: Project) -> None:
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from envlock.guard import stamp_writer; "
        "stamp_writer.begin_sync(sys.argv[2]); print('started', flush=True); time.sleep(60)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(Path(stamp_writer.__file__).parents[2]), str(project.venv)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    process.send_signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
    process.wait()
    result = run_check(project)
    assert kinds(result) == [drift.SYNC_INTERRUPTED]
    assert f"by process {process.pid}" in texts(result)[0]
    assert texts(result)[0].startswith("a sync of .venv was interrupted (started ")
    assert texts(result)[0].endswith(" — run: envlock sync")


# --- the lock and its inputs ---


def test_lock_changed_since_sync(project: Project) -> None:
    project.lock.write_text(project.lock.read_text() + "\n# edited\n")
    result = run_check(project)
    assert texts(result) == ["pylock.toml changed since .venv was synced — run: envlock sync"]
    restamp(project)
    assert run_check(project).ok


def test_lock_changed_names_what_the_venv_lacks(project: Project) -> None:
    """The packages the new lock adds, drops and moves are named (the runtime's lock header reader)."""
    text = project.lock.read_text()
    text = text.replace('name = "tinyweb"\nversion = "1.0"', 'name = "tinyweb"\nversion = "2.0"')
    text = text.replace(
        'name = "prometheus-client"\nversion = "0.23.1"\n', 'name = "fastapi"\nversion = "0.115.0"\n'
    )
    text += '\n[[packages]]\nname = "pywin32"\nversion = "306"\nmarker = "sys_platform == \'win32\'"\n'
    project.lock.write_text(text)
    message = run_check(project).drifts[0].message
    assert message == (
        "pylock.toml changed since .venv was synced (missing: fastapi 0.115.0;"
        " no longer locked: prometheus-client 0.23.1; changed: tinyweb 1.0 -> 2.0)"
    )


def test_lock_changed_message_on_python_without_tomllib(
    project: Project, available_pythons: dict[str, Path], tmp_path: Path
) -> None:
    """The launcher's copy carries the lock header reader: on a Python without a TOML parser it still
    names what changed, TOML-only escapes read as TOML (a lock its scan declines: the plain message)."""
    python = available_pythons.get("3.10")
    if python is None:
        pytest.skip("no Python 3.10 here")
    text = project.lock.read_text().replace('version = "1.0"', 'version = "\\U00000032.0"')
    checker = str(launch_checker(tmp_path))
    command = [str(python), "-I", "-S", checker, "--venv", str(project.venv), "--label", ".venv"]
    for lock, note in ((text, " (changed: tinyweb 1.0 -> 2.0)"), ('note = """x"""\n' + text, "")):
        project.lock.write_text(lock)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 1
        assert (
            f"envlock:   pylock.toml changed since .venv was synced{note} — run: envlock sync\n"
            in result.stderr
        )


def test_lock_missing(project: Project) -> None:
    project.lock.unlink()
    result = run_check(project)
    assert texts(result) == ["pylock.toml not found — run: envlock compile"]


def test_requirements_edited_since_compile(project: Project) -> None:
    project.requirements.write_text(project.requirements.read_text() + "requests\n")
    result = run_check(project)
    assert texts(result) == [
        "requirements.in changed since pylock.toml was compiled (requests not installed)"
        " — run: envlock compile && envlock sync"
    ]
    assert drift.fixes(result) == ["envlock compile && envlock sync"]


def test_requirements_touched_but_same_content_is_clean(project: Project) -> None:
    os.utime(project.requirements, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert run_check(project).ok


def test_requirements_removed(project: Project) -> None:
    project.requirements.unlink()
    assert texts(run_check(project)) == [
        "requirements.in was removed since pylock.toml was compiled — run: envlock compile && envlock sync"
    ]


def test_venv_synced_from_another_lock(project: Project) -> None:
    other = project.root / "pylock.dev.toml"
    other.write_text(project.lock.read_text())
    result = run_check(project, lock=other)
    assert kinds(result) == [drift.OTHER_LOCK]
    assert result.drifts[0].fix == f"envlock sync {other}"


def test_lock_given_by_another_spelling_is_the_same_lock(project: Project) -> None:
    assert run_check(project, lock=project.root / "." / "pylock.toml").ok


# --- the interpreter ---


def _python_other_than_current() -> Path | None:
    for version in ("3.12", "3.10", "3.13"):
        found = shutil.which(f"python{version}")
        candidates = [Path(found)] if found else []
        candidates += sorted(Path("/root/.pyenv/versions").glob(f"{version}.*/bin/python{version}"))
        for candidate in candidates:
            if candidate.is_file() and os.path.realpath(candidate) != os.path.realpath(sys.executable):
                return candidate
    return None


@pytest.mark.skipif(os.name == "nt", reason="POSIX venv layout (symlinked interpreter)")
def test_interpreter_swapped(project: Project) -> None:
    other = _python_other_than_current()
    if other is None:
        pytest.skip("no second Python on this machine")
    python = project.venv / "bin" / "python"
    python.unlink()
    python.symlink_to(other)
    result = run_check(project)
    assert kinds(result) == [drift.INTERPRETER_CHANGED]
    assert texts(result)[0].startswith("the interpreter of .venv changed: ")


@pytest.mark.skipif(os.name == "nt", reason="POSIX venv layout (symlinked interpreter)")
def test_interpreter_gone(project: Project, tmp_path: Path) -> None:
    copy = tmp_path / "pythons" / "python3"
    copy.parent.mkdir()
    shutil.copy2(os.path.realpath(sys.executable), copy)
    python = project.venv / "bin" / "python"
    python.unlink()
    python.symlink_to(copy)
    restamp(project)
    assert run_check(project).ok
    copy.unlink()
    result = run_check(project)
    assert kinds(result) == [drift.INTERPRETER_GONE]
    assert texts(result)[0].startswith("the interpreter of .venv is gone (Python ")


@pytest.mark.skipif(os.name == "nt", reason="POSIX venv layout (symlinked interpreter)")
def test_interpreter_binary_replaced_in_place(project: Project, tmp_path: Path) -> None:
    copy = tmp_path / "pythons" / "python3"
    copy.parent.mkdir()
    shutil.copy2(os.path.realpath(sys.executable), copy)
    python = project.venv / "bin" / "python"
    python.unlink()
    python.symlink_to(copy)
    restamp(project)
    os.utime(copy, ns=(time.time_ns(), time.time_ns() + 10**9))  # an upgrade in place (same path)
    result = run_check(project)
    assert kinds(result) == [drift.INTERPRETER_CHANGED]
    assert "was replaced since the sync" in texts(result)[0]


# --- the installed set ---


def test_distribution_removed(project: Project) -> None:
    shutil.rmtree(project.site_packages() / "prometheus_client-0.23.1.dist-info")
    result = run_check(project)
    assert texts(result) == ["prometheus-client 0.23.1 is locked but missing — run: envlock sync"]


def test_pip_from_outside_installs_into_the_venv(project: Project, kit_index: KitIndex) -> None:
    kit_index.publish(DistSpec("requests", "2.32.0"))
    pip_install(project, kit_index.url, "requests==2.32.0")
    result = run_check(project)
    assert texts(result) == ["requests 2.32.0 installed by pip, not in the lock — run: envlock sync"]
    assert result.drifts[0].subject == "requests"


def test_pip_replaces_a_locked_version(project: Project, kit_index: KitIndex) -> None:
    kit_index.publish(DistSpec("tinyweb", "2.0"))
    pip_install(project, kit_index.url, "tinyweb==2.0")
    result = run_check(project)
    assert texts(result) == ["tinyweb 2.0 installed by pip, the lock has 1.0 — run: envlock sync"]
    assert kinds(result) == [drift.DIST_CHANGED]


def test_pip_force_reinstall_of_a_locked_distribution(project: Project, kit_index: KitIndex) -> None:
    kit_index.publish(SPECS[1])
    pip_install(project, kit_index.url, "--force-reinstall", "tinyweb==1.0")
    result = run_check(project)
    assert texts(result) == [
        "tinyweb 1.0 was reinstalled or modified by pip since the sync — run: envlock sync"
    ]


def test_deep_names_modified_and_missing_files(project: Project) -> None:
    package = project.site_packages() / "tinyweb"
    (package / "app.py").write_text("x = 2\n")
    (package / "__init__.py").unlink()
    assert run_check(project).ok  # the fast path reads no package files
    result = run_check(project, deep=True)
    assert texts(result) == [
        "tinyweb 1.0: tinyweb/app.py was modified — run: envlock sync --verify",
        "tinyweb 1.0: tinyweb/__init__.py is missing — run: envlock sync --verify",
    ]
    assert kinds(result) == [drift.FILE_MODIFIED, drift.FILE_MISSING]
    assert drift.fixes(result) == ["envlock sync --verify"]


def test_every_drift_is_reported_at_once(project: Project) -> None:
    project.lock.write_text(project.lock.read_text() + "\n")
    shutil.rmtree(project.site_packages() / "tinyweb-1.0.dist-info")
    result = run_check(project)
    assert kinds(result) == [drift.LOCK_CHANGED, drift.DIST_REMOVED]
    lines = drift.report_lines(result, label=".venv")
    assert lines[0] == ".venv does not match its lock (2 problems):"
    assert drift.fixes(result) == ["envlock sync"]


def test_json_form(project: Project) -> None:
    shutil.rmtree(project.site_packages() / "tinyweb-1.0.dist-info")
    document = run_check(project).as_dict()
    assert document["ok"] is False
    assert document["drifts"] == [
        {
            "kind": "dist-removed",
            "subject": "tinyweb",
            "message": "tinyweb 1.0 is locked but missing",
            "fix": "envlock sync",
            "text": "tinyweb 1.0 is locked but missing — run: envlock sync",
        }
    ]


# --- values ---


def test_drift_is_immutable_and_comparable() -> None:
    one = drift.Drift(drift.LOCK_CHANGED, "pylock.toml", "changed", "envlock sync")
    with pytest.raises(AttributeError):
        one.kind = "x"  # type: ignore[misc]
    assert one == drift.Drift(drift.LOCK_CHANGED, "pylock.toml", "changed", "envlock sync")
    assert len({one, drift.Drift(drift.LOCK_CHANGED, "pylock.toml", "changed", "envlock sync")}) == 1
    assert "lock-changed" in repr(one)


def test_canonical_name() -> None:
    assert runtime.canonical_name("Prometheus__Client.x") == "prometheus-client-x"


# --- standard library only ---


def test_module_imports_only_the_standard_library(tmp_path: Path) -> None:
    # tomllib/tomli: guarded imports (3.11+ / 3.10); _sha2 / _sha256: CPython's built-in sha256, named
    # _sha2 from 3.12 and _sha256 before, so one of them is outside the running Python's stdlib list
    allowed = ("tomllib", "tomli", "_sha2", "_sha256")
    assert non_stdlib_imports(launch_checker(tmp_path), allowed) == set()


def test_launch_path_imports_little(project: Project, tmp_path: Path) -> None:
    code = (
        "sys.path.insert(0, sys.argv[1]); "
        "import _envlock_check as c; assert not c.main(['--venv', sys.argv[2]])"
    )
    launch_checker(tmp_path)
    loaded = modules_loaded([sys.executable, "-I", "-S"], code, [str(tmp_path), str(project.venv)])
    assert "_envlock_check" in loaded
    assert loaded - {"_envlock_check"} <= LAUNCH_PATH_MODULES, sorted(loaded - LAUNCH_PATH_MODULES)


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.10", "3.12", "3.13"])
def test_check_runs_on_older_and_newer_pythons(
    project: Project, version: str, available_pythons: dict[str, Path], tmp_path: Path
) -> None:
    python = available_pythons.get(version)
    if python is None:
        pytest.skip(f"no Python {version} here")
    command = [str(python), "-I", "-S", str(launch_checker(tmp_path)), "--venv", str(project.venv)]
    assert subprocess.run(command, capture_output=True, text=True, check=False).returncode == 0
    shutil.rmtree(project.site_packages() / "tinyweb-1.0.dist-info")
    failed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert failed.returncode == 1
    assert "tinyweb 1.0 is locked but missing" in failed.stderr
