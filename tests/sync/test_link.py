"""link: link modes from the environment, and the materializer that puts stored files into a venv."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from envlock.errors import InputError
from envlock.sync.link import LinkMode, Materializer, link_mode_from_env


def test_link_mode_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVLOCK_LINK_MODE", raising=False)
    assert link_mode_from_env() is LinkMode.AUTO
    monkeypatch.setenv("ENVLOCK_LINK_MODE", "Hardlink")
    assert link_mode_from_env() is LinkMode.HARDLINK
    assert link_mode_from_env("copy") is LinkMode.COPY
    monkeypatch.setenv("ENVLOCK_LINK_MODE", "symlink")
    with pytest.raises(InputError, match="unknown link mode 'symlink'"):
        link_mode_from_env()


def test_materializer_refuses_to_overwrite_and_copies_executable_bits(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.write_bytes(b"#!/bin/sh\n")
    source.chmod(0o555)
    placer = Materializer(LinkMode.COPY)
    placer.place(str(source), str(tmp_path / "copy"), executable=True)
    assert (tmp_path / "copy").read_bytes() == b"#!/bin/sh\n"
    assert os.access(tmp_path / "copy", os.X_OK) and os.access(tmp_path / "copy", os.W_OK)
    assert (tmp_path / "copy").stat().st_ino != source.stat().st_ino
    with pytest.raises(FileExistsError):
        placer.place(str(source), str(tmp_path / "copy"), executable=False)
