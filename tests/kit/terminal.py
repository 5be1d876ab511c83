"""A command run with its stderr on a pseudo-terminal, as a user at a terminal sees it: for the output
that differs there (status lines redrawn in place)."""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Mapping, Sequence


def run_on_terminal(argv: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[int, bytes, bytes]:
    """``argv`` with stderr on a terminal (stdout a pipe, stdin closed), ``env`` laid over os.environ:
    the exit code, what stdout got and what the terminal got."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, **(env or {})},
    )
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    stdout, _ = process.communicate(timeout=120)
    return process.returncode, stdout, seen
