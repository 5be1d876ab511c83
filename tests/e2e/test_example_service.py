"""The README's main job, offline: compile and sync the example service against the kit index (tiny
stand-in fastapi/uvicorn/prometheus-client wheels), start it through its launcher with demo.py, fetch
/metrics — and the original failure: a requirement added but never installed is refused before start."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sources import publish_backends

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "service"

PROMETHEUS = b"""
CONTENT_TYPE_LATEST = "text/plain; version=0.0.4; charset=utf-8"
_COUNTERS = []


class _Child:
    def __init__(self):
        self.value = 0.0

    def inc(self, amount=1.0):
        self.value += amount


class Counter:
    def __init__(self, name, documentation, labelnames=()):
        self.name, self.documentation, self.children = name, documentation, {}
        _COUNTERS.append(self)

    def labels(self, **labels):
        return self.children.setdefault(tuple(sorted(labels.items())), _Child())


def generate_latest():
    lines = []
    for counter in _COUNTERS:
        lines.append("# HELP %s_total %s" % (counter.name, counter.documentation))
        lines.append("# TYPE %s_total counter" % counter.name)
        for labels, child in sorted(counter.children.items()):
            text = ",".join('%s="%s"' % pair for pair in labels)
            lines.append("%s_total{%s} %s" % (counter.name, text, child.value))
    return ("\\n".join(lines) + "\\n").encode()
"""

FASTAPI = b"""
class Response:
    def __init__(self, content=b"", media_type="text/plain"):
        self.body, self.media_type = content, media_type


class FastAPI:
    def __init__(self, title=""):
        self.title, self.routes = title, {}

    def get(self, path):
        def register(handler):
            self.routes[path] = handler
            return handler
        return register
"""

UVICORN = b"""
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def run(app, host="127.0.0.1", port=8000, log_level="info"):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            handler = app.routes.get(self.path)
            if handler is None:
                self.send_error(404)
                return
            result = handler()
            body = getattr(result, "body", None)
            media_type = getattr(result, "media_type", "application/json")
            if body is None:
                body = json.dumps(result).encode()
            self.send_response(200)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer((host, port), Handler).serve_forever()
"""

STAND_INS = (
    DistSpec("prometheus-client", "0.23.1", files={"prometheus_client/__init__.py": PROMETHEUS}),
    DistSpec("fastapi", "0.115.0", files={"fastapi/__init__.py": FASTAPI}),
    DistSpec("uvicorn", "0.30.0", files={"uvicorn/__init__.py": UVICORN}),
    DistSpec("requests", "2.32.0"),
)


@pytest.fixture
def service(
    tmp_path: Path, kit_index: KitIndex, run_envlock: RunEnvlock, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A copy of examples/service, its lock compiled against the kit index, its launcher regenerated.
    The service installs itself editable (``-e .``): its build backend comes from the kit index too."""
    kit_index.publish(*STAND_INS)
    publish_backends(kit_index)
    monkeypatch.setenv("ENVLOCK_INDEX_URL", kit_index.url)  # where sync's builds find setuptools
    root = tmp_path / "service"
    (root / "backend").mkdir(parents=True)
    for name in ("requirements.in", "pyproject.toml", "demo.py", "backend/app.py", "backend/run_api.py"):
        shutil.copy(EXAMPLE / name, root / name)
    compiled = run_envlock(
        "compile", "requirements.in", "-o", "pylock.toml", "--index-url", kit_index.url, cwd=root
    )
    assert compiled.returncode == 0, compiled.stderr
    made = run_envlock(
        "launcher",
        "api",
        "--chdir",
        ".",
        "--guard",
        "backend",
        "--",
        "python",
        "backend/run_api.py",
        cwd=root,
    )
    assert made.returncode == 0, made.stderr
    return root


def test_committed_example_matches_its_generator() -> None:
    """The committed launcher and guard are what `envlock launcher` writes today."""
    from envlock.guard import launchers

    assert (EXAMPLE / "bin" / launchers.CHECK_SCRIPT).read_text() == launchers.checker_source()
    assert (EXAMPLE / "bin" / launchers.RUN_SCRIPT).read_text() == launchers.runner_source()
    assert (EXAMPLE / "backend" / launchers.GUARD_MODULE).read_text() == launchers.guard_source()
    spec = launchers.plan_launcher(
        "api",
        ["python", "backend/run_api.py"],
        out_dir=EXAMPLE / "bin",
        venv=EXAMPLE / ".venv",
        chdir=EXAMPLE,
        project=EXAMPLE,
    )
    assert (EXAMPLE / "bin" / "api").read_text() == launchers.render_posix(spec)
    with (EXAMPLE / "bin" / "api.cmd").open(newline="") as cmd:  # CRLF, as written
        assert cmd.read() == launchers.render_cmd(spec)
    assert (EXAMPLE / "bin" / "api.ps1").read_text() == launchers.render_ps1(spec)
    assert "prometheus-client" in (EXAMPLE / "pylock.toml").read_text()
    assert 'directory = {path = ".", editable = true}' in (EXAMPLE / "pylock.toml").read_text()


@pytest.mark.skipif(sys.platform == "win32", reason="runs the POSIX launcher")
def test_demo_syncs_starts_fetches_metrics_and_stops(service: Path) -> None:
    result = subprocess.run(
        [sys.executable, "demo.py", sys.executable, "-m", "envlock"],
        cwd=service,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "+4 installed" in result.stdout  # fastapi, uvicorn, prometheus-client and the service itself
    assert "# TYPE example_requests_total counter" in result.stdout
    assert 'example_requests_total{route="/metrics"} 1.0' in result.stdout
    assert result.stdout.rstrip().endswith("service stopped")


@pytest.mark.skipif(sys.platform == "win32", reason="runs the POSIX launcher")
def test_requirement_added_but_never_installed_is_refused(
    service: Path, run_envlock: RunEnvlock, kit_index: KitIndex
) -> None:
    assert run_envlock("sync", cwd=service).returncode == 0
    with (service / "requirements.in").open("a") as handle:
        handle.write("requests\n")
    refused = subprocess.run(
        [str(service / "bin" / "api"), "--port", "1"], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert (
        "api:   requirements.in changed since pylock.toml was compiled (requests not installed)"
        " — run: envlock compile && envlock sync"
    ) in refused.stderr.splitlines()
    # compiled but still not synced: the lock names it, the venv lacks it
    compiled = run_envlock(
        "compile", "requirements.in", "-o", "pylock.toml", "--index-url", kit_index.url, cwd=service
    )
    assert compiled.returncode == 0, compiled.stderr
    refused = subprocess.run([str(service / "bin" / "api")], capture_output=True, text=True, check=False)
    assert refused.returncode == 1
    # the venv's Python names what is missing on every version (the runtime's lock header reader)
    detail = " (missing: requests 2.32.0)"
    assert (
        f"api:   pylock.toml changed since .venv was synced{detail} — run: envlock sync"
        in refused.stderr.splitlines()
    )
    # the guard refuses too when the entry module is started directly with the venv's python
    direct = subprocess.run(
        [str(service / ".venv" / "bin" / "python"), "backend/run_api.py"],
        cwd=service,
        capture_output=True,
        text=True,
        check=False,
    )
    assert direct.returncode == 1
    assert "Traceback" not in direct.stderr
    assert direct.stderr.splitlines()[-1] == "envlock: refusing to start; run: envlock sync"


def test_run_with_sync_installs_what_the_lock_gained(
    service: Path, run_envlock: RunEnvlock, kit_index: KitIndex
) -> None:
    assert run_envlock("sync", cwd=service).returncode == 0
    with (service / "requirements.in").open("a") as handle:
        handle.write("requests\n")
    assert (
        run_envlock(
            "compile", "requirements.in", "-o", "pylock.toml", "--index-url", kit_index.url, cwd=service
        ).returncode
        == 0
    )
    refused = run_envlock("run", "--", "python", "-c", "import requests", cwd=service)
    assert refused.returncode == 1
    assert "pylock.toml changed since .venv was synced" in refused.stderr
    synced = run_envlock("run", "--sync", "--", "python", "-c", "import requests; print('ok')", cwd=service)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout == "ok\n"  # sync ran in-process; its summary went to stderr
    assert synced.stderr.startswith("synced .venv: +1 installed, ~0 replaced, -0 removed in ")
