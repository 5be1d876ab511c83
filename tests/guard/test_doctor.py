"""``envlock doctor``: PATH, VIRTUAL_ENV, wrong-place installs, lock/stamp state, cache, and the verdict."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from envlock.guard.doctor import FAIL, OK, WARN, DoctorInputs, diagnose
from tests.kit.dists import DistSpec
from tests.kit.plugin import RunEnvlock
from tests.kit.synced import Project, make_project

SPECS = (DistSpec("prometheus-client", "0.23.1"),)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj", SPECS)


def inputs(project: Project, path: Sequence[Path], **environ: str) -> DoctorInputs:
    env = {"PATH": os.pathsep.join(str(p) for p in path), **environ}
    return DoctorInputs(venv=project.venv, lock=None, environ=env, cache_dir=project.root / "cache")


def by_topic(report: object) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for finding in report.findings:  # type: ignore[attr-defined]
        found.setdefault(finding.topic, []).append((finding.status, finding.detail))
    return found


def test_healthy_venv_first_on_path(project: Project) -> None:
    report = diagnose(inputs(project, [project.python.parent], VIRTUAL_ENV=str(project.venv)))
    topics = by_topic(report)
    assert topics["python on PATH"][0][0] == OK
    assert topics["VIRTUAL_ENV"][0][0] == OK
    assert topics["venv"][0][0] == OK
    assert report.verdict == "healthy"
    assert report.ok


def test_python_and_pip_outside_the_venv(project: Project, tmp_path: Path) -> None:
    fake_bin = tmp_path / "system-bin"
    fake_bin.mkdir()
    for name in ("python", "pip"):
        (fake_bin / name).write_text("#!/bin/sh\nexit 1\n")
        (fake_bin / name).chmod(0o755)
    report = diagnose(inputs(project, [fake_bin, project.python.parent], VIRTUAL_ENV="/elsewhere"))
    topics = by_topic(report)
    assert topics["python on PATH"][0][0] == WARN
    assert "is not" in topics["python on PATH"][0][1]
    assert topics["pip on PATH"][0][0] == WARN
    assert "outside" in topics["pip on PATH"][0][1]
    assert topics["VIRTUAL_ENV"][0][0] == WARN
    assert report.verdict == "healthy, with warnings"


def test_locked_package_installed_in_the_base_python(project: Project) -> None:
    def runner(argv: Sequence[str]) -> str:
        return json.dumps([str(project.site_packages())])  # the "base" has the package

    report = diagnose(inputs(project, [project.python.parent]), runner=runner)
    detail = by_topic(report)["locked packages in the base Python"][0]
    assert detail[0] == WARN
    assert "prometheus-client 0.23.1" in detail[1]


def test_drift_and_stale_lock_fail(project: Project) -> None:
    project.requirements.write_text("prometheus-client\nfastapi\n")
    shutil.rmtree(project.site_packages() / "prometheus_client-0.23.1.dist-info")
    report = diagnose(inputs(project, [project.python.parent]))
    topics = by_topic(report)
    assert topics["lock freshness"] == [
        (FAIL, "requirements.in changed since pylock.toml was compiled (fastapi not installed)")
    ]
    assert (FAIL, "prometheus-client 0.23.1 is locked but missing") in topics["venv"]
    assert report.verdict == "problems found"


def test_cli_report_and_json(project: Project, run_envlock: RunEnvlock) -> None:
    result = run_envlock("doctor", cwd=project.root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("verdict: healthy")
    assert "[ok  ] venv: .venv matches" in result.stdout
    shutil.rmtree(project.site_packages() / "prometheus_client-0.23.1.dist-info")
    drifted = run_envlock("doctor", "--json", cwd=project.root)
    assert drifted.returncode == 1
    document = json.loads(drifted.stdout)
    assert document["verdict"] == "problems found"
    assert {"status", "topic", "detail", "fix"} == set(document["findings"][0])
