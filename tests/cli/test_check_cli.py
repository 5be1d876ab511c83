"""``envlock check``: exit codes, the human report, --json, --deep, --lock/--venv, and start-up imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.inputs import fresh_cache
from tests.cli.test_quick import RUN_MAIN
from tests.kit.dists import DistSpec
from tests.kit.imports import modules_loaded
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.synced import Project, make_project, restamp

SPECS = (DistSpec("prometheus-client", "0.23.1"), DistSpec("tinyweb", "1.0"))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj", SPECS)


def test_in_sync_is_silent(project: Project, run_envlock: RunEnvlock) -> None:
    result = run_envlock("check", cwd=project.root)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_verbose_says_one_line(project: Project, run_envlock: RunEnvlock) -> None:
    result = run_envlock("-v", "check", cwd=project.root)
    assert result.returncode == 0
    assert result.stdout == ".venv matches pylock.toml\n"


def test_drift_names_every_problem_and_the_fix(project: Project, run_envlock: RunEnvlock) -> None:
    project.lock.write_text(project.lock.read_text() + "\n")
    shutil.rmtree(project.site_packages() / "prometheus_client-0.23.1.dist-info")
    result = run_envlock("check", cwd=project.root)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: .venv does not match its lock (2 problems):",
        "  pylock.toml changed since .venv was synced — run: envlock sync",
        "  prometheus-client 0.23.1 is locked but missing — run: envlock sync",
        "hint: run: envlock sync",
    ]


def test_stale_lock_fix_is_compile_then_sync(project: Project, run_envlock: RunEnvlock) -> None:
    project.requirements.write_text("prometheus-client\ntinyweb\nfastapi\n")
    result = run_envlock("check", cwd=project.root)
    assert result.returncode == 1
    assert "requirements.in changed since pylock.toml was compiled" in result.stderr
    assert result.stderr.splitlines()[-1] == "hint: run: envlock compile && envlock sync"


def test_json_document(project: Project, run_envlock: RunEnvlock) -> None:
    clean = run_envlock("check", "--json", cwd=project.root)
    assert clean.returncode == 0
    assert json.loads(clean.stdout) == {
        "ok": True,
        "venv": ".venv",
        "lock": "pylock.toml",
        "drifts": [],
    }
    shutil.rmtree(project.site_packages() / "tinyweb-1.0.dist-info")
    drifted = run_envlock("check", "--json", cwd=project.root)
    assert drifted.returncode == 1
    document = json.loads(drifted.stdout)
    assert document["ok"] is False
    assert [d["kind"] for d in document["drifts"]] == ["dist-removed"]
    assert set(document["drifts"][0]) == {"kind", "subject", "message", "fix", "text"}


def test_deep_finds_edited_files(project: Project, run_envlock: RunEnvlock) -> None:
    (project.site_packages() / "tinyweb" / "__init__.py").write_text("patched = True\n")
    assert run_envlock("check", cwd=project.root).returncode == 0
    result = run_envlock("check", "--deep", cwd=project.root)
    assert result.returncode == 1
    assert "tinyweb 1.0: tinyweb/__init__.py was modified — run: envlock sync --verify" in result.stderr
    assert result.stderr.splitlines()[-1] == "hint: run: envlock sync --verify"


def test_other_venv_and_lock_appear_in_the_fix(
    project: Project, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    shutil.rmtree(project.site_packages() / "tinyweb-1.0.dist-info")
    result = run_envlock("check", "--venv", project.venv, "--lock", project.lock, cwd=tmp_path)
    assert result.returncode == 1
    assert f"hint: run: envlock sync {project.lock} --venv {project.venv}" in result.stderr


def test_no_venv(run_envlock: RunEnvlock, tmp_path: Path) -> None:
    result = run_envlock("check", cwd=tmp_path)
    assert result.returncode == 1
    assert "no virtual environment at .venv — run: envlock sync" in result.stderr


CLEAN_CHECK_MODULES = {
    "envlock",
    "envlock.quick",
    "envlock.option_table",
    "envlock.cache_dir",
    "envlock.inputs",
    "envlock.inputs.fresh_cache",
    "envlock.memo",
    "envlock.runtime",  # the layout, hashing and installed-distribution helpers: one module, not three
    "envlock.runtime.drift",
}
"""Every envlock module a clean check answered before click loads (each is an import on the measured path:
docs/benchmarks.md, issue 27). Change it only towards fewer modules, or say why."""


def test_check_imports_no_heavy_modules(project: Project) -> None:
    assert_light_check(project.root)


def test_cached_fresh_verdict_imports_no_heavy_modules(
    compiled: Path, run_envlock: RunEnvlock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_envlock("sync", cwd=compiled).returncode == 0
    assert run_envlock("check", cwd=compiled).returncode == 0  # parses the inputs once, caches "fresh"
    assert_light_check(compiled)
    # The answer before click: not even pathlib, typing, urllib or the freshness judge (milliseconds each).
    loaded = modules_loaded([sys.executable], RUN_MAIN, ["check"], cwd=compiled)
    assert {name for name in loaded if name.startswith("envlock")} == CLEAN_CHECK_MODULES
    assert {
        "pathlib",
        "typing",
        "urllib",
        "inspect",
        "dataclasses",
        "envlock.inputs.freshness",
    } & loaded == set()
    # Nor platformdirs when no cache folder is named: the verdict is looked up where it most likely is.
    monkeypatch.delenv("ENVLOCK_CACHE_DIR")
    assert run_envlock("check", cwd=compiled).returncode == 0  # caches "fresh" in XDG_CACHE_HOME
    loaded = modules_loaded([sys.executable], RUN_MAIN, ["check"], cwd=compiled)
    assert "envlock.quick" in loaded and "envlock.inputs.freshness" not in loaded
    assert not any(name.startswith("platformdirs") for name in loaded)


def test_a_clean_check_lists_no_folder_of_envlock(compiled: Path, run_envlock: RunEnvlock) -> None:
    """Its remembered verdict carries the identity of the code that judged it (a few dozen files, looked
    at one by one): no listing of envlock's every folder and module on the measured path."""
    assert run_envlock("sync", cwd=compiled).returncode == 0
    assert run_envlock("check", cwd=compiled).returncode == 0  # remembers "fresh"
    spy = (
        "import os\n"
        "listed = []\n"
        "real = os.scandir\n"
        "os.scandir = lambda path='.': listed.append(str(path)) or real(path)\n"
    )
    end = "\nprint('LISTED', len(listed), 'envlock.inputs.freshness' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", "import sys\n" + spy + RUN_MAIN + end, "check"],
        capture_output=True,
        text=True,
        cwd=compiled,
        check=False,
    )
    assert "LISTED 0 False" in result.stdout, result.stdout + result.stderr


def test_a_clean_check_loads_no_code_of_the_drift_path(compiled: Path, run_envlock: RunEnvlock) -> None:
    """What only a drift, ``--deep`` or a launcher needs is not in the modules a clean check loads."""
    assert run_envlock("sync", cwd=compiled).returncode == 0
    assert run_envlock("check", cwd=compiled).returncode == 0
    drift_path = (
        "lock_changes",
        "verify_record",
        "required_but_not_installed",
        "guard",
        "guard_or_exit",
        "main",
    )
    probe = (
        "\nnames = " + repr(drift_path) + "\n"
        "runtime = [m for m in sys.modules if m.startswith('envlock.runtime')]\n"
        "print('FOUND', sorted(m + '.' + n for m in runtime for n in names"
        " if hasattr(sys.modules[m], n) or hasattr(sys.modules[m], '_' + n)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import sys\n" + RUN_MAIN + probe, "check"],
        capture_output=True,
        text=True,
        cwd=compiled,
        check=False,
    )
    assert "FOUND []" in result.stdout, result.stdout + result.stderr


def assert_light_check(root: Path) -> None:
    code = (
        "import sys\n"
        "sys.argv = ['envlock', 'check']\n"
        "from envlock.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exit_:\n    assert exit_.code in (0, None), exit_.code\n"
        "heavy = ('resolvelib', 'urllib3', 'installer', 'tomlkit',"
        " 'packaging.requirements', 'packaging.pylock')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.strip() == ""


# --- lock freshness against its inputs (inputs.freshness): also inputs edited before the last sync ---


@pytest.fixture
def compiled(tmp_path: Path, kit_index: KitIndex, run_envlock: RunEnvlock) -> Path:
    """A project compiled by envlock against the kit index (so its lock records a real fingerprint)."""
    kit_index.publish(DistSpec("tinyweb", "1.0"), DistSpec("tinyweb", "2.0"), DistSpec("requests", "2.32.0"))
    root = tmp_path / "compiled"
    root.mkdir()
    (root / "requirements.in").write_text("tinyweb<2\n")
    result = run_envlock("compile", "--index-url", kit_index.url, cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def freshness_cache(tmp_path: Path) -> list[str]:
    folder = Path(os.environ["ENVLOCK_CACHE_DIR"]) / "v1" / fresh_cache.CACHE_AREA
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_input_edited_before_the_sync_is_caught(compiled: Path, run_envlock: RunEnvlock) -> None:
    """The gap of the sync-time baseline: requirements.in edited, never compiled, then a (new) venv synced."""
    (compiled / "requirements.in").write_text("tinyweb<2\nrequests\n")
    assert run_envlock("sync", cwd=compiled).returncode == 0
    result = run_envlock("check", cwd=compiled)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: .venv does not match its lock (1 problem):",
        "  requirements.in changed since pylock.toml was compiled (requests is not in the lock)"
        " — run: envlock compile && envlock sync",
        "hint: run: envlock compile && envlock sync",
    ]
    run = run_envlock("run", "--", "python", "-c", "print('ran')", cwd=compiled)
    assert (run.returncode, run.stdout) == (1, "")


def test_a_pin_the_lock_no_longer_meets(compiled: Path, run_envlock: RunEnvlock) -> None:
    (compiled / "requirements.in").write_text("tinyweb>=2\n")
    assert run_envlock("sync", cwd=compiled).returncode == 0
    result = run_envlock("check", "--json", cwd=compiled)
    drift = json.loads(result.stdout)["drifts"][0]
    assert (drift["kind"], drift["subject"]) == ("lock-stale", "requirements.in")
    assert drift["message"] == (
        "requirements.in changed since pylock.toml was compiled (tinyweb>=2: the lock has 1.0)"
    )


def test_an_edit_that_changes_nothing_resolved_still_counts(
    compiled: Path, run_envlock: RunEnvlock, kit_index: KitIndex
) -> None:
    (compiled / "requirements.in").write_text("tinyweb<1.5\n")
    assert run_envlock("sync", cwd=compiled).returncode == 0
    result = run_envlock("check", cwd=compiled)
    assert "(its input fingerprint differs)" in result.stderr
    # the same verdict as the exact offline test
    assert run_envlock("compile", "--index-url", kit_index.url, "--check", cwd=compiled).returncode == 1
    (compiled / "requirements.in").write_text("tinyweb<2\n")
    assert run_envlock("compile", "--index-url", kit_index.url, "--check", cwd=compiled).returncode == 0
    # inputs changed since the sync, yet they compile to this lock again: the CLI knows it is fresh
    assert run_envlock("check", cwd=compiled).returncode == 0


def test_comment_edit_after_the_sync_is_not_drift(compiled: Path, run_envlock: RunEnvlock) -> None:
    assert run_envlock("sync", cwd=compiled).returncode == 0
    (compiled / "requirements.in").write_text("# pinned below 2 until the API settles\ntinyweb<2\n")
    assert run_envlock("check", cwd=compiled).returncode == 0
    (compiled / "requirements.in").write_text("tinyweb<2\nrequests\n")
    result = run_envlock("check", cwd=compiled)
    expected = "requirements.in changed since pylock.toml was compiled (requests is not in the lock)"
    assert expected in result.stderr


def test_fresh_verdict_is_cached_and_comments_do_not_count(
    compiled: Path, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    (compiled / "requirements.in").write_text("# the web framework\ntinyweb < 2  # pinned below 2\n")
    assert run_envlock("sync", cwd=compiled).returncode == 0
    assert len(freshness_cache(tmp_path)) == 1  # the sync judged the lock fresh and remembered it
    for _ in range(2):  # answered by the sync's verdict: the same key
        assert run_envlock("check", cwd=compiled).returncode == 0
        assert len(freshness_cache(tmp_path)) == 1
    for name in freshness_cache(tmp_path):
        (Path(os.environ["ENVLOCK_CACHE_DIR"]) / "v1" / fresh_cache.CACHE_AREA / name).unlink()
    assert run_envlock("check", cwd=compiled).returncode == 0  # judged again, and remembered
    assert len(freshness_cache(tmp_path)) == 1


def test_launcher_path_sees_edits_before_and_after_the_sync(
    compiled: Path, run_envlock: RunEnvlock, kit_index: KitIndex
) -> None:
    """The stdlib launcher cannot parse requirements: the sync records that its lock was stale, and the
    launcher compares inputs with their sync-time hashes for edits made after the sync."""
    (compiled / "requirements.in").write_text("tinyweb<2\nrequests\n")
    assert run_envlock("sync", cwd=compiled).returncode == 0
    assert run_envlock("launcher", "app", "--", "python", "-c", "print('ran')", cwd=compiled).returncode == 0
    launched = subprocess.run([str(compiled / "bin" / "app")], capture_output=True, text=True, check=False)
    assert launched.returncode == 1
    assert "pylock.toml was older than requirements.in when .venv was synced" in launched.stderr
    run_envlock("compile", "--index-url", kit_index.url, cwd=compiled, check=True)
    run_envlock("sync", cwd=compiled, check=True)
    launched = subprocess.run([str(compiled / "bin" / "app")], capture_output=True, text=True, check=False)
    assert launched.stdout == "ran\n"
    (compiled / "requirements.in").write_text("tinyweb<2\nrequests\nfastapi\n")
    refused = subprocess.run([str(compiled / "bin" / "app")], capture_output=True, text=True, check=False)
    assert refused.returncode == 1
    assert "requirements.in changed since pylock.toml was compiled" in refused.stderr


def test_lock_not_compiled_by_envlock_is_not_judged(project: Project, run_envlock: RunEnvlock) -> None:
    project.requirements.write_text("something-else\n")
    restamp(project)  # synced after the edit; the lock has no fingerprint to compare with
    assert run_envlock("check", cwd=project.root).returncode == 0
