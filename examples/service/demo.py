"""The README's main job on the example service: sync its venv with envlock, start the service through its
launcher on a free port, fetch /metrics, print the first lines, stop the service.

    python examples/service/demo.py ENVLOCK_COMMAND...   (e.g. `.venv/bin/envlock` or `python -m envlock`)

Standard library only; exits 0 on success, non-zero (with the reason) otherwise.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "bin" / ("api.cmd" if os.name == "nt" else "api")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def fetch(url: str, deadline: float, server: subprocess.Popen[bytes]) -> bytes:
    """GET ``url``, retrying while the server starts; fails early if the server exits."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body: bytes = response.read()
                return body
        except (urllib.error.URLError, ConnectionError, OSError):
            if server.poll() is not None:
                raise SystemExit(
                    f"the service exited with code {server.returncode} before answering"
                ) from None
            if time.monotonic() > deadline:
                raise SystemExit(f"no answer from {url}") from None
            time.sleep(0.1)


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.CTRL_BREAK_EVENT if os.name == "nt" else signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    envlock = argv  # the envlock command: an executable, or e.g. `python -m envlock`
    print(f"+ envlock sync (in {HERE.name}/)", flush=True)
    synced = subprocess.run([*envlock, "sync", "pylock.toml", "--venv", ".venv"], cwd=HERE, check=False)
    if synced.returncode != 0:
        return synced.returncode
    port = free_port()
    print(f"+ bin/api --port {port}", flush=True)
    flags = subprocess.CREATE_NEW_PROCESS_GROUP if os.name == "nt" else 0
    server = subprocess.Popen([str(LAUNCHER), "--port", str(port)], creationflags=flags)
    try:
        body = fetch(f"http://127.0.0.1:{port}/metrics", time.monotonic() + 60, server)
    finally:
        stop(server)
    lines = body.decode("utf-8", "replace").splitlines()
    print(f"GET /metrics -> {len(lines)} lines; the first ones:")
    for line in lines[:8]:
        print(f"  {line}")
    print("service stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
