"""Git and local sources as an attacker shapes them (issue 26.4): a ``#subdirectory=`` that is a symbolic
link out of the repository, a lock's archive ``path`` naming a FIFO or ``/dev/zero``, a git server that
sends a byte a second. Each ends in one line naming the input, no traceback, no backend run outside the
repository, nothing read from the FIFO or the device, and git stopped by its no-progress deadline. The CLI
runs with a timeout as a guard (today's code hangs on some); no test asserts a wall-clock time."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec, build_sdist
from tests.kit.hostile import refused_cleanly
from tests.kit.raw_server import RawRequest, RawServer, Reply
from tests.kit.sources import commit_all

GUARD = 120
NO_INDEX = "http://127.0.0.1:9/simple/"
"""Nothing listens there: these compiles need no index."""
VENV = Path(".venv")


def envlock(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    command = [sys.executable, "-m", "envlock", *args]
    return subprocess.run(command, env=full, capture_output=True, text=True, timeout=GUARD, check=False)


def git_refused(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """A git failure: git's own (redacted) last lines may follow the error line."""
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_git_subdirectory_that_is_a_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    sdist = build_sdist(DistSpec("outside", "1.0", sdist=True), tmp_path / "sdists")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    (outside,) = (tmp_path / "unpacked").iterdir()
    sentinel = tmp_path / "backend-ran"
    backend = outside / "_kit_backend" / "kit_backend.py"
    backend.write_text(f"open({str(sentinel)!r}, 'w').close()\n" + backend.read_text())
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README").write_text("hi\n")
    (repo / "link").symlink_to(outside)
    commit = commit_all(repo, "a link out")
    Path("requirements.in").write_text(f"outside @ git+{repo.as_uri()}@{commit}#subdirectory=link\n")
    result = envlock("compile", "--index-url", NO_INDEX)
    refused_cleanly(result, "subdirectory", "symbolic link")
    assert not sentinel.exists()
    assert not Path("pylock.toml").exists()


def _archive_lock(path: str) -> None:
    Path("pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "x"\n\n[[packages]]\nname = "alpha"\nversion = "1.0"\n'
        f'archive = {{path = "{path}", hashes = {{sha256 = "{"0" * 64}"}}}}\n'
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_an_archive_path_naming_a_fifo_is_refused_without_blocking() -> None:
    os.mkfifo("alpha-1.0-py3-none-any.whl")
    _archive_lock("alpha-1.0-py3-none-any.whl")
    refused_cleanly(envlock("sync", "--venv", str(VENV)), "alpha-1.0-py3-none-any.whl", "FIFO", code=2)
    assert not VENV.exists()


@pytest.mark.skipif(os.name == "nt", reason="/dev/zero")
def test_an_archive_path_naming_a_device_is_refused_before_reading(isolated: Path) -> None:
    Path("alpha-1.0-py3-none-any.whl").symlink_to("/dev/zero")  # a link checked into a repository
    _archive_lock("alpha-1.0-py3-none-any.whl")
    # The cap keeps today's code (which reads until ENVLOCK_MAX_DOWNLOAD_SIZE) from filling the disk.
    result = envlock("sync", "--venv", str(VENV), env={"ENVLOCK_MAX_DOWNLOAD_SIZE": "4M"})
    refused_cleanly(result, "alpha-1.0-py3-none-any.whl", "device", code=2)
    assert not VENV.exists()
    cache = Path(os.environ.get("ENVLOCK_CACHE_DIR", isolated / "envlock-cache"))
    assert sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) < 1 << 20


def test_a_git_server_trickling_bytes_is_stopped_by_the_no_progress_deadline() -> None:
    def handler(request: RawRequest, reply: Reply) -> None:
        reply.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        reply.trickle(every=0.5)

    with RawServer(handler) as server:
        Path("requirements.in").write_text(f"lib @ git+{server.url('/lib.git')}@main\n")
        result = envlock("compile", "--index-url", NO_INDEX, env={"ENVLOCK_GIT_STALL_TIMEOUT": "2"})
    git_refused(result, "/lib.git", "git ls-remote failed")
    assert not Path("pylock.toml").exists()
