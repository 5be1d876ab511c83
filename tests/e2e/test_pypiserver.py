"""End to end against a real third-party index server (pypiserver): HTML-only simple pages, no PEP 658
metadata files, no JSON — compile must fall back to the HTML API and wheel metadata, sync must install."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec, build_all
from tests.kit.plugin import RunEnvlock
from tests.kit.venvs import venv_python

pytest.importorskip("pypiserver", reason="pypiserver is a test dependency (requirements.in)")

SPECS = (
    DistSpec("web-app", "1.0", requires=("lib-core>=2", "lib-extra[fast]; python_version >= '3.8'")),
    DistSpec("lib-core", "1.0"),
    DistSpec("lib-core", "2.0", console_scripts={"lib-core": "lib_core:main"}),
    DistSpec("lib-core", "3.0rc1"),
    DistSpec("lib-extra", "0.5", extras=("fast",), requires=("speedup; extra == 'fast'",)),
    DistSpec("speedup", "1.2", wheel=False, sdist=True),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def pypiserver(tmp_path: Path) -> Iterator[str]:
    packages = tmp_path / "packages"
    packages.mkdir()
    for spec in SPECS:
        build_all(spec, packages)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pypiserver", "run", "-p", str(port), "-i", "127.0.0.1", str(packages)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/simple/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("pypiserver did not start")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_compile_sync_check_against_pypiserver(
    pypiserver: str, run_envlock: RunEnvlock, isolated: Path
) -> None:
    (isolated / "requirements.in").write_text("web-app\n")
    run_envlock("compile", "--index-url", pypiserver, check=True)
    lock = (isolated / "pylock.toml").read_text()
    assert 'name = "lib-core"\nversion = "2.0"' in lock, "3.0rc1 is a prerelease: not chosen without --pre"
    assert 'name = "speedup"\nversion = "1.2"' in lock, "the sdist-only extra dependency is locked"
    assert pypiserver.removesuffix("simple/") + "packages/" in lock

    run_envlock("sync", check=True)
    python = venv_python(isolated / ".venv")
    code = "import web_app, lib_core, lib_extra, speedup; print(lib_core.__version__, speedup.__version__)"
    imported = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    assert imported.stdout.split() == ["2.0", "1.2"]
    assert run_envlock("check").returncode == 0
    script = isolated / ".venv" / "bin" / "lib-core"
    assert subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout.strip()
