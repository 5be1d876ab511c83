"""Errors are rendered in one place (``errors.render``): the click group and the answers given before
click is imported print the same ``error:`` / ``hint:`` bytes and exit code for the same error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from envlock.errors import DriftError, InputError, render

QUICK_MAIN = (
    "import runpy, sys; sys.argv = ['envlock', *sys.argv[1:]]; "
    "runpy.run_module('envlock', run_name='__main__')"
)
CLICK_MAIN = "import sys; from envlock.cli import main; sys.argv[0] = 'envlock'; main()"


def _run(main: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", main, *args], capture_output=True, text=True, timeout=120)


def test_render_is_the_error_lines_with_control_characters_escaped() -> None:
    assert render(InputError("requirements.in:3: bad", hint="fix it")) == (
        "error: requirements.in:3: bad\nhint: fix it\n"
    )
    assert render(DriftError("a\x1b[2Jb")) == "error: a\\x1b[2Jb\n"


@pytest.mark.usefixtures("isolated")
def test_a_drifted_check_reports_alike_with_and_without_click(tmp_path: Path) -> None:
    """A venv named with a terminal escape: both paths show it escaped, never as raw control bytes."""
    venv = "v\x1b[31mred"
    quick, full = _run(QUICK_MAIN, "check", "--venv", venv), _run(CLICK_MAIN, "check", "--venv", venv)
    assert quick.returncode == full.returncode == 1
    assert quick.stderr == full.stderr
    assert "\x1b" not in quick.stderr and "v\\x1b[31mred" in quick.stderr
