"""The envlock command group: version, help, exit codes."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from envlock import __version__
from envlock.cli import cli


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output


def test_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "envlock", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: envlock" in result.stdout


def test_unknown_option_is_usage_error() -> None:
    result = CliRunner().invoke(cli, ["--no-such-option"])
    assert result.exit_code == 2


def test_help_imports_no_heavy_modules() -> None:
    code = (
        "import sys; from envlock.cli import cli\n"
        "heavy = [m for m in ('resolvelib', 'urllib3', 'installer', 'tomlkit') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
