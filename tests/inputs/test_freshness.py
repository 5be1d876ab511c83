"""Lock freshness recomputed offline: fresh, stale, or unknown when only the network could tell."""

from __future__ import annotations

import os
from pathlib import Path

from envlock.inputs.freshness import STALE, UNKNOWN, verdict

LOCK = """lock-version = "1.0"
created-by = "envlock"
packages = []

[tool.envlock]
fingerprint = "sha256:0000"
inputs = ["requirements.in"]

[tool.envlock.options]
indexes = ["https://pypi.org/simple/"]
targets = ["cpython 3.11 on linux/x86_64"]
"""


def write_project(root: Path, requirements: str) -> Path:
    (root / "requirements.in").write_text(requirements)
    lock = root / "pylock.toml"
    lock.write_text(LOCK)
    return lock


def test_a_requirements_url_is_unknown_offline_not_stale(tmp_path: Path) -> None:
    lock = write_project(tmp_path, "-r https://config.example/base.in\n")
    found = verdict(lock, os.environ)
    assert found.state == UNKNOWN
    assert "need the network" in found.detail


def test_a_different_fingerprint_is_stale(tmp_path: Path) -> None:
    lock = write_project(tmp_path, "requests\n")
    found = verdict(lock, os.environ)
    assert found.state == STALE
    assert found.inputs == ("requirements.in",)


def test_an_input_that_no_longer_parses_is_stale(tmp_path: Path) -> None:
    lock = write_project(tmp_path, "fastapi>>=1\n")
    found = verdict(lock, os.environ)
    assert found.state == STALE
    assert "requirements.in:1" in found.detail


def test_a_lock_without_fingerprint_is_unknown(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text('lock-version = "1.0"\ncreated-by = "uv"\npackages = []\n')
    assert verdict(lock, os.environ).state == UNKNOWN
